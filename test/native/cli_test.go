package native_test

import (
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// The command-line surface beside the rules themselves, each line run in
// both namespaces (iptables-nft 1.8.9 and the shim in native mode) and
// compared by stdout, stderr and exit status, then by kernel state.

// verboseScript is -v on every write and read command, as iptables'
// shell tests iptables/0002-verbose-output and chain/0007 exercise it.
var verboseScript = []string{
	"-v -A FORWARD -i eth2 -o eth3 -s 10.0.0.1 -d 10.0.0.2 -j ACCEPT",
	"-v -I FORWARD 2 -i eth2 -o eth3 -s 10.0.0.4 -d 10.0.0.5 -j ACCEPT",
	"-v -C FORWARD -i eth2 -o eth3 -s 10.0.0.1 -d 10.0.0.2 -j ACCEPT",
	"-v -C FORWARD -j DROP",
	"-v -n -L", "-v -N foobar", "-v -N foobar",
	"-v -I FORWARD -s 1.1.1.1,2.2.2.2 -d 3.3.3.3,4.4.4.4 -j DROP", "-v -D FORWARD -s 1.1.1.1,2.2.2.2 -d 3.3.3.3,4.4.4.4 -j DROP",
	"-v -A foobar -p tcp --dport 22 -m comment --comment \"hi there\" -j REJECT",
	"-v -A foobar ! -p udp ! -s 1.2.3.0/24 -d 1.2.3.4/255.0.255.0 -f -g foobar",
	"-v -A foobar -p 47 -j ACCEPT", "-v -A foobar -p 200", "-v -A foobar -p sctp -m sctp --dport 1",
	"-v -A foobar -p icmp -m icmp --icmp-type 8 -j DROP", "-v -A foobar -m conntrack --ctstate NEW,ESTABLISHED",
	"-v -R foobar 1 -s 1.1.1.1 -j DROP", "-v -I foobar -j RETURN",
	"-v -D foobar 2", "-v -D foobar -s 1.1.1.1 -j DROP", "-v -D foobar -s 1.1.1.9 -j DROP",
	"-v -D FORWARD -i eth2 -o eth3 -s 10.0.0.1 -d 10.0.0.2 -j ACCEPT",
	"-v -F", "-v -Z", "-v -F OUTPUT", "-v -Z OUTPUT", "-v -F foobar", "-v -Z foobar",
	"-v -E foobar foo2", "-v -P FORWARD DROP", "-v -P FORWARD ACCEPT", "-v -X foo2", "-v -X",
	"-t nat -v -A PREROUTING -p tcp --dport 22 -j DNAT --to-destination 1.2.3.4",
	"-t nat -v -A POSTROUTING -o eth0 -j MASQUERADE --to-ports 1024-2000",
	"-t nat -L -v -n -x --line-numbers", "-t nat -L -v", "-t nat -L PREROUTING 1 -v -n",
	"-L -Z -v -n", "-Z -v", "-L -v -x", "-L NOPE -v", "-t nat -v -F", "-t nat -v -X",
}

var verboseScript6 = []string{
	"-v -A FORWARD -i eth2 -o eth3 -s feed:babe::1 -d feed:babe::2 -j ACCEPT",
	"-v -I FORWARD 2 ! -s feed:babe::4 -d ::/0 -p udp -j ACCEPT",
	"-v -C FORWARD -i eth2 -o eth3 -s feed:babe::1 -d feed:babe::2 -j ACCEPT",
	"-v -N c6", "-v -A c6 -p tcp --dport 22 -s fd00::/8", "-v -n -L", "-v -L",
	"-v -D FORWARD 1", "-v -F", "-v -X",
}

func TestVerboseDifferential(t *testing.T) {
	for _, fam := range []string{"4", "6"} {
		t.Run("v"+fam, func(t *testing.T) {
			p := newPair(t)
			script := verboseScript
			if fam == "6" {
				script = verboseScript6
			}
			for _, l := range script {
				p.both(progFor(fam), l)
				p.state(l)
			}
			p.report()
		})
	}
}

// verboseDump is iptables' shell test ipt-restore/0014-verbose-restore's
// payload, with comment lines added.
const verboseDump = `# leading comment
*filter
:foo - [0:0]
:bar - [0:0]
# a comment inside
-A foo -j ACCEPT
-A bar -p tcp --dport 80 -j foo
COMMIT
*nat
:natfoo - [0:0]
:natbar - [0:0]
-A natfoo -j ACCEPT
COMMIT
*raw
:rawfoo - [0:0]
COMMIT
*mangle
:manglefoo - [0:0]
COMMIT
*security
:secfoo - [0:0]
COMMIT
# trailing comment
`

const verboseNoflushDump = `*filter
:baz - [0:0]
-F foo
-X bar
-A foo -j ACCEPT
COMMIT
`

func TestRestoreVerboseDifferential(t *testing.T) {
	for _, prog := range []string{"iptables-restore", "ip6tables-restore"} {
		t.Run(prog, func(t *testing.T) {
			p := newPair(t)
			p.stdin(verboseDump, prog)
			p.state("restore")
			p.stdin(verboseDump, prog, "-v", "--test")
			p.state("restore -v --test")
			p.stdin(verboseDump, prog, "-v")
			p.state("restore -v")
			p.stdin(verboseNoflushDump, prog, "-v", "--noflush")
			p.state("restore -v --noflush")
			p.stdin("*filter\n:INPUT DROP [0:0]\n:x - [0:0]\n-A x -j ACCEPT\n-F\n-X x\n# c\n-A INPUT -j ACCEPT\nCOMMIT\n", prog, "-v")
			p.state("restore -v -F -X x")
			p.stdin("*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n", prog, "-v")
			p.state("restore -v keeps a DROP built-in chain")
			p.stdin("*filter\n:x - [0:0]\n-A x -j ACCEPT\n-X nope\nCOMMIT\n", prog, "-v")
			p.state("restore -v failing")
			p.stdin("*filter\n-A INPUT -j ACCEPT\nCOMMIT\n*nat\n:y - [0:0]\n-A y -j DROP\nCOMMIT\n", prog, "-v")
			p.state("restore -v failing in a later table")
			p.report()
		})
	}
}

// extraBaseChains is chain/0004extra-base's ruleset: base chains nft made
// beside iptables' own on the same hook.
const extraBaseChains = `table ip filter {
	chain a {
		type filter hook input priority filter
	}
	chain INPUT {
		type filter hook input priority filter
		counter packets 218 bytes 91375 accept
	}
	chain x {
		type filter hook input priority 5
	}
	chain y {
		type filter hook prerouting priority 0
	}
}
table ip nat {
	chain PREROUTING {
		type nat hook prerouting priority 10
	}
}
`

func TestIncompatibleBaseChainsDifferential(t *testing.T) {
	p := newPair(t)
	for _, ns := range []*netnstest.NS{p.ref.ns, p.mine.ns} {
		ns.MustRunStdin(extraBaseChains, "nft", "-f", "-")
	}
	for _, l := range []string{
		"-S", "-S INPUT", "-S a", "-L", "-L -n -v", "-L INPUT", "-L x", "-t nat -S", "-t nat -L -n",
		"-A INPUT -j DROP", "-A a -j DROP", "-N a", "-C INPUT -j DROP", "-S",
		"-t nat -A PREROUTING -j ACCEPT", "-F", "-S", "-X", "-S",
	} {
		p.both("iptables", l)
		p.state(l)
	}
	p.save("filter")
	p.save("nat")
	p.report()
}

// TestProtocolNamesDifferential is -p and ports by name and number in
// both directions, and how -L shows them with and without -n.
func TestProtocolNamesDifferential(t *testing.T) {
	p := newPair(t)
	for _, l := range []string{
		"-A INPUT -p TcP --dport ssh", "-A INPUT -p tcp --dport SSH", "-A INPUT -p tcp --dport 8080:http",
		"-A INPUT -p Gre", "-A INPUT -p 47", "-A INPUT -p 0x2f", "-A INPUT -p 200", "-A INPUT -p udp --sport domain",
		"-A INPUT -p tcp -m multiport --dports ssh,http,https:8443", "-A INPUT -p ipv6-icmp", "-A INPUT -p mh",
		"-A INPUT -p nosuchproto", "-A INPUT ! -p all", "-A INPUT -p all", "-A INPUT -p ALL",
		"-A INPUT -p udplite", "-A INPUT -p esp", "-A INPUT -p 135", "-A INPUT -p 010",
		"-A INPUT -p udp --dport http", "-A INPUT -p udp --dport nosuch", "-A INPUT -p udp --dport 0x16",
		"-A INPUT -p tcp --dport 0x16", "-A INPUT -p tcp --dport 017", "-A INPUT -p udp --dport 017",
		"-A INPUT -p udp --dport ssh:http", "-A INPUT -p tcp -m multiport --dports 0x16,http",
		"-A INPUT -p udp -m multiport --dports http", "-A INPUT -p tcp --dport nosuch", "-A INPUT -p tcp --dport 70000",
		"-A INPUT -p sctp --dport 0x10", "-A INPUT -m conntrack --ctorigsrcport ssh", "-A INPUT -p tcp --dport 1:0x10",
		"-S", "-L", "-L -n", "-L -v", "-v -A INPUT -p 135", "-C INPUT -p gre", "-D INPUT -p 47",
	} {
		p.both("iptables", l)
		p.state(l)
	}
	p.save("filter")
	p.report()
}

// TestToolFlagsDifferential is iptables-save's and iptables-restore's own
// options that print something other than a ruleset.
func TestToolFlagsDifferential(t *testing.T) {
	p := newPair(t)
	for _, prog := range []string{"iptables-save", "ip6tables-save"} {
		for _, l := range []string{"-h", "--help", "-V", "--version", "-t nope", "-x", "extra"} {
			p.bothArgv0(prog, l)
		}
	}
	for _, prog := range []string{"iptables-restore", "ip6tables-restore"} {
		for _, l := range []string{"-h", "--help", "-V", "--version", "-b", "-h -b", "-x", "-T"} {
			p.bothArgv0(prog, l)
		}
	}
	p.report()
}

// bothArgv0 is both for messages that name the program by the path it
// was run as (getopt's): each side's directory reads as "DIR".
func (p *pair) bothArgv0(prog, line string) {
	p.t.Helper()
	args := words(p.t, line)
	ref, mine := p.ref.run("", prog, args...), p.mine.run("", prog, args...)
	ref.Stderr = strings.ReplaceAll(ref.Stderr, p.ref.dir, "DIR")
	mine.Stderr = strings.ReplaceAll(mine.Stderr, p.mine.dir, "DIR")
	p.compared++
	if ref != mine {
		p.failed++
		p.t.Errorf("%s %s:\nreal iptables-nft: %s\nshim (native):     %s", prog, line, ref, mine)
	}
}

// TestRestoreBasePolicyDashDifferential is nft-only/0008-basechain-policy's
// point: ":OUTPUT - [0:0]" keeps a built-in chain's policy.
func TestRestoreBasePolicyDashDifferential(t *testing.T) {
	p := newPair(t)
	p.both("iptables", "-t raw -P OUTPUT DROP")
	p.stdin("*raw\n:OUTPUT - [0:0]\n:PREROUTING - [0:0]\n:x - [0:0]\n-I OUTPUT 1 -j x\nCOMMIT\n", "iptables-restore", "--noflush")
	p.state("restore --noflush with - policies")
	p.both("iptables", "-t raw -S")
	p.stdin("*raw\n:OUTPUT - [0:0]\nCOMMIT\n", "iptables-restore")
	p.state("restore with a - policy")
	p.stdin("*raw\n:OUTPUT + [0:0]\nCOMMIT\n", "iptables-restore")
	p.report()
}
