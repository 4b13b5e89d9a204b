package nftquery

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/detect/ruleset"
	"github.com/iptables-shim/iptables-shim/internal/nfnl"
	"github.com/iptables-shim/iptables-shim/internal/nfnl/fake"
	"github.com/iptables-shim/iptables-shim/shim/netfilter"
)

// fakeRuleset loads the ruleset of `payload` (as iptables-nft-restore
// leaves it) into a fake nf_tables.
func fakeRuleset(t testing.TB) *fake.Kernel {
	t.Helper()
	k := fake.New()
	c, _ := k.Open()
	defer c.Close()
	b := nfnl.NewBatch(1, true)
	defer b.Release()
	add := func(msg int, flags uint16, build func(a *nfnl.Attrs)) {
		var a nfnl.Attrs
		build(&a)
		b.Add(msg, flags, unix.NFPROTO_IPV4, a.B, 0)
	}
	table := func(name string) {
		add(unix.NFT_MSG_NEWTABLE, unix.NLM_F_CREATE, func(a *nfnl.Attrs) { a.String(unix.NFTA_TABLE_NAME, name) })
	}
	chain := func(table, name string, hook int) {
		add(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, func(a *nfnl.Attrs) {
			a.String(unix.NFTA_CHAIN_TABLE, table)
			a.String(unix.NFTA_CHAIN_NAME, name)
			if hook >= 0 {
				h := a.Nest(unix.NFTA_CHAIN_HOOK)
				a.U32(unix.NFTA_HOOK_HOOKNUM, uint32(hook))
				a.U32(unix.NFTA_HOOK_PRIORITY, 0)
				a.End(h)
				a.U32(unix.NFTA_CHAIN_POLICY, 1)
				a.String(unix.NFTA_CHAIN_TYPE, "filter")
			}
		})
	}
	// rule appends a rule whose only expression is a verdict.
	rule := func(table, chain string, code int32, target string) {
		add(unix.NFT_MSG_NEWRULE, unix.NLM_F_CREATE|unix.NLM_F_APPEND, func(a *nfnl.Attrs) {
			a.String(unix.NFTA_RULE_TABLE, table)
			a.String(unix.NFTA_RULE_CHAIN, chain)
			l := a.Nest(unix.NFTA_RULE_EXPRESSIONS)
			el := a.Nest(unix.NFTA_LIST_ELEM)
			a.String(unix.NFTA_EXPR_NAME, "immediate")
			d := a.Nest(unix.NFTA_EXPR_DATA)
			a.U32(unix.NFTA_IMMEDIATE_DREG, 0)
			id := a.Nest(unix.NFTA_IMMEDIATE_DATA)
			v := a.Nest(unix.NFTA_DATA_VERDICT)
			a.U32(unix.NFTA_VERDICT_CODE, uint32(code))
			if target != "" {
				a.String(unix.NFTA_VERDICT_CHAIN, target)
			}
			a.End(v)
			a.End(id)
			a.End(d)
			a.End(el)
			a.End(l)
		})
	}
	table("filter")
	chain("filter", "INPUT", unix.NF_INET_LOCAL_IN)
	chain("filter", "FORWARD", unix.NF_INET_FORWARD)
	chain("filter", "OUTPUT", unix.NF_INET_LOCAL_OUT)
	for _, n := range []string{"KUBE-FIREWALL", "KUBE-FORWARD", "EMPTY", "SKIP"} {
		chain("filter", n, -1)
	}
	rule("filter", "INPUT", unix.NFT_JUMP, "KUBE-FIREWALL")
	rule("filter", "INPUT", 1, "") // accept
	rule("filter", "FORWARD", unix.NFT_JUMP, "KUBE-FORWARD")
	rule("filter", "OUTPUT", unix.NFT_JUMP, "KUBE-FIREWALL")
	rule("filter", "OUTPUT", unix.NFT_CONTINUE, "")
	rule("filter", "KUBE-FIREWALL", 0, "") // drop
	rule("filter", "KUBE-FORWARD", unix.NFT_GOTO, "EMPTY")
	rule("filter", "KUBE-FORWARD", unix.NFT_RETURN, "")
	rule("filter", "SKIP", 1, "")
	rule("filter", "SKIP", 1, "")
	table("mangle")
	chain("mangle", "KUBE-IPTABLES-HINT", -1)
	if err := c.Commit(b); err != nil {
		t.Fatal(err)
	}
	return k
}

// lookupsAndCountsOnFake is TestLookupsAndCounts' namespace half on the
// fake nf_tables, without root.
func lookupsAndCountsOnFake(t *testing.T) {
	k := fakeRuleset(t)
	open := func() *Conn { tr, _ := k.Open(); return New(tr) }
	c := open()
	defer c.Close()
	for ref, want := range map[[2]string]bool{
		{"mangle", "KUBE-IPTABLES-HINT"}: true, {"nat", "KUBE-MARK-DROP"}: false,
		{"filter", "KUBE-FORWARD"}: true, {"raw", "X"}: false,
	} {
		if got, err := c.HasChain(netfilter.IPv4, ref[0], ref[1]); err != nil || got != want {
			t.Errorf("HasChain(%s) = %v, %v; want %v", ref, got, err, want)
		}
	}
	all, _, err := open().CountRules(netfilter.IPv4, 0, func(_, chain string) bool { return chain == "SKIP" })
	if err != nil || all != 8 {
		t.Errorf("count = %d, %v; want 8", all, err)
	}
	n, capped, err := open().CountRules(netfilter.IPv4, 3, nil)
	if err != nil || n != 3 || !capped {
		t.Errorf("capped count = %d, %v, %v; want 3, true", n, capped, err)
	}
	tables, err := c.Tables(netfilter.IPv4)
	if err != nil || len(tables) != 2 || tables[0] != "filter" || tables[1] != "mangle" {
		t.Errorf("tables = %q, %v", tables, err)
	}
	if v6, err := c.Tables(netfilter.IPv6); err != nil || len(v6) != 0 {
		t.Errorf("ip6 tables = %q, %v", v6, err)
	}
}

// TestTableOnFake reads a table's chains, rule counts and jumps.
func TestTableOnFake(t *testing.T) {
	c := New(func() nfnl.Transport { tr, _ := fakeRuleset(t).Open(); return tr }())
	defer c.Close()
	got, err := c.Table(netfilter.IPv4, "filter")
	if err != nil {
		t.Fatal(err)
	}
	want := []ruleset.Chain{
		{Name: "INPUT", Builtin: true, Rules: 2, Jumps: []string{"KUBE-FIREWALL"}},
		{Name: "FORWARD", Builtin: true, Rules: 1, Jumps: []string{"KUBE-FORWARD"}},
		{Name: "OUTPUT", Builtin: true, Rules: 2, Jumps: []string{"KUBE-FIREWALL"}},
		{Name: "KUBE-FIREWALL", Rules: 1},
		{Name: "KUBE-FORWARD", Rules: 2, Jumps: []string{"EMPTY"}},
		{Name: "EMPTY"},
		{Name: "SKIP", Rules: 2},
	}
	if len(got.Chains) != len(want) {
		t.Fatalf("chains = %+v", got.Chains)
	}
	for i := range want {
		g, w := got.Chains[i], want[i]
		if g.Name != w.Name || g.Builtin != w.Builtin || g.Rules != w.Rules || len(g.Jumps) != len(w.Jumps) || len(w.Jumps) > 0 && g.Jumps[0] != w.Jumps[0] {
			t.Errorf("chain %d = %+v, want %+v", i, g, w)
		}
	}
	if _, err := c.Table(netfilter.IPv4, "nat"); err == nil {
		t.Error("a missing table was read")
	}
}

// FuzzJumpTargets reads arbitrary bytes as a rule's expressions: nothing
// may panic. Seeds are the fake ruleset's rules.
func FuzzJumpTargets(f *testing.F) {
	k := fakeRuleset(f)
	c, _ := k.Open()
	defer c.Close()
	err := c.Dump(nfnl.MsgType(nfnl.SubsysNFTables, unix.NFT_MSG_GETRULE), unix.NFPROTO_IPV4, nil, func(m nfnl.Message) error {
		for a := nfnl.Scan(m.Attrs); a.Next(); {
			if a.Type == unix.NFTA_RULE_EXPRESSIONS {
				f.Add(append([]byte(nil), a.Data...))
			}
		}
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, j := range jumpTargets(b) {
			if j == "" {
				t.Error("an empty jump target")
			}
		}
	})
}
