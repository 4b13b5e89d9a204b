package native

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/kubepayload"
	"github.com/iptables-shim/iptables-shim/internal/nfnl"
	"github.com/iptables-shim/iptables-shim/shim/nftread"
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
		env := &ruleEnv{fam: syntax.IPv4, table: l.Cmd.Table, chain: l.Cmd.Chain, protos: nftread.LoadProtocols(""), ipsets: anyIPSet{},
			isChain: func(name string) bool { return !looksLikeExtension(name) }}
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
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := nftread.ParseRule(unix.NFPROTO_IPV4, b)
		if err != nil {
			return
		}
		env := &nftread.RenderEnv{Fam: syntax.IPv4, Table: "nat", Protos: nftread.LoadProtocols(""), IPSets: anyIPSet{}, Counters: true}
		_, _ = nftread.RenderRule(env, &r)
	})
}
