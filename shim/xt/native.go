package xt

import "github.com/google/nftables/expr"

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
		if x.Base == expr.PayloadBaseTransportHeader {
			return decodeTCPUDPNative(ctx, exprs)
		}
	}
	return nil, 0, decodeErr("cannot decode %s as a match", describe(exprs[0]))
}
