package nftread

import (
	"fmt"

	"github.com/google/nftables/expr"
	nfxt "github.com/google/nftables/xt"
	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/nfnl"
)

// The expression types iptables-nft rules consist of are encoded and decoded
// here directly into and out of the batch buffer: google/nftables' own
// marshalling allocates several buffers per attribute, which made encoding
// a third of a kube-proxy restore. The bytes are the library's (a test
// compares them); other types go through the library.

// AppendExpr appends e as one NFTA_LIST_ELEM of a rule's expression list.
func AppendExpr(a *nfnl.Attrs, fam uint8, e expr.Any) error {
	el := a.Nest(unix.NFTA_LIST_ELEM)
	defer a.End(el)
	switch e := e.(type) {
	case *expr.Meta:
		a.String(unix.NFTA_EXPR_NAME, "meta")
		d := a.Nest(unix.NFTA_EXPR_DATA)
		a.U32(unix.NFTA_META_KEY, uint32(e.Key))
		if e.SourceRegister {
			a.U32(unix.NFTA_META_SREG, e.Register)
		} else {
			a.U32(unix.NFTA_META_DREG, e.Register)
		}
		a.End(d)
	case *expr.Cmp:
		a.String(unix.NFTA_EXPR_NAME, "cmp")
		d := a.Nest(unix.NFTA_EXPR_DATA)
		a.U32(unix.NFTA_CMP_SREG, e.Register)
		a.U32(unix.NFTA_CMP_OP, uint32(e.Op))
		v := a.Nest(unix.NFTA_CMP_DATA)
		a.Bytes(unix.NFTA_DATA_VALUE, e.Data)
		a.End(v)
		a.End(d)
	case *expr.Payload:
		if e.OperationType != expr.PayloadLoad || e.CsumType != 0 {
			return appendLibExpr(a, fam, e)
		}
		a.String(unix.NFTA_EXPR_NAME, "payload")
		d := a.Nest(unix.NFTA_EXPR_DATA)
		a.U32(unix.NFTA_PAYLOAD_DREG, e.DestRegister)
		a.U32(unix.NFTA_PAYLOAD_BASE, uint32(e.Base))
		a.U32(unix.NFTA_PAYLOAD_OFFSET, e.Offset)
		a.U32(unix.NFTA_PAYLOAD_LEN, e.Len)
		a.End(d)
	case *expr.Bitwise:
		a.String(unix.NFTA_EXPR_NAME, "bitwise")
		d := a.Nest(unix.NFTA_EXPR_DATA)
		a.U32(unix.NFTA_BITWISE_SREG, e.SourceRegister)
		a.U32(unix.NFTA_BITWISE_DREG, e.DestRegister)
		a.U32(unix.NFTA_BITWISE_LEN, e.Len)
		m := a.Nest(unix.NFTA_BITWISE_MASK)
		a.Bytes(unix.NFTA_DATA_VALUE, e.Mask)
		a.End(m)
		x := a.Nest(unix.NFTA_BITWISE_XOR)
		a.Bytes(unix.NFTA_DATA_VALUE, e.Xor)
		a.End(x)
		a.End(d)
	case *expr.Counter:
		a.String(unix.NFTA_EXPR_NAME, "counter")
		d := a.Nest(unix.NFTA_EXPR_DATA)
		a.U64(unix.NFTA_COUNTER_BYTES, e.Bytes)
		a.U64(unix.NFTA_COUNTER_PACKETS, e.Packets)
		a.End(d)
	case *expr.Verdict:
		a.String(unix.NFTA_EXPR_NAME, "immediate")
		d := a.Nest(unix.NFTA_EXPR_DATA)
		a.U32(unix.NFTA_IMMEDIATE_DREG, unix.NFT_REG_VERDICT)
		im := a.Nest(unix.NFTA_IMMEDIATE_DATA)
		v := a.Nest(unix.NFTA_DATA_VERDICT)
		a.U32(unix.NFTA_VERDICT_CODE, uint32(e.Kind))
		if e.Chain != "" {
			a.String(unix.NFTA_VERDICT_CHAIN, e.Chain)
		}
		a.End(v)
		a.End(im)
		a.End(d)
	case *expr.Match:
		return appendXT(a, fam, "match", e.Name, e.Rev, e.Info)
	case *expr.Target:
		return appendXT(a, fam, "target", e.Name, e.Rev, e.Info)
	default:
		return appendLibExpr(a, fam, e)
	}
	return nil
}

func appendLibExpr(a *nfnl.Attrs, fam uint8, e expr.Any) error {
	b, err := expr.Marshal(fam, e)
	if err != nil {
		return fmt.Errorf("encoding %T: %w", e, err)
	}
	a.B = append(a.B, b...)
	return nil
}

// appendXT encodes a match or target; NFTA_MATCH_* and NFTA_TARGET_*
// share their numbering.
func appendXT(a *nfnl.Attrs, fam uint8, kind, name string, rev uint32, info nfxt.InfoAny) error {
	var blob []byte
	if raw, ok := info.(*nfxt.Unknown); ok {
		blob = *raw
	} else {
		var err error
		if blob, err = nfxt.Marshal(nfxt.TableFamily(fam), rev, info); err != nil {
			return fmt.Errorf("encoding %s %s: %w", kind, name, err)
		}
	}
	if len(name) >= expr.XTablesExtensionNameMaxLen {
		name = name[:expr.XTablesExtensionNameMaxLen-1]
	}
	a.String(unix.NFTA_EXPR_NAME, kind)
	d := a.Nest(unix.NFTA_EXPR_DATA)
	a.String(unix.NFTA_MATCH_NAME, name)
	a.U32(unix.NFTA_MATCH_REV, rev)
	a.Bytes(unix.NFTA_MATCH_INFO, blob)
	a.End(d)
	return nil
}

// DecodeFast decodes the expression types iptables-nft rules mostly
// consist of; ok is false for the others. Byte slices alias data.
func (d *RuleDecoder) DecodeFast(name, data []byte) (expr.Any, bool) {
	switch string(name) {
	case "meta":
		e := d.metas.next()
		for a := nfnl.Scan(data); a.Next(); {
			switch a.Type {
			case unix.NFTA_META_KEY:
				e.Key = expr.MetaKey(a.U32())
			case unix.NFTA_META_DREG:
				e.Register = a.U32()
			case unix.NFTA_META_SREG:
				e.Register, e.SourceRegister = a.U32(), true
			default:
				return nil, false
			}
		}
		return e, true
	case "cmp":
		e := d.cmps.next()
		for a := nfnl.Scan(data); a.Next(); {
			switch a.Type {
			case unix.NFTA_CMP_SREG:
				e.Register = a.U32()
			case unix.NFTA_CMP_OP:
				e.Op = expr.CmpOp(a.U32())
			case unix.NFTA_CMP_DATA:
				v, ok := dataValue(a.Data)
				if !ok {
					return nil, false
				}
				e.Data = v
			default:
				return nil, false
			}
		}
		return e, true
	case "payload":
		e := d.payloads.next()
		for a := nfnl.Scan(data); a.Next(); {
			switch a.Type {
			case unix.NFTA_PAYLOAD_DREG:
				e.DestRegister = a.U32()
			case unix.NFTA_PAYLOAD_BASE:
				e.Base = expr.PayloadBase(a.U32())
			case unix.NFTA_PAYLOAD_OFFSET:
				e.Offset = a.U32()
			case unix.NFTA_PAYLOAD_LEN:
				e.Len = a.U32()
			default:
				// Writes and checksum updates: the library's decoder.
				return nil, false
			}
		}
		return e, true
	case "bitwise":
		e := d.bitwises.next()
		for a := nfnl.Scan(data); a.Next(); {
			var ok bool
			switch a.Type {
			case unix.NFTA_BITWISE_SREG:
				e.SourceRegister, ok = a.U32(), true
			case unix.NFTA_BITWISE_DREG:
				e.DestRegister, ok = a.U32(), true
			case unix.NFTA_BITWISE_LEN:
				e.Len, ok = a.U32(), true
			case unix.NFTA_BITWISE_MASK:
				e.Mask, ok = dataValue(a.Data)
			case unix.NFTA_BITWISE_XOR:
				e.Xor, ok = dataValue(a.Data)
			case nftaBitwiseOp:
				// Only the mask-and-xor operation has this shape.
				ok = a.U32() == nftBitwiseBool
			}
			if !ok {
				return nil, false
			}
		}
		return e, true
	case "counter":
		e := d.counters.next()
		for a := nfnl.Scan(data); a.Next(); {
			switch a.Type {
			case unix.NFTA_COUNTER_BYTES:
				e.Bytes = a.U64()
			case unix.NFTA_COUNTER_PACKETS:
				e.Packets = a.U64()
			case unix.NFTA_COUNTER_PAD:
			default:
				return nil, false
			}
		}
		return e, true
	case "immediate":
		return d.decodeVerdict(data)
	}
	return nil, false
}

// decodeVerdict decodes an immediate that loads the verdict register.
func (d *RuleDecoder) decodeVerdict(data []byte) (expr.Any, bool) {
	v := d.verdicts.next()
	isVerdict := false
	for a := nfnl.Scan(data); a.Next(); {
		switch a.Type {
		case unix.NFTA_IMMEDIATE_DREG:
			if a.U32() != unix.NFT_REG_VERDICT {
				return nil, false
			}
		case unix.NFTA_IMMEDIATE_DATA:
			for dv := nfnl.Scan(a.Data); dv.Next(); {
				if dv.Type != unix.NFTA_DATA_VERDICT {
					return nil, false
				}
				isVerdict = true
				for c := nfnl.Scan(dv.Data); c.Next(); {
					switch c.Type {
					case unix.NFTA_VERDICT_CODE:
						v.Kind = expr.VerdictKind(int32(c.U32()))
					case unix.NFTA_VERDICT_CHAIN:
						v.Chain = d.str(jumpChainName, c.Data)
					default:
						return nil, false
					}
				}
			}
		default:
			return nil, false
		}
	}
	return v, isVerdict
}

// dataValue returns the NFTA_DATA_VALUE inside a nested data attribute.
func dataValue(b []byte) ([]byte, bool) {
	var v []byte
	n := 0
	for a := nfnl.Scan(b); a.Next(); {
		if a.Type != unix.NFTA_DATA_VALUE {
			return nil, false
		}
		v = a.Data
		n++
	}
	return v, n == 1
}

// nf_tables.h values x/sys does not define.
const (
	nftaBitwiseOp  = 6 // NFTA_BITWISE_OP
	nftBitwiseBool = 0 // NFT_BITWISE_BOOL: (reg & mask) ^ xor
)
