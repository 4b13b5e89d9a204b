package native

import (
	"strings"
	"testing"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// foreignRuleSetup fills a namespace with iptables rules in three tables,
// then adds with nft itself a rule iptables-nft 1.8.9 calls incompatible
// (a ct expression) to a user chain of nat.
const foreignRuleSetup = `*filter
-A INPUT -p tcp --dport 22 -j ACCEPT
COMMIT
*mangle
-A INPUT -j ACCEPT
COMMIT
*nat
:FOO - [0:0]
-A INPUT -j ACCEPT
-A FOO -j ACCEPT
COMMIT
`

// TestForeignRuleTable checks that a table holding a rule iptables-nft
// 1.8.9 cannot express (written by nft) reads as 1.8.9 reads it: save
// prints every other table and a comment in its place (exit 0); -S and -L
// of the table fail with 1.8.9's message, naming the chain when one is
// listed; a listing of another chain of it still works.
func TestForeignRuleTable(t *testing.T) {
	d := newDiffPair(t)
	for _, ns := range []*netnstest.NS{d.ref, d.mine} {
		ns.MustRunStdin(foreignRuleSetup, "iptables-nft-restore")
		ns.MustRun("nft", "add", "rule", "ip", "nat", "FOO", "ct", "mark", "1", "counter")
	}
	ref := d.ref.Run("iptables-nft-save")
	mine := ours(t, d.mine, "", "iptables-save")
	if mine.Code != ref.Code || netnstest.NormalizeSave(mine.Stdout) != netnstest.NormalizeSave(ref.Stdout) {
		t.Errorf("save: iptables-nft %s\nours %s", ref, mine)
	}
	if !strings.Contains(mine.Stdout, "# Table `nat' is incompatible, use 'nft' tool.\n") {
		t.Errorf("save lacks the incompatible-table comment:\n%s", mine.Stdout)
	}
	for _, args := range [][]string{{"-t", "nat", "-S"}, {"-t", "nat", "-S", "FOO"}, {"-t", "nat", "-S", "INPUT"},
		{"-t", "nat", "-L", "-n"}, {"-t", "nat", "-L", "FOO"}, {"-t", "nat", "-L", "INPUT", "-n"}, {"-S"}} {
		ref := d.ref.Run("iptables-nft", args...)
		ref.Stderr = strings.ReplaceAll(ref.Stderr, "iptables-nft", "iptables")
		mine := ours(t, d.mine, "", "iptables", args...)
		if ref != mine {
			t.Errorf("iptables %v:\niptables-nft %s\nours %s", args, ref, mine)
		}
	}
}

// TestUndecodableRule checks that a rule the native reader cannot decode
// (an xt match revision it has no decoder for, which the kernel accepts)
// fails only the commands that must print it: they print every other rule
// and chain, name table, chain and handle, and exit 1; a save or listing of
// another table is untouched.
func TestUndecodableRule(t *testing.T) {
	d := newDiffPair(t)
	ns := d.mine
	ns.MustRunStdin(foreignRuleSetup, "iptables-nft-restore")
	// Every extension iptables-nft 1.8.9 writes has a native decoder now,
	// so the undecodable rule is sent raw: a conntrack match of revision 1
	// (struct xt_conntrack_mtinfo1, 152 bytes, all zero: it matches every
	// packet), which the kernel and libxt_conntrack still know and the
	// native reader, decoding the revision 1.8.x writes (3), does not.
	ns.MustRun("iptables-nft", "-t", "mangle", "-A", "FORWARD", "-j", "DROP")
	ct1 := make(xt.Unknown, 152)
	if out := commitRaw(t, openIn(t, ns), []rawMsg{ruleMsg(unix.NFT_MSG_NEWRULE, insertFlags, "mangle", "FORWARD", 0, 0,
		&expr.Counter{}, &expr.Match{Name: "conntrack", Rev: 1, Info: &ct1})}); out != "ok" {
		t.Fatalf("writing the raw conntrack rule: %s", out)
	}
	want := netnstest.NormalizeSave(ns.MustRun("iptables-nft-save"))
	r := ours(t, ns, "", "iptables-save")
	if r.Code != 1 || !strings.Contains(r.Stderr, "table mangle chain FORWARD rule handle ") {
		t.Fatalf("save: want exit 1 naming the rule, got %s", r)
	}
	// Everything but the one rule is printed.
	var wantLines []string
	for _, l := range strings.Split(want, "\n") {
		if !strings.Contains(l, "-m conntrack") {
			wantLines = append(wantLines, l)
		}
	}
	if got := netnstest.NormalizeSave(r.Stdout); got != strings.Join(wantLines, "\n") {
		t.Errorf("save prints other than every other rule:\n%s", netnstest.LineDiff(strings.Join(wantLines, "\n"), got))
	}
	for _, table := range []string{"filter", "nat"} {
		want := netnstest.NormalizeSave(ns.MustRun("iptables-nft-save", "-t", table))
		if r := ours(t, ns, "", "iptables-save", "-t", table); r.Code != 0 || netnstest.NormalizeSave(r.Stdout) != want {
			t.Errorf("save -t %s is affected: %s", table, r)
		}
	}
	r = ours(t, ns, "", "iptables", "-t", "mangle", "-S")
	if r.Code != 1 || !strings.Contains(r.Stdout, "-A FORWARD -j DROP\n") || !strings.Contains(r.Stderr, "rule handle") {
		t.Errorf("-S: want the other rules and exit 1, got %s", r)
	}
	r = ours(t, ns, "", "iptables", "-t", "mangle", "-L", "FORWARD", "-n", "--line-numbers")
	if r.Code != 1 || !strings.Contains(r.Stdout, "2    DROP") {
		t.Errorf("-L: want the other rules, numbered as the kernel's, and exit 1, got %s", r)
	}
	if r := ours(t, ns, "", "iptables", "-t", "mangle", "-S", "INPUT"); r.Code != 0 {
		t.Errorf("-S of another chain fails: %s", r)
	}
}
