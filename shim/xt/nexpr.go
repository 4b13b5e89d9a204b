package xt

import (
	"encoding/binary"

	"github.com/google/nftables/expr"
)

// The native forms iptables-nft writes all work in register 1.
const reg1 = 1

func loadTransport(off, n uint32) *expr.Payload {
	return &expr.Payload{DestRegister: reg1, Base: expr.PayloadBaseTransportHeader, Offset: off, Len: n}
}

func cmpReg(op expr.CmpOp, data []byte) *expr.Cmp {
	return &expr.Cmp{Op: op, Register: reg1, Data: data}
}

// eqOp is cmp eq, or neq when inverted.
func eqOp(inv bool) expr.CmpOp {
	if inv {
		return expr.CmpOpNeq
	}
	return expr.CmpOpEq
}

func maskReg(mask []byte) *expr.Bitwise {
	return &expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: uint32(len(mask)), Mask: mask, Xor: make([]byte, len(mask))}
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

// at returns exprs[i] as a T, or ok=false.
func at[T expr.Any](exprs []expr.Any, i int) (T, bool) {
	var zero T
	if i >= len(exprs) {
		return zero, false
	}
	v, ok := exprs[i].(T)
	return v, ok
}
