package native_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// nftWritten4 and nftWritten6 are rules nft itself wrote into iptables'
// tables, in the forms iptables-nft 1.8.9 reads as its own extensions: a
// port range as two cmps, a prefix as a short load, a zero mask, ttl and
// hop limit, icmp type and type/code, pkttype, a comment in the rule's
// user data, an interface by index, and NFLOG as a log expression without
// a counter. Before, the shim failed every listing of the table on them.
const nftWritten4 = `table ip filter {
	chain INPUT {
		type filter hook input priority filter; policy accept;
		ip saddr 10.2.3.0/24 ip daddr 0.0.0.0 udp dport 100-200 drop
		ip saddr 10.0.0.0/8 tcp sport 2000-65535 tcp dport 8443 tcp flags syn / syn,ack accept
		tcp dport 8080 tcp flags syn comment "a comment nft wrote"
		ip daddr 128.0.0.0/1 ip ttl 7 drop
		ip daddr 64.0.0.0/2 ip ttl > 9 accept
		ip ttl < 200 accept
		ip ttl != 64 drop
		icmp type 3 accept
		icmp type 3 icmp code 4 accept
		icmp type echo-request accept
		meta pkttype multicast accept
		meta pkttype != host drop
		ip saddr 0.0.0.0/0 ip protocol tcp
	}
	chain FORWARD {
		type filter hook forward priority filter;
		udp dport 53 counter
		meta iif "lo" oifname "lo*" log group 2 prefix "nft wrote NFLOG" queue-threshold 5 snaplen 64
	}
}
`

const nftWritten6 = `table ip6 filter {
	chain INPUT {
		type filter hook input priority filter; policy accept;
		ip6 saddr fd00::/16 udp dport 100-200 drop
		ip6 hoplimit 255 accept
		ip6 hoplimit > 1 accept
		icmpv6 type 128 accept
		icmpv6 type 1 icmpv6 code 4 accept
		tcp dport 22 comment "six"
	}
}
`

// TestNFTWrittenRulesDifferential loads rules written by nft into both
// namespaces and compares every listing, and -C of each rule in the form
// iptables prints it, with iptables-nft 1.8.9's.
func TestNFTWrittenRulesDifferential(t *testing.T) {
	for _, tc := range []struct{ fam, ruleset string }{{"4", nftWritten4}, {"6", nftWritten6}} {
		t.Run("v"+tc.fam, func(t *testing.T) {
			p := newPair(t)
			file := filepath.Join(t.TempDir(), "ruleset.nft")
			if err := os.WriteFile(file, []byte(tc.ruleset), 0o644); err != nil {
				t.Fatal(err)
			}
			p.ref.ns.MustRun("nft", "-f", file)
			p.mine.ns.MustRun("nft", "-f", file)
			prog := progFor(tc.fam)
			for _, l := range []string{"-S", "-L", "-L -n", "-L -n -v -x --line-numbers", "-S INPUT 3", "-L INPUT 2 -n"} {
				p.both(prog, l)
			}
			for _, args := range [][]string{nil, {"-c"}} {
				ref, mine := p.ref.run("", prog+"-save", args...), p.mine.run("", prog+"-save", args...)
				ref.Stdout, mine.Stdout = netnstest.NormalizeSave(ref.Stdout), netnstest.NormalizeSave(mine.Stdout)
				p.compared++
				if ref != mine {
					p.failed++
					t.Errorf("%s-save %v:\nreal: %s\nshim: %s", prog, args, ref, mine)
				}
			}
			saved := p.ref.run("", prog, "-S")
			for _, rule := range splitRules(saved.Stdout) {
				p.both(prog, "-C"+rule)
			}
			p.state("listing nft's rules")
			p.report()
		})
	}
}

// splitRules returns the rules of -S output without their "-A", so that
// "-C"+rule checks each.
func splitRules(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if r, ok := strings.CutPrefix(l, "-A"); ok {
			out = append(out, r)
		}
	}
	return out
}
