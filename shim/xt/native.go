package xt

import (
	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// decodeNative decodes a match iptables-nft wrote as native expressions,
// recognised by its first expression.
func decodeNative(ctx Context, exprs []expr.Any) (Ext, int, error) {
	switch x := exprs[0].(type) {
	case *expr.Limit:
		return decodeLimitNative(ctx, exprs)
	case *expr.Meta:
		if x.Key == expr.MetaKeyMARK {
			return decodeMarkNative(ctx, exprs)
		}
	case *expr.Payload:
		switch x.Base {
		case expr.PayloadBaseTransportHeader:
			if e, n, ok := decodeICMPNative(ctx, exprs); ok {
				return e, n, nil
			}
			return decodeTCPUDPNative(ctx, exprs)
		case expr.PayloadBaseNetworkHeader:
			if e, n, ok := decodeTTLNative(ctx, exprs); ok {
				return e, n, nil
			}
		}
	}
	if m, ok := exprs[0].(*expr.Meta); ok && m.Key == expr.MetaKeyPKTTYPE {
		if e, n, ok := decodePkttypeNative(exprs); ok {
			return e, n, nil
		}
	}
	return nil, 0, decodeErr("cannot decode %s as a match", describe(exprs[0]))
}

// The tests below are what nft itself writes for these matches; iptables-nft
// 1.8.9 reads them as its own extensions (nft-shared.c), and so does the
// shim, to print what 1.8.9 prints for a rule nft wrote.

// decodeTTLNative reads "ip ttl OP N" (IPv4 header offset 8) or "ip6
// hoplimit OP N" (IPv6 offset 7) as -m ttl / -m hl: eq, neq, lt, gt.
func decodeTTLNative(ctx Context, exprs []expr.Any) (Ext, int, bool) {
	pl := exprs[0].(*expr.Payload)
	name, off := "ttl", uint32(8)
	if ctx.Family == syntax.IPv6 {
		name, off = "hl", 7
	}
	if pl.OperationType != expr.PayloadLoad || pl.Offset != off || pl.Len != 1 || pl.DestRegister != reg1 {
		return nil, 0, false
	}
	c, ok := at[*expr.Cmp](exprs, 1)
	if !ok || c.Register != reg1 || len(c.Data) != 1 {
		return nil, 0, false
	}
	var mode uint8
	switch c.Op {
	case expr.CmpOpEq:
		mode = ttlEq
	case expr.CmpOpNeq:
		mode = ttlNe
	case expr.CmpOpLt:
		mode = ttlLt
	case expr.CmpOpGt:
		mode = ttlGt
	default:
		return nil, 0, false
	}
	return &ttlMatch{name: name, mode: mode, value: c.Data[0]}, 2, true
}

// decodeICMPNative reads "icmp type T" (a 1-byte load of the transport
// header, any code) or "icmp type T icmp code C" (a 2-byte load) under -p
// icmp (icmpv6 for IPv6) as -m icmp --icmp-type T[/C].
func decodeICMPNative(ctx Context, exprs []expr.Any) (Ext, int, bool) {
	if !ctx.Protocol.Set || ctx.Protocol.Invert {
		return nil, 0, false
	}
	p, _ := protoNum(ctx.Protocol.Value)
	v6 := ctx.Family == syntax.IPv6
	if v6 && p != 58 || !v6 && p != 1 {
		return nil, 0, false
	}
	pl := exprs[0].(*expr.Payload)
	if pl.OperationType != expr.PayloadLoad || pl.Offset != 0 || pl.Len < 1 || pl.Len > 2 || pl.DestRegister != reg1 {
		return nil, 0, false
	}
	c, ok := at[*expr.Cmp](exprs, 1)
	if !ok || c.Register != reg1 || len(c.Data) != int(pl.Len) || c.Op != expr.CmpOpEq && c.Op != expr.CmpOpNeq {
		return nil, 0, false
	}
	e := &icmpMatch{v6: v6, typ: c.Data[0], cmin: 0, cmax: 0xff, invert: c.Op == expr.CmpOpNeq}
	if pl.Len == 2 {
		e.cmin, e.cmax = c.Data[1], c.Data[1]
	}
	return e, 2, true
}

// decodePkttypeNative reads "meta pkttype [!=] T" as -m pkttype.
func decodePkttypeNative(exprs []expr.Any) (Ext, int, bool) {
	m := exprs[0].(*expr.Meta)
	if m.SourceRegister || m.Register != reg1 {
		return nil, 0, false
	}
	c, ok := at[*expr.Cmp](exprs, 1)
	if !ok || c.Register != reg1 || len(c.Data) != 1 || c.Op != expr.CmpOpEq && c.Op != expr.CmpOpNeq {
		return nil, 0, false
	}
	return &pkttypeMatch{typ: uint32(c.Data[0]), invert: c.Op == expr.CmpOpNeq}, 2, true
}
