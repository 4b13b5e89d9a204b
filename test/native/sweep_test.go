package native_test

import (
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/internal/oracle"
)

// sweepSeed is the ruleset every sweep line starts from: counters on a
// base chain and on rules, a user chain, a nat rule.
const sweepSeed = `*filter
:INPUT DROP [5:600]
:FOO - [0:0]
[3:4] -A INPUT -p tcp --dport 22 -j ACCEPT
[9:9] -A FOO -s 10.0.0.0/8 -j RETURN
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
[1:1] -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4
COMMIT
`

// sweepSeed6 is sweepSeed for ip6tables.
const sweepSeed6 = `*filter
:INPUT DROP [5:600]
:FOO - [0:0]
[3:4] -A INPUT -p tcp --dport 22 -j ACCEPT
[9:9] -A FOO -s 2001:db8::/32 -j RETURN
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
[1:1] -A PREROUTING -p tcp -j DNAT --to-destination [2001:db8::1]:80
COMMIT
`

// sweepLines are command forms around listing, zeroing, renaming,
// policies and numbered rules, each with and without -v, -n, -x and
// --line-numbers, run each on a fresh copy of sweepSeed (so a failure
// names the one form that differs). Among them the forms this sweep found
// different before: -v -A to a missing chain (iptables-nft prints the rule
// before it finds the chain missing) and -j DROP or -P DROP in the nat
// table on any chain (refused while parsing, exit 2, where the shim
// answered "No chain/target/match by that name").
var sweepLines = []string{
	"-L", "-L -n", "-L -v", "-L -x", "-L -n -v -x", "-L --line-numbers", "-L -n --line-numbers -v",
	"-L INPUT", "-L INPUT 1", "-L INPUT 2", "-L INPUT 0", "-L FOO 1 -v", "-L NOPE", "-L -t nat -n",
	"-S", "-S INPUT", "-S INPUT 1", "-S INPUT 2", "-S INPUT 0", "-S -v", "-S INPUT 1 -v", "-S NOPE", "-S NOPE 1",
	"-Z INPUT", "-Z INPUT 1", "-Z INPUT 5", "-Z NOPE", "-Z NOPE 1", "-Z INPUT 1 -v", "-L -Z", "-L INPUT -Z -v", "-S -Z",
	"-E FOO BAR", "-E FOO INPUT", "-E NOPE BAR", "-E FOO FOO", "-v -E FOO BAR",
	"-P INPUT ACCEPT", "-P FOO ACCEPT", "-P INPUT RETURN", "-v -P INPUT DROP", "-P INPUT",
	"-N BAR", "-v -N BAR", "-X FOO", "-v -X FOO", "-v -X", "-F FOO", "-v -F FOO", "-v -F NOPE",
	"-D INPUT 1", "-v -D INPUT 1", "-D INPUT 9", "-R INPUT 1 -j DROP", "-v -R INPUT 1 -j DROP", "-R INPUT 9 -j DROP",
	"-I INPUT 1 -j DROP", "-v -I INPUT 2 -j DROP", "-I INPUT 5 -j DROP", "-v -I INPUT 9 -j DROP",
	"-C INPUT -p tcp --dport 22 -j ACCEPT", "-v -C INPUT -p tcp --dport 22 -j ACCEPT",
	"--list", "--list-rules INPUT", "--zero INPUT 1", "-L INPUT -x -v --exact", "-S INPUT 1 2", "-L 1",
	"-A INPUT -p tcp --dport 80:70", "-A INPUT -p tcp --dport 22:", "-A INPUT -p tcp --dport :22",
	"-A INPUT -p tcp --dport 70000", "-A INPUT -p tcp --dport 1:70000", "-A INPUT -p udp --dport -1",
	"-A INPUT -p tcp --dport 0x10", "-A INPUT -p tcp --dport 1.5",
	"-v -A NOPE -j DROP", "-v -A NOPE -s 1.2.3.4,5.6.7.8 -j DROP", "-v -I NOPE -j DROP", "-v -A FOO -j DROP",
	"-v -t nat -A NOPE -j DROP", "-t nat -P PREROUTING DROP", "-t nat -D PREROUTING -j DROP", "-t nat -C NOPE -j DROP",
	"-t nat -P NOPE DROP", "-t nat -A PREROUTING -j drop",
	// A rule number after -Z makes the command -Z alone ("-L -Z INPUT 1"
	// lists nothing); before -L, only that rule is zeroed after the
	// listing. The shim listed and zeroed the whole chain.
	"-L -Z INPUT 1", "-S -Z INPUT 1 -v", "-Z INPUT 1 -L -v", "-Z INPUT 1 -S", "-Z INPUT 5 -L",
	// 1.8.11 takes absent built-in chains for existing in -Z.
	"-v -Z OUTPUT", "-Z OUTPUT 1",
}

// sweepNotCopied are the sweep lines where the shim, as on a host of that
// version, deliberately differs from it: bugs of that version it does not
// copy.
var sweepNotCopied = map[string]string{
	"1.8.7 iptables -Z INPUT":                              "1.8.7's -Z leaves the rules' counters as they are; the shim zeroes them",
	"1.8.7 iptables -v -Z":                                 "1.8.7's -Z leaves the rules' counters as they are; the shim zeroes them",
	"1.8.7 iptables -C INPUT -p tcp --dport 22 -j ACCEPT":  "1.8.7 prints the rule it found on standard output",
	"1.8.7 ip6tables -C INPUT -p tcp --dport 22 -j ACCEPT": "1.8.7 prints the rule it found on standard output",
}

// hostVersions are the iptables-nft versions the differential tests take
// for the host's: the system's 1.8.9 and the fetched 1.8.11 and 1.8.7.
var hostVersions = []string{oracle.System, "1.8.11", "1.8.7"}

// TestCommandSweepDifferential runs the sweep, with iptables and
// ip6tables, against the system's iptables-nft 1.8.9 and, as on hosts of
// those versions, against iptables-nft 1.8.11 and 1.8.7 with the shim in
// their dialects (whose answers differ: -L/-S of a missing chain, -Z of a
// missing rule or absent built-in chain, -X of built-in chains, the
// version and the option names in every message, 1.8.7's IPv6 opt
// column).
func TestCommandSweepDifferential(t *testing.T) {
	for _, v := range hostVersions {
		for _, prog := range []string{"iptables", "ip6tables"} {
			seed := sweepSeed
			if prog == "ip6tables" {
				seed = sweepSeed6
			}
			t.Run(v+"/"+prog, func(t *testing.T) {
				for _, l := range sweepLines {
					t.Run(l, func(t *testing.T) {
						if why := sweepNotCopied[v+" "+prog+" "+l]; why != "" {
							t.Logf("not compared: %s", why)
							return
						}
						p := newPairAt(t, v)
						p.stdin(seed, prog+"-restore", "-c")
						p.both(prog, l)
						p.state(l)
					})
				}
			})
		}
	}
}

// TestIP6CountersDifferential: ip6tables-nft 1.8.9 drops a rule's own
// counters (-c on -A/-I/-R, [p:b] in ip6tables-restore -c) but keeps a
// chain's; the shim kept the rule's (1.8.11 does).
func TestIP6CountersDifferential(t *testing.T) {
	p := newPair(t)
	p.stdin("*filter\n:FORWARD ACCEPT [1:2]\n[5:6] -A FORWARD -j ACCEPT\n-A FORWARD -c 7 8 -j DROP\nCOMMIT\n", "ip6tables-restore", "-c")
	for _, l := range []string{"-A FORWARD -c 3 3 -j RETURN", "-I FORWARD -j RETURN -c 4 4", "-R FORWARD 2 -c 9 9 -j ACCEPT", "-v -S", "-L -v -x", "-S FORWARD 2 -v"} {
		p.both("ip6tables", l)
	}
	ref, mine := p.ref.run("", "ip6tables-save", "-c"), p.mine.run("", "ip6tables-save", "-c")
	if netnstest.NormalizeSave(ref.Stdout) != netnstest.NormalizeSave(mine.Stdout) {
		t.Errorf("ip6tables-save -c:\nreal: %s\nshim: %s", ref.Stdout, mine.Stdout)
	}
	p.state("ip6tables counters")
	p.report()
}

// TestRestoreInlineCountersDifferential: a rule's own -c in a restore
// line sets its counters with or without --counters (which only makes the
// [p:b] prefix count); the shim applied it only with --counters.
func TestRestoreInlineCountersDifferential(t *testing.T) {
	p := newPair(t)
	payload := "*filter\n-A FORWARD -m mark --mark 0x1 -c 1 2\n[3:4] -A FORWARD -j ACCEPT\nCOMMIT\n"
	p.stdin(payload, "iptables-restore")
	p.both("iptables", "-v -S FORWARD")
	p.stdin(payload, "iptables-restore", "-c")
	p.both("iptables", "-v -S FORWARD")
	p.stdin(payload, "iptables-restore", "--noflush")
	p.both("iptables", "-v -L FORWARD -x")
	p.state("restores with -c")
	p.report()
}

// TestZeroKeepsCompatDifferential: -Z resends a rule with a counter, and
// the kernel does not dump a rule's NFTA_RULE_COMPAT back, which TPROXY
// needs (-p tcp); iptables-nft recovers it from the rule's l4proto test.
// Before, the shim's resend was refused (RULE_REPLACE, EINVAL).
func TestZeroKeepsCompatDifferential(t *testing.T) {
	for _, prog := range []string{"iptables", "ip6tables", "iptables@1.8.11"} {
		t.Run(prog, func(t *testing.T) {
			// 1.8.11 writes an IPv4 -p as the header's protocol byte,
			// from which -Z must recover the compat protocol too.
			prog, version, _ := strings.Cut(prog, "@")
			if version == "" {
				version = oracle.System
			}
			p := newPairAt(t, version)
			for _, l := range []string{
				"-t mangle -A PREROUTING -p tcp -m tcp --dport 27374 -c 23 42 -j TPROXY --on-port 50080",
				"-t mangle -A PREROUTING -p udp -c 1 1 -j TPROXY --on-port 1",
				"-t mangle -Z PREROUTING 2", "-t mangle -v -S", "-t mangle -Z", "-t mangle -v -S",
			} {
				p.both(prog, l)
			}
			if version == oracle.System {
				// 1.8.11's restore fails this -Z (EINVAL), and the
				// shim, with no real binary to hand it to there,
				// refuses it.
				p.stdin("*mangle\n-A PREROUTING -p tcp -c 7 7 -j TPROXY --on-port 2\n-Z\nCOMMIT\n", prog+"-restore", "--noflush")
				p.both(prog, "-t mangle -v -S")
			}
			p.state("-Z of TPROXY rules")
			p.report()
		})
	}
}

// TestRestoreXDifferential: a restore's -X deletes the user chains, and
// (1.8.9, 1.8.11) the built-in chains left empty with policy ACCEPT; 1.8.7
// keeps every built-in chain, and a second -X then has nothing to do. The
// shim deleted 1.8.7's built-in chains too, and refused the second -X.
func TestRestoreXDifferential(t *testing.T) {
	for _, v := range hostVersions {
		t.Run(v, func(t *testing.T) {
			p := newPairAt(t, v)
			p.stdin(sweepSeed, "iptables-restore", "-c")
			p.both("iptables", "-L -n")
			p.stdin("*filter\n-F\n-X\nCOMMIT\n*nat\n-F\n-X\nCOMMIT\n", "iptables-restore", "--noflush")
			p.state("-F, -X")
			if v == "1.8.7" {
				p.stdin(sweepSeed, "iptables-restore", "-c")
				p.stdin("*filter\n-F\n-X\n-X\nCOMMIT\n", "iptables-restore", "-v", "--noflush")
				p.state("-X twice")
			}
			p.report()
		})
	}
}
