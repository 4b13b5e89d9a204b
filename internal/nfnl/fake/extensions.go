package fake

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// extensionTable lists the x_tables matches (lower case) and targets
// (upper case) of a Linux 6.x kernel with every netfilter module, and the
// revisions nfnetlink_compat confirms for each, for ip and for ip6 ("-"
// for none). It was read from a 6.18 kernel; TestFakeKernelMatches
// compares it with the running kernel's answers.
const extensionTable = `
addrtype 0,1 1
ah 0 0
bpf 0,1 0,1
cgroup 0,1,2 0,1,2
cluster 0 0
comment 0 0
connbytes 0 0
connlabel 0 0
connlimit 1 1
connmark 1 1
conntrack 1,2,3 1,2,3
cpu 0 0
dccp 0 0
devgroup 0 0
dscp 0 0
dst - 0
ecn 0 0
esp 0 0
eui64 - 0
frag - 0
hashlimit 1,2,3 1,2,3
hbh - 0
helper 0 0
hl - 0
icmp 0 -
icmp6 - 0
ipcomp 0 0
iprange 1 1
ipv6header - 0
length 0 0
limit 0 0
mac 0 0
mark 1 1
mh - 0
multiport 1 1
nfacct 0,1 0,1
osf 0 -
owner 1 1
physdev 0 0
pkttype 0 0
policy 0 0
quota 0 0
rateest 0 0
realm 0 -
recent 0,1 0,1
rpfilter 0 0
rt - 0
sctp 0 0
set 0,1,2,3,4 1,2,3,4
socket 0,1,2,3 1,2,3
srh - 0,1
state 0 0
statistic 0 0
string 1 1
tcp 0 0
tcpmss 0 0
time 0 0
tos 1 1
ttl 0 -
u32 0 0
udp 0 0
AUDIT 0 0
CHECKSUM 0 0
CLASSIFY 0 0
CONNMARK 1,2 1,2
CONNSECMARK 0 0
CT 0,1,2 0,1,2
DNAT 0,1,2 1,2
DNPT - 0
DSCP 0 0
ECN 0 -
HL - 0
HMARK 0 0
IDLETIMER 0,1 0,1
LOG 0 0
MARK 2 2
MASQUERADE 0 0
NETMAP 0 0
NFLOG 0 0
NFQUEUE 0,1,2,3 0,1,2,3
NOTRACK 0 0
RATEEST 0 0
REDIRECT 0 0
REJECT 0 0
SECMARK 0,1 0,1
SET 0,1,2,3 1,2,3
SNAT 0,1,2 1,2
SNPT - 0
SYNPROXY 0 0
TCPMSS 0 0
TCPOPTSTRIP 0 0
TEE 1 1
TOS 1 1
TPROXY 0,1 1
TRACE 0 0
TTL 0 -
`

// Extension is one x_tables match or target a default Kernel has.
type Extension struct {
	Name   string
	Target bool
	// IPv4 and IPv6 are the revisions the kernel has for each family.
	IPv4, IPv6 []uint32
}

// Extensions returns the default extension table, in its order.
func Extensions() []Extension {
	var out []Extension
	for _, l := range strings.Split(strings.TrimSpace(extensionTable), "\n") {
		f := strings.Fields(l)
		out = append(out, Extension{Name: f[0], Target: strings.ToUpper(f[0]) == f[0], IPv4: revisions(f[1]), IPv6: revisions(f[2])})
	}
	return out
}

func revisions(s string) []uint32 {
	if s == "-" {
		return nil
	}
	var out []uint32
	for _, r := range strings.Split(s, ",") {
		n, _ := strconv.Atoi(r)
		out = append(out, uint32(n))
	}
	return out
}

// defaultExtensions indexes Extensions by kind, family and name.
var defaultExtensions = func() map[extKey][]uint32 {
	m := map[extKey][]uint32{}
	for _, e := range Extensions() {
		m[extKey{e.Name, e.Target, unix.NFPROTO_IPV4}] = e.IPv4
		m[extKey{e.Name, e.Target, unix.NFPROTO_IPV6}] = e.IPv6
	}
	return m
}()

type extKey struct {
	name   string
	target bool
	family uint8
}

// defaultExtension answers for a Kernel with nil Extensions: the exact
// revision must exist, as nfnetlink_compat requires.
func defaultExtension(family uint8, name string, rev uint32, target bool) bool {
	for _, r := range defaultExtensions[extKey{name, target, family}] {
		if r == rev {
			return true
		}
	}
	return false
}
