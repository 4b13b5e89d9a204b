package xt

import (
	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// traceReg is the register iptables-nft 1.8.9 loads TRACE's 1 into
// (NFT_REG32_01).
const traceReg = 9

// traceTarget is -j TRACE, which iptables-nft 1.8.9 writes natively as
// "meta nftrace set 1".
type traceTarget struct{}

func parseTrace(ctx Context, t syntax.Target) (Ext, error) {
	for _, o := range t.Options {
		return nil, unsupportedOption(t.Name, o.Name)
	}
	return &traceTarget{}, nil
}

func (e *traceTarget) Name() string                          { return "TRACE" }
func (e *traceTarget) Revision() (string, uint8, bool, bool) { return "TRACE", 0, true, false }
func (e *traceTarget) Save(Context) string                   { return "-j TRACE" }

func (e *traceTarget) Exprs(Context) ([]expr.Any, error) {
	return []expr.Any{
		&expr.Immediate{Register: traceReg, Data: []byte{1}},
		&expr.Meta{Key: expr.MetaKeyNFTRACE, SourceRegister: true, Register: traceReg},
	}, nil
}

// decodeTraceNative reads "immediate 1 into a register; meta set nftrace
// from it".
func decodeTraceNative(ctx Context, exprs []expr.Any) (Ext, int, error) {
	imm, _ := at[*expr.Immediate](exprs, 0)
	m, ok := at[*expr.Meta](exprs, 1)
	if !ok || m.Key != expr.MetaKeyNFTRACE || !m.SourceRegister || m.Register != imm.Register ||
		len(imm.Data) == 0 || imm.Data[0] != 1 || !allZeroBytes(imm.Data[1:]) {
		return nil, 0, decodeErr("cannot decode %s as a target", describe(imm))
	}
	return &traceTarget{}, 2, nil
}

func allZeroBytes(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
