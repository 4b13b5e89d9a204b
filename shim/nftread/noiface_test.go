package nftread

import (
	"testing"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// TestDecodeNoInterface reads iptables-nft's "! -i +" (the name compared
// with "INVAL/D") as that, not as an interface named INVAL/D.
func TestDecodeNoInterface(t *testing.T) {
	es := []expr.Any{
		&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte(NoInterface)},
		&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte("INVAL\x00")},
	}
	bf, n, err := DecodeBase(&RenderEnv{Fam: syntax.IPv4}, es)
	if err != nil || n != 4 {
		t.Fatalf("DecodeBase: %d expressions, %v", n, err)
	}
	if want := (syntax.Field{Set: true, Invert: true, Value: "+"}); bf.out != want {
		t.Errorf("oifname INVAL/D: %+v, want %+v", bf.out, want)
	}
	if want := (syntax.Field{Set: true, Value: "INVAL"}); bf.in != want {
		t.Errorf("iifname INVAL: %+v, want %+v", bf.in, want)
	}
}
