package native

import (
	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"github.com/iptables-shim/iptables-shim/shim/nftread"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
	"github.com/iptables-shim/iptables-shim/shim/xt"
)

// Writing in the host's dialect (shim/dialect, docs/dialects.md): the
// same rule as the host's own iptables-nft would encode it, so the host's
// tools read back exactly what was meant.

// baseExprs are a rule's base matches, encoded each on its own.
type baseExprs struct {
	iface [2][]expr.Any // -i, -o
	proto []expr.Any
	addr  [2][]expr.Any // -s, -d
	frag  []expr.Any
}

// ordered joins the base matches in the dialect's order: 1.8.11 puts the
// addresses first (saddr, daddr, iifname, oifname, protocol), the versions
// before it the interfaces (iifname, oifname, l4proto, saddr, daddr).
// The fragment test follows in both.
func (b *baseExprs) ordered(d dialect.Dialect) []expr.Any {
	var out []expr.Any
	if d == dialect.V1811 {
		for i, es := range b.iface {
			if len(es) == 1 {
				// "-i +" matches every interface: 1.8.11 writes
				// nothing for it, where 1.8.9 loads the name
				// and compares nothing.
				b.iface[i] = nil
			}
		}
		for _, es := range [][]expr.Any{b.addr[0], b.addr[1], b.iface[0], b.iface[1], b.proto, b.frag} {
			out = append(out, es...)
		}
		return out
	}
	for _, es := range [][]expr.Any{b.iface[0], b.iface[1], b.proto, b.addr[0], b.addr[1], b.frag} {
		out = append(out, es...)
	}
	return out
}

// protoExprs encodes -p N: meta l4proto, except 1.8.11's IPv4 rules,
// which load the protocol byte of the IPv4 header.
func protoExprs(env *ruleEnv, n uint8, invert bool) []expr.Any {
	cmp := &expr.Cmp{Op: cmpOp(invert), Register: 1, Data: []byte{n}}
	if env.dialect == dialect.V1811 && env.fam == syntax.IPv4 {
		return []expr.Any{&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: nftread.IPv4ProtoOffset, Len: 1}, cmp}
	}
	return []expr.Any{&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1}, cmp}
}

// dialectCompat returns the xt form a match takes in dialect d when it
// differs from 1.8.9's native one: 1.8.7 writes tcp, udp and mark as xt
// matches.
func dialectCompat(d dialect.Dialect, ext xt.Ext) (*expr.Match, uint8, bool) {
	if d != dialect.V187 {
		return nil, 0, false
	}
	return xt.CompatForm(ext)
}

// dialectCompatTarget is dialectCompat for targets: 1.8.7 writes NFLOG as
// an xt target.
func dialectCompatTarget(d dialect.Dialect, ext xt.Ext) (*expr.Target, uint8, bool) {
	if d != dialect.V187 {
		return nil, 0, false
	}
	return xt.CompatTargetForm(ext)
}
