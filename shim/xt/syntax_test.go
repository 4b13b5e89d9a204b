package xt

import (
	"fmt"
	"testing"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// TestGoldenViaSyntax runs the golden cases through the shared parser
// (shim/syntax) instead of this package's test parser, so option names and
// argument shapes are checked against the model the router really hands
// over.
func TestGoldenViaSyntax(t *testing.T) {
	var ok, refused int
	for _, c := range loadCases(t) {
		g := readGolden(t, c)
		if g.Exit != 0 {
			continue
		}
		words, err := splitWords(c.Args)
		if err != nil {
			t.Fatal(err)
		}
		cmd, err := syntax.ParseCommand(append([]string{"-t", c.Table, "-A", c.Chain}, words...), c.Family)
		if err != nil {
			// The parser is another package's; record, don't fail here.
			refused++
			t.Logf("%s: shim/syntax refuses what iptables-nft accepted: %v", c, err)
			continue
		}
		r := testRule{Protocol: cmd.Rule.Protocol, Matches: cmd.Rule.Matches, Target: cmd.Rule.Target}
		ctx := Context{Family: c.Family, Table: c.Table, Chain: c.Chain, Protocol: r.Protocol, IPSets: fakeIPSets{c.Family}}
		exts, tgt, err := parseRuleExts(ctx, r)
		if err != nil {
			t.Errorf("%s: %v (model %+v)", c, err, r)
			continue
		}
		var dumped []expr.Any
		for _, e := range g.Exprs {
			dumped = append(dumped, e.Parsed)
		}
		wantM, wantT := splitRule(t, r, dumped)
		checkEncode(t, c, ctx, exts, wantM)
		if tgt != nil {
			checkEncode(t, c, ctx, []Ext{tgt}, wantT)
		}
		ok++
	}
	t.Logf("%s", fmt.Sprintf("%d cases encode identically from the shared model; %d refused by shim/syntax", ok, refused))
}
