// Package kdump reads the rules of one nf_tables family straight from the
// kernel of a network namespace, keeping every expression's raw bytes and
// the xt info blobs uninterpreted. It exists so the xt package's tests can
// compare the real iptables-nft's output with ours byte for byte; it is not
// the production dump (that belongs to shim/native).
package kdump

import (
	"bytes"
	"fmt"

	"github.com/google/nftables/expr"
	nfxt "github.com/google/nftables/xt"
	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/nfnl"
)

// Expr is one dumped expression.
type Expr struct {
	Name string // "payload", "match", ...
	Data []byte // the raw NFTA_EXPR_DATA attribute payload
	// Parsed is the expression as google/nftables reads it, except that
	// match and target infos stay raw (*xt.Unknown). Nil for expression
	// types the library does not know.
	Parsed expr.Any
}

// Rule is one dumped rule.
type Rule struct {
	Table, Chain string
	Exprs        []Expr
}

// Dump returns every rule of the given family (unix.NFPROTO_IPV4 or
// unix.NFPROTO_IPV6) in the named network namespace (as made by `ip netns
// add`), in kernel order.
func Dump(netns string, family byte) ([]Rule, error) {
	c, err := nfnl.OpenIn("/run/netns/" + netns)
	if err != nil {
		return nil, fmt.Errorf("netlink in %s: %w", netns, err)
	}
	defer c.Close()
	var rules []Rule
	err = c.Dump(nfnl.MsgType(nfnl.SubsysNFTables, unix.NFT_MSG_GETRULE), family, nil, func(m nfnl.Message) error {
		r, err := parseRule(family, m.Attrs)
		rules = append(rules, r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("dumping rules: %w", err)
	}
	return rules, nil
}

// parseRule decodes a rule message; its bytes are copied, as the dump's
// buffer is reused.
func parseRule(family byte, b []byte) (Rule, error) {
	var r Rule
	for a := nfnl.Scan(b); a.Next(); {
		switch a.Type {
		case unix.NFTA_RULE_TABLE:
			r.Table = a.String()
		case unix.NFTA_RULE_CHAIN:
			r.Chain = a.String()
		case unix.NFTA_RULE_EXPRESSIONS:
			for el := nfnl.Scan(a.Data); el.Next(); {
				e, err := parseExpr(family, el.Data)
				if err != nil {
					return r, err
				}
				r.Exprs = append(r.Exprs, e)
			}
		}
	}
	return r, nil
}

func parseExpr(family byte, b []byte) (Expr, error) {
	var e Expr
	for a := nfnl.Scan(b); a.Next(); {
		switch a.Type {
		case unix.NFTA_EXPR_NAME:
			e.Name = a.String()
		case unix.NFTA_EXPR_DATA:
			e.Data = bytes.Clone(a.Data)
		}
	}
	var err error
	e.Parsed, err = ParseData(family, e.Name, e.Data)
	return e, err
}

// ParseData reads the NFTA_EXPR_DATA payload of an expression of the given
// name as google/nftables does, keeping match/target infos raw. It returns
// nil for expression types it does not know.
func ParseData(family byte, name string, data []byte) (expr.Any, error) {
	var e expr.Any
	switch name {
	case "match", "target":
		return parseXT(name, data)
	case "payload":
		e = &expr.Payload{}
	case "cmp":
		e = &expr.Cmp{}
	case "meta":
		e = &expr.Meta{}
	case "bitwise":
		e = &expr.Bitwise{}
	case "range":
		e = &expr.Range{}
	case "counter":
		e = &expr.Counter{}
	case "limit":
		e = &expr.Limit{}
	case "lookup":
		e = &expr.Lookup{}
	case "log":
		e = &expr.Log{}
	case "immediate":
		imm := &expr.Immediate{}
		if err := expr.Unmarshal(family, data, imm); err != nil {
			return nil, err
		}
		if imm.Register != unix.NFT_REG_VERDICT || len(imm.Data) != 0 {
			return imm, nil
		}
		e = &expr.Verdict{}
	default:
		return nil, nil
	}
	if err := expr.Unmarshal(family, data, e); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return e, nil
}

func parseXT(name string, data []byte) (expr.Any, error) {
	var (
		xname string
		rev   uint32
		info  []byte
	)
	for a := nfnl.Scan(data); a.Next(); {
		// NFTA_MATCH_* and NFTA_TARGET_* share numbers.
		switch a.Type {
		case unix.NFTA_MATCH_NAME:
			xname = a.String()
		case unix.NFTA_MATCH_REV:
			rev = a.U32()
		case unix.NFTA_MATCH_INFO:
			info = bytes.Clone(a.Data)
		}
	}
	u := nfxt.Unknown(info)
	if name == "match" {
		return &expr.Match{Name: xname, Rev: rev, Info: &u}, nil
	}
	return &expr.Target{Name: xname, Rev: rev, Info: &u}, nil
}
