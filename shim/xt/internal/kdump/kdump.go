// Package kdump reads the rules of one nf_tables family straight from the
// kernel of a network namespace, keeping every expression's raw bytes and
// the xt info blobs uninterpreted. It exists so the xt package's tests can
// compare the real iptables-nft's output with ours byte for byte; it is not
// the production dump (that belongs to shim/native).
package kdump

import (
	"encoding/binary"
	"fmt"
	"os"
	"strings"

	"github.com/google/nftables/expr"
	nfxt "github.com/google/nftables/xt"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
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
	f, err := os.Open("/run/netns/" + netns)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: int(f.Fd())})
	if err != nil {
		return nil, fmt.Errorf("netlink dial in %s: %w", netns, err)
	}
	defer c.Close()
	msgs, err := c.Execute(netlink.Message{
		Header: netlink.Header{
			Type:  netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_GETRULE),
			Flags: netlink.Request | netlink.Dump,
		},
		Data: []byte{family, unix.NFNETLINK_V0, 0, 0},
	})
	if err != nil {
		return nil, fmt.Errorf("dumping rules: %w", err)
	}
	var rules []Rule
	for _, m := range msgs {
		if len(m.Data) < 4 {
			continue
		}
		r, err := parseRule(family, m.Data[4:])
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	return rules, nil
}

func parseRule(family byte, b []byte) (Rule, error) {
	var r Rule
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return r, err
	}
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_RULE_TABLE:
			r.Table = ad.String()
		case unix.NFTA_RULE_CHAIN:
			r.Chain = ad.String()
		case unix.NFTA_RULE_EXPRESSIONS:
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				for nad.Next() {
					e, err := parseExpr(family, nad.Bytes())
					if err != nil {
						return err
					}
					r.Exprs = append(r.Exprs, e)
				}
				return nil
			})
		}
	}
	return r, ad.Err()
}

func parseExpr(family byte, b []byte) (Expr, error) {
	var e Expr
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return e, err
	}
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_EXPR_NAME:
			e.Name = ad.String()
		case unix.NFTA_EXPR_DATA:
			e.Data = ad.Bytes()
		}
	}
	if err := ad.Err(); err != nil {
		return e, err
	}
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
	ad, err := netlink.NewAttributeDecoder(data)
	if err != nil {
		return nil, err
	}
	ad.ByteOrder = binary.BigEndian
	var (
		xname string
		rev   uint32
		info  []byte
	)
	for ad.Next() {
		// NFTA_MATCH_* and NFTA_TARGET_* share numbers.
		switch ad.Type() {
		case unix.NFTA_MATCH_NAME:
			xname = strings.TrimRight(ad.String(), "\x00")
		case unix.NFTA_MATCH_REV:
			rev = ad.Uint32()
		case unix.NFTA_MATCH_INFO:
			info = ad.Bytes()
		}
	}
	if err := ad.Err(); err != nil {
		return nil, err
	}
	u := nfxt.Unknown(info)
	if name == "match" {
		return &expr.Match{Name: xname, Rev: rev, Info: &u}, nil
	}
	return &expr.Target{Name: xname, Rev: rev, Info: &u}, nil
}
