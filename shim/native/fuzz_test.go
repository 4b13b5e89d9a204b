package native

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/kubepayload"
	"github.com/iptables-shim/iptables-shim/internal/nfnl"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// FuzzDecodeRule feeds arbitrary NEWRULE attribute streams (seeded with
// the rules of a kube-proxy payload) to the save path's decoder and
// renderer: they may refuse, never panic.
func FuzzDecodeRule(f *testing.F) {
	p, err := syntax.ParseRestore(strings.NewReader(kubepayload.Generate(kubepayload.Options{Services: 3}).Text), syntax.IPv4)
	if err != nil {
		f.Fatal(err)
	}
	for _, l := range p.Lines {
		if l.Kind != syntax.LineCommand || l.Cmd.Rule == nil {
			continue
		}
		env := &ruleEnv{fam: syntax.IPv4, table: l.Cmd.Table, chain: l.Cmd.Chain, protos: loadProtocols(""), ipsets: anyIPSet{},
			isChain: func(name string) bool { return !looksLikeExtension(name) }}
		r, err := encodeRule(env, l.Cmd.Rule)
		if err != nil {
			continue
		}
		var a nfnl.Attrs
		a.String(unix.NFTA_RULE_CHAIN, l.Cmd.Chain)
		el := a.Nest(unix.NFTA_RULE_EXPRESSIONS)
		for _, e := range r.exprs {
			if err := appendExpr(&a, unix.NFPROTO_IPV4, e); err != nil {
				f.Fatal(err)
			}
		}
		a.End(el)
		f.Add(a.B)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseRule(unix.NFPROTO_IPV4, b)
		if err != nil {
			return
		}
		env := &renderEnv{fam: syntax.IPv4, table: "nat", protos: loadProtocols(""), ipsets: anyIPSet{}, counters: true}
		_, _ = renderRule(env, &r)
	})
}
