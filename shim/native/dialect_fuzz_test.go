package native

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/nfnl"
	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"github.com/iptables-shim/iptables-shim/shim/nftread"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// FuzzDialectDecode feeds arbitrary NEWRULE attribute streams (seeded with
// the skew corpus's rule forms written in every dialect) to the semantic
// comparison and the dialect fingerprint: they may refuse, never panic, and
// a rule the comparison decodes equals itself.
func FuzzDialectDecode(f *testing.F) {
	forms, err := os.ReadFile("testdata/skew/forms-v4.txt")
	if err != nil {
		f.Fatal(err)
	}
	p, err := syntax.ParseRestore(strings.NewReader(string(forms)), syntax.IPv4)
	if err != nil {
		f.Fatal(err)
	}
	for _, d := range dialect.All {
		for _, l := range p.Lines {
			if l.Kind != syntax.LineCommand || l.Cmd.Rule == nil {
				continue
			}
			env := &ruleEnv{fam: syntax.IPv4, table: l.Cmd.Table, chain: l.Cmd.Chain, protos: nftread.LoadProtocols(""), ipsets: anyIPSet{},
				isChain: func(name string) bool { return !looksLikeExtension(name) }, dialect: d}
			r, err := encodeRule(env, l.Cmd.Rule)
			if err != nil {
				continue
			}
			var a nfnl.Attrs
			a.String(unix.NFTA_RULE_CHAIN, l.Cmd.Chain)
			el := a.Nest(unix.NFTA_RULE_EXPRESSIONS)
			for _, e := range r.exprs {
				if err := nftread.AppendExpr(&a, unix.NFPROTO_IPV4, e); err != nil {
					f.Fatal(err)
				}
			}
			a.End(el)
			f.Add(a.B)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := nftread.ParseRule(unix.NFPROTO_IPV4, b)
		if err != nil {
			return
		}
		env := &nftread.RenderEnv{Fam: syntax.IPv4, Table: "filter", Protos: nftread.LoadProtocols(""), IPSets: anyIPSet{}}
		_ = ruleClues(env, &r)
		s, ok := nftread.DecodeSem(env, r.Chain, r.Exprs)
		if ok && !s.Equal(&s) {
			t.Errorf("a decoded rule does not equal itself")
		}
		_ = nftread.SameTarget(r.Exprs, r.Exprs)
	})
}
