package native

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/kubepayload"
	"github.com/iptables-shim/iptables-shim/internal/nfnl"
	"github.com/iptables-shim/iptables-shim/shim/nftread"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// exprCorpus is every expression the core and shim/xt produce for
// generated kube-proxy payloads and shim/xt's cases, plus a few by hand.
func exprCorpus(t *testing.T) map[syntax.Family][]expr.Any {
	out := map[syntax.Family][]expr.Any{}
	var texts []struct {
		fam  syntax.Family
		text string
	}
	for _, fam := range []syntax.Family{syntax.IPv4, syntax.IPv6} {
		for _, shape := range []kubepayload.Shape{kubepayload.IptablesMode, kubepayload.IPVSMode} {
			texts = append(texts, struct {
				fam  syntax.Family
				text string
			}{fam, kubepayload.Generate(kubepayload.Options{Services: 20, Family: fam, Shape: shape}).Text})
		}
	}
	for _, s := range parseCorpus(t, "testdata/restore/base-fields.txt") {
		texts = append(texts, struct {
			fam  syntax.Family
			text string
		}{s.fam, s.payload})
	}
	for _, tx := range texts {
		p, err := syntax.ParseRestore(strings.NewReader(tx.text), tx.fam)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range p.Lines {
			if l.Kind != syntax.LineCommand || l.Cmd.Rule == nil {
				continue
			}
			env := &ruleEnv{fam: tx.fam, table: l.Cmd.Table, chain: l.Cmd.Chain, protos: nftread.LoadProtocols(""), ipsets: anyIPSet{},
				isChain: func(name string) bool { return !looksLikeExtension(name) }, counters: true}
			r, err := encodeRule(env, l.Cmd.Rule)
			if err != nil {
				continue
			}
			out[tx.fam] = append(out[tx.fam], r.exprs...)
		}
	}
	out[syntax.IPv4] = append(out[syntax.IPv4],
		&expr.Counter{Packets: 1 << 40, Bytes: 12345},
		&expr.Verdict{Kind: expr.VerdictGoto, Chain: "KUBE-X"},
		&expr.Meta{Key: expr.MetaKeyMARK, SourceRegister: true, Register: 1},
		&expr.Cmp{Op: expr.CmpOpLte, Register: 1, Data: []byte{1, 2}},
	)
	return out
}

// TestExprCodecMatchesLibrary checks that the direct encoder writes the
// bytes google/nftables' marshalling writes, and that the direct decoder
// reads them back as the library's decoder does.
func TestExprCodecMatchesLibrary(t *testing.T) {
	n := 0
	for fam, es := range exprCorpus(t) {
		f := nftread.NFProto(fam)
		for _, e := range es {
			want, err := expr.Marshal(f, e)
			if err != nil {
				t.Fatalf("%T: %v", e, err)
			}
			var a nfnl.Attrs
			if err := nftread.AppendExpr(&a, f, e); err != nil {
				t.Fatalf("%T: %v", e, err)
			}
			got := nfnl.ParseAttrs(a.B)[0].Data // inside NFTA_LIST_ELEM
			if !bytes.Equal(got, want) {
				t.Errorf("%T %+v:\n got  %x\n want %x", e, e, got, want)
				continue
			}
			n++
			var name string
			var data []byte
			for _, at := range nfnl.ParseAttrs(want) {
				switch at.Type {
				case unix.NFTA_EXPR_NAME:
					name = at.String()
				case unix.NFTA_EXPR_DATA:
					data = at.Data
				}
			}
			if name == "match" || name == "target" {
				continue
			}
			fast, ok := new(nftread.RuleDecoder).DecodeFast([]byte(name), data)
			if !ok {
				continue
			}
			if !reflect.DeepEqual(normalizeExpr(fast), normalizeExpr(e)) {
				t.Errorf("decodeFast(%s) = %+v, want %+v", name, fast, e)
			}
		}
	}
	if n < 100 {
		t.Errorf("only %d expressions compared", n)
	}
}
