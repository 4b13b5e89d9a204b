package nftread

import (
	"testing"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// TestReadBaseForms reads the base matches in the forms and orders the
// iptables-nft versions write: 1.8.7-1.8.10's iifname, oifname, l4proto,
// saddr, daddr; 1.8.11's saddr, daddr, iifname, oifname, protocol with the
// IPv4 protocol loaded from the header; addresses with an all-ones mask
// applied; interface names compared with their whole zero-padded buffer.
func TestReadBaseForms(t *testing.T) {
	iif := func(b []byte) []expr.Any {
		return []expr.Any{&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: b}}
	}
	l4 := []expr.Any{&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{6}}}
	nh9 := func(op expr.CmpOp) []expr.Any {
		return []expr.Any{&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 9, Len: 1}, &expr.Cmp{Op: op, Register: 1, Data: []byte{17}}}
	}
	saddr := []expr.Any{&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 3}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{10, 1, 2}}}
	daddrMasked := []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: []byte{255, 255, 255, 255}, Xor: []byte{0, 0, 0, 0}},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte{192, 168, 0, 1}},
	}
	tail := []expr.Any{&expr.Counter{}, &expr.Verdict{Kind: expr.VerdictAccept}}
	cat := func(parts ...[]expr.Any) []expr.Any {
		var out []expr.Any
		for _, p := range parts {
			out = append(out, p...)
		}
		return append(out, tail...)
	}
	for _, tc := range []struct {
		name  string
		exprs []expr.Any
		want  string
	}{
		{"1.8.9 order", cat(iif([]byte("eth0\x00")), l4, saddr, daddrMasked), "-A X -s 10.1.2.0/24 ! -d 192.168.0.1/32 -i eth0 -p tcp -j ACCEPT"},
		{"1.8.11 order", cat(saddr, daddrMasked, iif([]byte("eth0\x00")), l4), "-A X -s 10.1.2.0/24 ! -d 192.168.0.1/32 -i eth0 -p tcp -j ACCEPT"},
		{"1.8.11 payload -p", cat(saddr, nh9(expr.CmpOpEq)), "-A X -s 10.1.2.0/24 -p udp -j ACCEPT"},
		{"inverted payload -p", cat(nh9(expr.CmpOpNeq)), "-A X ! -p udp -j ACCEPT"},
		{"padded interface name", cat(iif([]byte("eth0\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))), "-A X -i eth0 -j ACCEPT"},
		{"no counter", append(iif([]byte("lo\x00")), &expr.Verdict{Kind: expr.VerdictDrop}), "-A X -i lo -j DROP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := &RenderEnv{Fam: syntax.IPv4, Table: "filter", Protos: LoadProtocols("")}
			got, err := RenderRule(env, &DumpedRule{Chain: "X", Exprs: tc.exprs})
			if err != nil || got != tc.want {
				t.Errorf("got %q (%v), want %q", got, err, tc.want)
			}
			// And -C finds the rule written as 1.8.9 writes it.
			want, ok1 := DecodeSem(env, "X", tc.exprs)
			if !ok1 {
				t.Fatalf("decodeSem refused %s", tc.name)
			}
			if !want.Equal(&want) {
				t.Errorf("a rule does not equal itself")
			}
		})
	}
	// The same rule in two dialects is one rule to -C.
	env := &RenderEnv{Fam: syntax.IPv4, Table: "filter", Protos: LoadProtocols("")}
	a, _ := DecodeSem(env, "X", cat(iif([]byte("eth0\x00")), l4, saddr, daddrMasked))
	b, _ := DecodeSem(env, "X", cat(saddr, daddrMasked, iif([]byte("eth0\x00")), l4))
	if !a.Equal(&b) {
		t.Error("1.8.9's and 1.8.11's encodings of one rule compare unequal")
	}
	c, _ := DecodeSem(env, "X", cat(saddr, nh9(expr.CmpOpEq)))
	if a.Equal(&c) {
		t.Error("different rules compare equal")
	}
}
