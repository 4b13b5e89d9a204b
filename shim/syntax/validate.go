package syntax

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode"
)

// protoNames maps the protocol names iptables 1.8.9 accepts for -p (its own
// table plus the netbase /etc/protocols names, lower-cased as iptables
// lower-cases its argument) to their numbers. A built-in table, because the
// shim may run in an image without /etc/protocols.
var protoNames = map[string]int{
	"all": 0, "ip": 0, "hopopt": 0, "icmp": 1, "igmp": 2, "ggp": 3, "ipencap": 4, "st": 5, "tcp": 6,
	"egp": 8, "igp": 9, "pup": 12, "udp": 17, "hmp": 20, "xns-idp": 22, "rdp": 27, "iso-tp4": 29,
	"dccp": 33, "xtp": 36, "ddp": 37, "idpr-cmtp": 38, "ipv6": 41, "ipv6-route": 43, "ipv6-frag": 44,
	"idrp": 45, "rsvp": 46, "gre": 47, "esp": 50, "ah": 51, "skip": 57, "ipv6-icmp": 58, "icmpv6": 58,
	"ipv6-nonxt": 59, "ipv6-opts": 60, "rspf": 73, "vmtp": 81, "eigrp": 88, "ospf": 89, "ax.25": 93,
	"ipip": 94, "etherip": 97, "encap": 98, "pim": 103, "ipcomp": 108, "vrrp": 112, "l2tp": 115,
	"isis": 124, "sctp": 132, "fc": 133, "mobility-header": 135, "mh": 135, "udplite": 136,
	"mpls-in-ip": 137, "manet": 138, "hip": 139, "shim6": 140, "wesp": 141, "rohc": 142, "ethernet": 143,
}

// protoNumber parses a numeric protocol.
func protoNumber(s string) (int, bool) {
	n, ok := decimal(s, 255)
	return int(n), ok
}

// decimal is strconv.ParseUint(s, 10, bits) == nil for the largest value
// max of bits, without the error value ParseUint allocates: names are
// tried as numbers first on every rule ("-p tcp").
func decimal(s string, max uint64) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
		if n > max {
			return 0, false
		}
	}
	return n, true
}

// protoNameOf is the name iptables loads a match by for protocol number n.
func protoNameOf(n int) string {
	switch n {
	case 1:
		return "icmp"
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 58:
		return "ipv6-icmp"
	case 132:
		return "sctp"
	}
	return ""
}

// ProtocolNumber returns the IP protocol number of a -p value as iptables
// 1.8.9 resolves it (case-insensitive names, decimal numbers).
func ProtocolNumber(proto string) (int, bool) {
	p := strings.ToLower(proto)
	if n, ok := protoNumber(p); ok {
		return n, true
	}
	n, ok := protoNames[p]
	return n, ok
}

func checkProtocol(p string) error {
	if _, ok := ProtocolNumber(p); !ok {
		return paramErr("unknown protocol \"%s\" specified", p)
	}
	return nil
}

// checkAddresses validates a -s/-d value: a comma-separated list of
// addresses with optional prefix length or netmask. Host names are refused:
// resolving them would make the parse depend on DNS.
func checkAddresses(v string, fam Family) error {
	for a := range strings.SplitSeq(v, ",") {
		host, mask, hasMask := strings.Cut(a, "/")
		ip, err := netip.ParseAddr(host)
		if err != nil || (fam == IPv4) != ip.Is4() || ip.Zone() != "" {
			return paramErr("host/network `%s' not found", host)
		}
		if !hasMask {
			continue
		}
		bits := 32
		if fam == IPv6 {
			bits = 128
		}
		if n, err := strconv.Atoi(mask); err == nil && n >= 0 && n <= bits && mask[0] != '+' {
			continue
		}
		if m, err := netip.ParseAddr(mask); err == nil && m.Is4() == (fam == IPv4) {
			continue
		}
		return paramErr("invalid mask `%s' specified", mask)
	}
	return nil
}

func checkInterface(v string) error {
	if v == "" {
		return paramErr("Empty interface is likely to be undesired")
	}
	if len(v) >= 16 {
		return paramErr("interface name `%s' must be shorter than IFNAMSIZ (15)", v)
	}
	return nil
}

// maxChainNameLen is XT_EXTENSION_MAXNAMELEN-1 - the longest chain name.
const maxChainNameLen = 28

// checkNewChainName applies iptables' checks on a chain it is asked to
// create or rename to.
func checkNewChainName(name string, fam Family) error {
	if name == "" {
		return paramErr("empty chain name is not allowed")
	}
	if name[0] == '-' || name[0] == '!' {
		return paramErr("chain name not allowed to start with `%c'", name[0])
	}
	if KnownTarget(name, fam) || ExtensionShipped(name, true, fam) {
		return paramErr("chain name may not clash with target name")
	}
	if strings.IndexFunc(name, unicode.IsSpace) >= 0 {
		return paramErr("Invalid chain name `%s'", name)
	}
	if len(name) > maxChainNameLen {
		return paramErr("chain name `%s' too long (must be under %d chars)", name, maxChainNameLen+1)
	}
	return nil
}

// strtoul mimics C strtoul(s, &end, 0) over the whole string: base prefix
// 0x or 0 allowed, nothing may follow.
func strtoul(s string, bits int) (uint64, bool) {
	if s == "" || s[0] == '-' || s[0] == '+' {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 0, bits)
	if err != nil && strings.HasPrefix(s, "0") && !strings.HasPrefix(s, "0x") && !strings.HasPrefix(s, "0X") {
		// ParseUint base 0 wants "0o" for octal; C takes a bare leading 0.
		n, err = strconv.ParseUint(s[1:], 8, bits)
		if s == "0" {
			n, err = 0, nil
		}
	}
	return n, err == nil
}

var ctStates = map[string]bool{"INVALID": true, "NEW": true, "ESTABLISHED": true, "RELATED": true, "UNTRACKED": true, "SNAT": true, "DNAT": true}

var addrTypes = map[string]bool{"UNSPEC": true, "UNICAST": true, "LOCAL": true, "BROADCAST": true, "ANYCAST": true,
	"MULTICAST": true, "BLACKHOLE": true, "UNREACHABLE": true, "PROHIBIT": true, "THROW": true, "NAT": true, "XRESOLVE": true}

var rejectTypes = map[Family]map[string]bool{
	IPv4: {"icmp-net-unreachable": true, "net-unreach": true, "icmp-host-unreachable": true, "host-unreach": true,
		"icmp-proto-unreachable": true, "proto-unreach": true, "icmp-port-unreachable": true, "port-unreach": true,
		"icmp-net-prohibited": true, "net-prohib": true, "icmp-host-prohibited": true, "host-prohib": true,
		"tcp-reset": true, "tcp-rst": true, "icmp-admin-prohibited": true, "admin-prohib": true},
	IPv6: {"icmp6-no-route": true, "no-route": true, "icmp6-adm-prohibited": true, "adm-prohibited": true,
		"icmp6-addr-unreachable": true, "addr-unreach": true, "icmp6-port-unreachable": true, "port-unreach": true,
		"tcp-reset": true, "icmp6-policy-fail": true, "policy-fail": true, "icmp6-reject-route": true, "reject-route": true},
}

// services are the /etc/services names accepted for ports. Unknown names
// are refused rather than guessed.
var services = map[string]int{"ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53,
	"bootps": 67, "bootpc": 68, "tftp": 69, "http": 80, "www": 80, "pop3": 110, "ntp": 123, "imap2": 143,
	"snmp": 161, "bgp": 179, "ldap": 389, "https": 443, "submission": 587, "ldaps": 636}

// ParsePort resolves a port as iptables does: a decimal number up to 65535
// or a service name.
func ParsePort(s string) (int, bool) {
	if n, ok := decimal(s, 65535); ok {
		return int(n), true
	}
	n, ok := services[s]
	return n, ok
}

func checkPortRange(v string) error {
	lo, hi, isRange := strings.Cut(v, ":")
	for _, p := range []string{lo, hi} {
		if p == "" && isRange {
			continue
		}
		if _, ok := ParsePort(p); !ok {
			return paramErr("invalid port/service `%s' specified", p)
		}
		if !isRange {
			break
		}
	}
	return nil
}

// validate checks an option value of extension e with validator kind.
func validate(kind string, e *extension, opt string, v string, fam Family) error {
	switch kind {
	case "portrange":
		return checkPortRange(v)
	case "portlist":
		n := 0
		for p := range strings.SplitSeq(v, ",") {
			if err := checkPortRange(p); err != nil {
				return err
			}
			n++
			if strings.Contains(p, ":") {
				n++
			}
		}
		if n > 15 {
			return paramErr("too many ports specified")
		}
	case "markmask":
		val, mask, hasMask := strings.Cut(v, "/")
		_, ok1 := strtoul(val, 32)
		_, ok2 := strtoul(mask, 32)
		if !ok1 || (hasMask && !ok2) {
			return paramErr("%s: bad integer value for option \"--%s\", or out of range.\n", e.name, opt)
		}
	case "uint32":
		if _, ok := strtoul(v, 32); !ok {
			return paramErr("%s: bad value for option \"--%s\", or out of range (0-4294967295).\n", e.name, opt)
		}
	case "uint8":
		if _, ok := strtoul(v, 8); !ok {
			return paramErr("%s: bad value for option \"--%s\", or out of range (0-255).\n", e.name, opt)
		}
	case "ctstate", "state":
		for s := range strings.SplitSeq(v, ",") {
			if !ctStates[s] || (kind == "state" && (s == "SNAT" || s == "DNAT")) {
				if kind == "state" {
					return paramErr("Bad state \"%s\"", s)
				}
				return paramErr("Bad ctstate \"%s\"", s)
			}
		}
	case "addrtype":
		for s := range strings.SplitSeq(v, ",") {
			if !addrTypes[strings.ToUpper(s)] {
				return paramErr("addrtype: bad type \"%s\"", s)
			}
		}
	case "statmode":
		if v != "random" && v != "nth" {
			return paramErr("Bad mode \"%s\"", v)
		}
	case "probability":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 {
			return paramErr("statistic: bad value for option \"--probability\", or out of range (0-1).\n")
		}
	case "rejectwith":
		if !rejectTypes[fam][v] {
			return paramErr("unknown reject type \"%s\"", v)
		}
	case "loglevel":
		return checkLogLevel(v)
	case "rate":
		return checkRate(v)
	case "comment":
		if len(v) > 255 {
			return paramErr("comment: option \"--comment\" must be less than 256 characters.\n")
		}
	}
	return nil
}
