package xt

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

var verdicts = map[string]bool{"ACCEPT": true, "DROP": true, "RETURN": true}

// saveDivergences are the cases where our save text deliberately differs
// from iptables-nft 1.8.9's, with the reason. The expressions still match
// byte for byte.
var saveDivergences = map[string]struct{ save, why string }{
	"-p tcp -m tcp --dport 80 -m tcp --dport 81": {
		"-A INPUT -p tcp -m tcp --dport 80 -m tcp --dport 81",
		"1.8.9 folds every port test into one tcp match, so the second --dport overwrites the first and save prints a rule other than the kernel's; FoldMatches leaves tests of the same field apart",
	},
}

// marshalAll renders expressions as the netlink bytes they would be sent
// as, one line each, for comparing and for readable failures.
func marshalAll(fam syntax.Family, exprs []expr.Any) (string, error) {
	var b strings.Builder
	for _, e := range exprs {
		m, err := expr.Marshal(nfproto(fam), e)
		if err != nil {
			return "", fmt.Errorf("marshal %T: %w", e, err)
		}
		fmt.Fprintf(&b, "%s %x\n", describe(e), m)
	}
	return b.String(), nil
}

// splitRule cuts a dumped rule into the base fields the golden cases use
// (-p only), the matches, and what follows the counter.
func splitRule(t *testing.T, r testRule, exprs []expr.Any) (matches, tail []expr.Any) {
	t.Helper()
	base := 0
	if r.Protocol.Set {
		base = 2
	}
	for i := base; i < len(exprs); i++ {
		if _, ok := exprs[i].(*expr.Counter); ok {
			return exprs[base:i], exprs[i+1:]
		}
	}
	t.Fatalf("no counter in rule")
	return nil, nil
}

func saveProto(v string) string {
	if n, ok := protoNum(v); ok {
		if n == 58 {
			// /etc/protocols' name, which iptables-nft prints.
			return "ipv6-icmp"
		}
		for name, num := range protoNames() {
			if num == n && name != "ipv6-icmp" {
				return name
			}
		}
	}
	return v
}

// TestGolden checks encoding, decoding and save text of every golden case
// against what the real iptables-nft did (no privileges needed).
func TestGolden(t *testing.T) {
	var ok, gaps int
	for _, c := range loadCases(t) {
		t.Run(fmt.Sprintf("line%d", c.Line), func(t *testing.T) {
			g := readGolden(t, c)
			words, err := splitWords(c.Args)
			if err != nil {
				t.Fatal(err)
			}
			r, err := parseTestRule(words)
			if err != nil {
				t.Fatal(err)
			}
			ctx := Context{Family: c.Family, Table: c.Table, Chain: c.Chain, Protocol: r.Protocol, IPSets: fakeIPSets{c.Family}}
			exts, tgt, err := parseRuleExts(ctx, r)
			if g.Exit != 0 {
				_, want, _ := strings.Cut(g.Stderr, "(nf_tables): ")
				if g.BlankLine {
					// The message ends in a newline of its own.
					want += "\n"
				}
				if err == nil && strings.Contains(g.Stderr, "RULE_APPEND failed") {
					// iptables' parser takes it too; the kernel refuses
					// it on commit, ours as well as theirs.
					t.Logf("%s: the kernel refuses it: %s", c, g.Stderr)
					return
				}
				if err == nil {
					t.Fatalf("%s: parsed, but iptables-nft refused it: %s", c, g.Stderr)
				}
				if IsUnsupported(err) {
					// Refused as iptables-nft refuses it (exit 2), in
					// our words: the router hands it to a real binary.
					gaps++
					if g.Exit != int(ipterr.Parameter) || !ipterr.Is(err, ipterr.Parameter) {
						t.Errorf("%s: unsupported (%v, class %d); iptables-nft exits %d: %s", c, err, ipterr.ClassOf(err), g.Exit, g.Stderr)
					}
					t.Logf("%s: unsupported (%v); iptables-nft says %s", c, err, g.Stderr)
					return
				}
				if !ipterr.Is(err, ipterr.Parameter) || err.Error() != want {
					t.Errorf("%s: error %q (class %d), want %q (class 2)", c, err, ipterr.ClassOf(err), want)
				}
				return
			}
			if IsUnsupported(err) {
				gaps++
				t.Skipf("%s: %v", c, err)
			}
			if err != nil {
				t.Fatalf("%s: %v", c, err)
			}
			var dumped []expr.Any
			for _, e := range g.Exprs {
				if e.Parsed == nil {
					t.Fatalf("golden has unknown expression %s", e.Name)
				}
				dumped = append(dumped, e.Parsed)
			}
			for _, e := range append(exts, tgt) {
				if e != nil {
					checkRevision(t, c, ctx, e)
				}
			}
			wantM, wantT := splitRule(t, r, dumped)
			checkEncode(t, c, ctx, exts, wantM)
			if tgt != nil {
				checkEncode(t, c, ctx, []Ext{tgt}, wantT)
			}
			// Decode what the kernel holds and print it as save would.
			save := "-A " + c.Chain
			if r.Protocol.Set {
				if r.Protocol.Invert {
					save += " !"
				}
				save += " -p " + saveProto(r.Protocol.Value)
			}
			var decoded []Ext
			for rest := wantM; len(rest) > 0; {
				e, n, err := DecodeMatch(ctx, rest)
				if err != nil {
					t.Fatalf("%s: decode: %v", c, err)
				}
				checkEncode(t, c, ctx, []Ext{e}, rest[:n])
				decoded = append(decoded, e)
				rest = rest[n:]
			}
			for _, e := range FoldMatches(decoded) {
				save += " " + e.Save(ctx)
			}
			switch {
			case tgt != nil:
				e, n, err := DecodeTarget(ctx, wantT)
				if err != nil {
					t.Fatalf("%s: decode target: %v", c, err)
				}
				if n != len(wantT) {
					t.Errorf("%s: target decode consumed %d of %d", c, n, len(wantT))
				}
				save += " " + e.Save(ctx)
			case r.Target != nil:
				save += " -j " + r.Target.Name
			}
			if d, ok := saveDivergences[c.Args]; ok {
				if save != d.save {
					t.Errorf("%s: save %q, want our documented %q (iptables-nft prints %q: %s)", c, save, d.save, g.Save, d.why)
				}
				return
			}
			if save != g.Save {
				t.Errorf("%s:\n got save %s\nwant save %s", c, save, g.Save)
			}
			ok++
		})
	}
	t.Logf("%d cases match the real iptables-nft, %d unsupported", ok, gaps)
}

func parseRuleExts(ctx Context, r testRule) ([]Ext, Ext, error) {
	var exts []Ext
	for _, m := range r.Matches {
		e, err := ParseMatch(ctx, m)
		if err != nil {
			return nil, nil, err
		}
		exts = append(exts, e)
	}
	if r.Target == nil || verdicts[r.Target.Name] {
		return exts, nil, nil
	}
	tgt, err := ParseTarget(ctx, *r.Target)
	return exts, tgt, err
}

func checkEncode(t *testing.T, c goldenCase, ctx Context, exts []Ext, want []expr.Any) {
	t.Helper()
	var got []expr.Any
	for _, e := range exts {
		x, err := e.Exprs(ctx)
		if err != nil {
			t.Fatalf("%s: %s.Exprs: %v", c, e.Name(), err)
		}
		got = append(got, x...)
	}
	gs, err := marshalAll(c.Family, got)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := marshalAll(c.Family, want)
	if err != nil {
		t.Fatal(err)
	}
	if gs != ws {
		t.Errorf("%s: expressions differ\n got:\n%s\nwant:\n%s", c, gs, ws)
	}
}

// checkRevision checks that Revision names the xt extension the
// expressions use (and none for native forms).
func checkRevision(t *testing.T, c goldenCase, ctx Context, e Ext) {
	t.Helper()
	name, rev, isTarget, compat := e.Revision()
	exprs, err := e.Exprs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range exprs {
		switch x := x.(type) {
		case *expr.Match:
			got = append(got, fmt.Sprintf("match %s %d", x.Name, x.Rev))
		case *expr.Target:
			got = append(got, fmt.Sprintf("target %s %d", x.Name, x.Rev))
		}
	}
	want := []string(nil)
	if compat {
		kind := "match"
		if isTarget {
			kind = "target"
		}
		want = []string{fmt.Sprintf("%s %s %d", kind, name, rev)}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: Revision() says %v, expressions use %v", c, want, got)
	}
}

// kernelRefusesHere are the extensions every rule of which the test
// kernel refuses, so no golden can hold one: SECMARK needs an LSM that
// knows its context (ENOENT without SELinux); the kernel has no xt_LED and
// no CLUSTERIP. Their blobs are checked against what the real iptables-nft
// sends instead (secmark_test.go, led_test.go).
var kernelRefusesHere = map[string]bool{"SECMARK": true, "LED": true, "CLUSTERIP": true}

// TestCoverage checks that every extension this package registers has
// golden cases that encode it and decode it.
func TestCoverage(t *testing.T) {
	parsed := map[string]bool{}
	decoded := map[string]bool{}
	for _, c := range loadCases(t) {
		g := readGolden(t, c)
		if g.Exit != 0 {
			continue
		}
		words, _ := splitWords(c.Args)
		r, err := parseTestRule(words)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range r.Matches {
			parsed[m.Name] = true
		}
		if r.Target != nil {
			parsed[r.Target.Name] = true
		}
		for _, e := range g.Exprs {
			switch x := e.Parsed.(type) {
			case *expr.Match:
				decoded[x.Name] = true
			case *expr.Target:
				decoded[x.Name] = true
			}
		}
	}
	for _, f := range foreignForms {
		for _, x := range f.exprs {
			if m, ok := x.(*expr.Match); ok {
				decoded[m.Name] = true
			}
		}
	}
	// The reference kernel has no ip_vs, so the real iptables-nft never
	// leaves an ipvs rule to take a golden from: TestIPVSRealBlobs holds
	// the blobs it sends instead.
	parsed["ipvs"], decoded["ipvs"] = true, true
	// iptables-nft 1.8.9 writes NFLOG natively; its xt form is 1.8.7's,
	// which shim/native's TestSkewVectors checks against the real 1.8.7
	// (written by each, read and -C'd by the other).
	decoded["NFLOG"] = true
	for name := range matchParsers() {
		if !parsed[name] {
			t.Errorf("match %s has no golden case", name)
		}
	}
	for name := range kernelRefusesHere {
		parsed[name], decoded[name] = true, true
	}
	for name := range targetParsers() {
		if !parsed[name] {
			t.Errorf("target %s has no golden case", name)
		}
	}
	for name := range compatMatchDecoders() {
		if !decoded[name] {
			t.Errorf("xt match %s is never decoded from a golden", name)
		}
	}
	for name := range targetDecoders() {
		if !decoded[name] {
			t.Errorf("xt target %s is never decoded from a golden", name)
		}
	}
}
