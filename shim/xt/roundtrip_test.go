package xt

import (
	"strings"
	"testing"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// roundTrip checks, for one rule given as iptables arguments, that what
// the native backend writes for each match and target reads back as the
// same extension: decoding its expressions gives the same save text, and
// encoding the decoded extension again gives the same expressions. It
// reports whether the rule was one this package writes at all.
func roundTrip(t *testing.T, fam syntax.Family, table, chain string, words []string) bool {
	cmd, err := syntax.ParseCommand(append([]string{"-t", table, "-A", chain}, words...), fam)
	if err != nil || cmd.Rule == nil {
		return false
	}
	ctx := Context{Family: fam, Table: table, Chain: chain, Protocol: cmd.Rule.Protocol, IPSets: fakeIPSets{fam}}
	exts, tgt, err := parseRuleExts(ctx, testRule{Protocol: cmd.Rule.Protocol, Matches: cmd.Rule.Matches, Target: cmd.Rule.Target})
	if err != nil {
		return false
	}
	check := func(e Ext, target bool) {
		written, err := e.Exprs(ctx)
		if err != nil {
			return // refused before the kernel is touched
		}
		if len(written) == 0 {
			// 1.8.9 writes some tests as nothing at all (an inverted
			// full port range); nothing to read back.
			return
		}
		var back Ext
		var n int
		if target {
			back, n, err = DecodeTarget(ctx, written)
		} else {
			back, n, err = DecodeMatch(ctx, written)
		}
		if err != nil || n != len(written) {
			t.Fatalf("%v: %s writes what it cannot read back (%d of %d expressions): %v", words, e.Name(), n, len(written), err)
		}
		if quirkyRoundTrip(e) {
			return
		}
		if a, b := e.Save(ctx), back.Save(ctx); a != b {
			t.Fatalf("%v: written as %q, read back as %q", words, a, b)
		}
		again, err := back.Exprs(ctx)
		if err != nil {
			t.Fatalf("%v: %s read back does not encode: %v", words, e.Name(), err)
		}
		x, _ := marshalAll(fam, written)
		y, _ := marshalAll(fam, again)
		if x != y {
			t.Fatalf("%v: %s re-encodes differently:\n%s\n%s", words, e.Name(), x, y)
		}
	}
	for _, e := range exts {
		check(e, false)
	}
	if tgt != nil {
		check(tgt, true)
	}
	return true
}

// TestRoundTripCases is the round-trip property over every golden case.
func TestRoundTripCases(t *testing.T) {
	n := 0
	for _, c := range loadCases(t) {
		words, err := splitWords(c.Args)
		if err != nil {
			t.Fatal(err)
		}
		if roundTrip(t, c.Family, c.Table, c.Chain, words) {
			n++
		}
	}
	t.Logf("%d cases written and read back identically", n)
}

// FuzzRoundTrip mutates rules (seeded with the golden cases) and checks the
// round-trip property on every one the parsers accept.
func FuzzRoundTrip(f *testing.F) {
	for _, c := range loadCases(f) {
		f.Add(c.Family == syntax.IPv6, c.Table, c.Chain, c.Args)
	}
	f.Fuzz(func(t *testing.T, v6 bool, table, chain, args string) {
		if strings.IndexByte(args, 0) >= 0 {
			// No argument vector carries a NUL; what a restore file
			// holding one means is the restore parser's question.
			return
		}
		words, err := splitWords(args)
		if err != nil {
			return
		}
		fam := syntax.IPv4
		if v6 {
			fam = syntax.IPv6
		}
		roundTrip(t, fam, table, chain, words)
	})
}

var _ = expr.Any(nil)
