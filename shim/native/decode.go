package native

import (
	"fmt"

	"github.com/google/nftables/expr"
	nfxt "github.com/google/nftables/xt"
	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/shim/native/nfnl"
)

// dumpedRule is one rule as the kernel dumps it.
type dumpedRule struct {
	chain  string
	handle uint64
	exprs  []expr.Any
	// proto and invProto are the rule's NFTA_RULE_COMPAT, which a rule
	// resent in place (iptables -Z) must carry again.
	proto    uint32
	invProto bool
}

// parseRule decodes a NEWRULE message of a dump.
func parseRule(fam uint8, b []byte) (dumpedRule, error) {
	var r dumpedRule
	var exprsAttr []byte
	for a := range nfnl.Walk(b) {
		switch a.Type {
		case unix.NFTA_RULE_CHAIN:
			r.chain = a.String()
		case unix.NFTA_RULE_HANDLE:
			r.handle = a.U64()
		case unix.NFTA_RULE_EXPRESSIONS:
			exprsAttr = a.Data
		case unix.NFTA_RULE_COMPAT:
			for c := range nfnl.Walk(a.Data) {
				switch c.Type {
				case unix.NFTA_RULE_COMPAT_PROTO:
					r.proto = c.U32()
				case unix.NFTA_RULE_COMPAT_FLAGS:
					r.invProto = c.U32()&unix.NFT_RULE_COMPAT_F_INV != 0
				}
			}
		}
	}
	var err error
	r.exprs, err = decodeExprs(fam, exprsAttr)
	return r, err
}

// decodeExprs decodes a rule's expression list. Unlike google/nftables it
// refuses expression types it does not know instead of skipping them (a
// skipped expression would make save print a broader rule than the kernel
// enforces), and it keeps xt match/target blobs raw for shim/xt.
func decodeExprs(fam uint8, b []byte) ([]expr.Any, error) {
	var out []expr.Any
	for el := range nfnl.Walk(b) {
		if el.Type != unix.NFTA_LIST_ELEM {
			return nil, fmt.Errorf("unexpected attribute %d in the expression list", el.Type)
		}
		var name string
		var data []byte
		for a := range nfnl.Walk(el.Data) {
			switch a.Type {
			case unix.NFTA_EXPR_NAME:
				name = a.String()
			case unix.NFTA_EXPR_DATA:
				data = a.Data
			}
		}
		e, err := decodeExpr(fam, name, data)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func decodeExpr(fam uint8, name string, data []byte) (expr.Any, error) {
	if e, ok := decodeFast(name, data); ok {
		return e, nil
	}
	var e expr.Any
	switch name {
	case "match", "target":
		return decodeXT(name, data), nil
	case "meta":
		e = &expr.Meta{}
	case "cmp":
		e = &expr.Cmp{}
	case "payload":
		e = &expr.Payload{}
	case "bitwise":
		e = &expr.Bitwise{}
	case "range":
		e = &expr.Range{}
	case "counter":
		e = &expr.Counter{}
	case "immediate":
		e = &expr.Immediate{}
	case "lookup":
		e = &expr.Lookup{}
	case "limit":
		e = &expr.Limit{}
	case "ct":
		e = &expr.Ct{}
	case "log":
		e = &expr.Log{}
	default:
		return nil, fmt.Errorf("expression %q is not understood", name)
	}
	if err := expr.Unmarshal(fam, data, e); err != nil {
		return nil, fmt.Errorf("decoding expression %q: %w", name, err)
	}
	if imm, ok := e.(*expr.Immediate); ok && imm.Register == unix.NFT_REG_VERDICT && len(imm.Data) == 0 {
		v := &expr.Verdict{}
		if err := expr.Unmarshal(fam, data, v); err != nil {
			return nil, fmt.Errorf("decoding a verdict: %w", err)
		}
		return v, nil
	}
	return e, nil
}

// decodeXT builds a match or target expression whose Info is the kernel's
// raw blob, as shim/xt's decoders want it.
func decodeXT(name string, data []byte) expr.Any {
	var ext string
	var rev uint32
	var info []byte
	for a := range nfnl.Walk(data) {
		// NFTA_MATCH_* and NFTA_TARGET_* share their numbering.
		switch a.Type {
		case unix.NFTA_MATCH_NAME:
			ext = a.String()
		case unix.NFTA_MATCH_REV:
			rev = a.U32()
		case unix.NFTA_MATCH_INFO:
			info = append([]byte(nil), a.Data...)
		}
	}
	raw := nfxt.Unknown(info)
	if name == "target" {
		return &expr.Target{Name: ext, Rev: rev, Info: &raw}
	}
	return &expr.Match{Name: ext, Rev: rev, Info: &raw}
}
