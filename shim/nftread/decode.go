package nftread

import (
	"bytes"
	"fmt"

	"github.com/google/nftables/expr"
	nfxt "github.com/google/nftables/xt"
	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/nfnl"
)

// DumpedRule is one rule as the kernel dumps it.
type DumpedRule struct {
	// Chain is the rule's chain and Handle its kernel handle.
	Chain  string
	Handle uint64
	// Exprs are the rule's expressions, decoded.
	Exprs []expr.Any
	// Proto and InvProto are the rule's NFTA_RULE_COMPAT, which a rule
	// resent in place (iptables -Z) must carry again.
	Proto    uint32
	InvProto bool
	// Comment is the comment in the rule's user data, which nft writes
	// for "comment ..." (iptables-nft 1.8.9 reads it as -m comment).
	Comment string
}

// udataRuleComment is NFTNL_UDATA_RULE_COMMENT, the comment's type in a
// rule's user data (type, length, value records).
const udataRuleComment = 0

// userdataComment returns the comment of a rule's user data, if any.
func userdataComment(b []byte) string {
	for len(b) >= 2 {
		typ, n := b[0], int(b[1])
		if 2+n > len(b) {
			return ""
		}
		if typ == udataRuleComment {
			v := b[2 : 2+n]
			if i := bytes.IndexByte(v, 0); i >= 0 {
				v = v[:i]
			}
			return string(v)
		}
		b = b[2+n:]
	}
	return ""
}

// RuleDecoder turns dumped rules into expressions. Its expressions come
// from slabs it owns: a save decodes every rule of the ruleset once and
// renders it at once, so it resets the decoder between rules and reuses the
// memory instead of feeding the garbage collector some forty objects a rule.
// A decoder that is never reset hands out memory the caller may keep.
//
// Decoded byte slices (cmp data, masks, xt info) alias the message, as
// google/nftables' decoders do not: callers that keep rules decode copies.
type RuleDecoder struct {
	metas    slab[expr.Meta]
	cmps     slab[expr.Cmp]
	payloads slab[expr.Payload]
	bitwises slab[expr.Bitwise]
	counters slab[expr.Counter]
	verdicts slab[expr.Verdict]
	matches  slab[expr.Match]
	targets  slab[expr.Target]
	infos    slab[nfxt.Unknown]
	list     []expr.Any
	// names caches the strings of the chain and extension names recently
	// decoded when not nil: rules come chain by chain, and most jump to
	// a chain the rule before also jumped to or use the same few
	// extensions. A lookup in a map of every name cost more than the
	// allocation it saved.
	names *nameCache
}

// slab hands out zeroed T's from blocks. A full block is left to the
// values handed out from it and a new one started, so pointers already
// given out stay valid.
type slab[T any] struct {
	block []T
	n     int
}

func (s *slab[T]) next() *T {
	if s.n == len(s.block) {
		s.block = make([]T, max(4, 2*len(s.block)))
		s.n = 0
	}
	p := &s.block[s.n]
	s.n++
	var zero T
	*p = zero
	return p
}

// newSavingDecoder returns a decoder for rules that are rendered at once
// and then dropped (reset between rules), caching names.
func newSavingDecoder() *RuleDecoder {
	return &RuleDecoder{names: &nameCache{}}
}

// reset makes the memory of the rules decoded so far available again; they
// must no longer be used.
func (d *RuleDecoder) reset() {
	d.metas.n, d.cmps.n, d.payloads.n, d.bitwises.n, d.counters.n = 0, 0, 0, 0, 0
	d.verdicts.n, d.matches.n, d.targets.n, d.infos.n = 0, 0, 0, 0
	clear(d.list)
	d.list = d.list[:0]
}

// nameKind is which name a string attribute holds, for nameCache.
type nameKind int

const (
	ruleChainName nameKind = iota
	jumpChainName
	extName
	nameKinds
)

// nameCache remembers the last few names of each kind.
type nameCache [nameKinds][4]string

// str returns a NUL-terminated string attribute as a string.
func (d *RuleDecoder) str(kind nameKind, b []byte) string {
	b = cString(b)
	if d.names == nil {
		return string(b)
	}
	recent := &d.names[kind]
	for i, s := range recent {
		if s == string(b) {
			// Move to front, so the names in use stay.
			copy(recent[1:i+1], recent[:i])
			recent[0] = s
			return s
		}
	}
	s := string(b)
	copy(recent[1:], recent[:len(recent)-1])
	recent[0] = s
	return s
}

// ParseRule decodes a NEWRULE message of a dump into memory the caller may
// keep (byte slices alias b).
func ParseRule(fam uint8, b []byte) (DumpedRule, error) {
	return new(RuleDecoder).parseRule(fam, b)
}

// DecodeExprs decodes an expression list into memory the caller may keep
// (byte slices alias b).
func DecodeExprs(fam uint8, b []byte) ([]expr.Any, error) {
	d := new(RuleDecoder)
	if err := d.decodeExprs(fam, b); err != nil {
		return nil, err
	}
	return d.list, nil
}

// parseRule decodes a NEWRULE message of a dump.
func (d *RuleDecoder) parseRule(fam uint8, b []byte) (DumpedRule, error) {
	var r DumpedRule
	var exprsAttr []byte
	for a := nfnl.Scan(b); a.Next(); {
		switch a.Type {
		case unix.NFTA_RULE_CHAIN:
			r.Chain = d.str(ruleChainName, a.Data)
		case unix.NFTA_RULE_HANDLE:
			r.Handle = a.U64()
		case unix.NFTA_RULE_EXPRESSIONS:
			exprsAttr = a.Data
		case unix.NFTA_RULE_USERDATA:
			r.Comment = userdataComment(a.Data)
		case unix.NFTA_RULE_COMPAT:
			for c := nfnl.Scan(a.Data); c.Next(); {
				switch c.Type {
				case unix.NFTA_RULE_COMPAT_PROTO:
					r.Proto = c.U32()
				case unix.NFTA_RULE_COMPAT_FLAGS:
					r.InvProto = c.U32()&unix.NFT_RULE_COMPAT_F_INV != 0
				}
			}
		}
	}
	err := d.decodeExprs(fam, exprsAttr)
	r.Exprs = d.list
	return r, err
}

// decodeExprs decodes a rule's expression list into d.list. Unlike
// google/nftables it refuses expression types it does not know instead of
// skipping them (a skipped expression would make save print a broader rule
// than the kernel enforces), and it keeps xt match/target blobs raw for
// shim/xt.
func (d *RuleDecoder) decodeExprs(fam uint8, b []byte) error {
	for el := nfnl.Scan(b); el.Next(); {
		if el.Type != unix.NFTA_LIST_ELEM {
			return fmt.Errorf("unexpected attribute %d in the expression list", el.Type)
		}
		var name, data []byte
		for a := nfnl.Scan(el.Data); a.Next(); {
			switch a.Type {
			case unix.NFTA_EXPR_NAME:
				name = cString(a.Data)
			case unix.NFTA_EXPR_DATA:
				data = a.Data
			}
		}
		e, err := d.decodeExpr(fam, name, data)
		if err != nil {
			return err
		}
		d.list = append(d.list, e)
	}
	return nil
}

func (d *RuleDecoder) decodeExpr(fam uint8, name, data []byte) (expr.Any, error) {
	if e, ok := d.DecodeFast(name, data); ok {
		return e, nil
	}
	var e expr.Any
	switch string(name) {
	case "match", "target":
		return d.decodeXT(name, data), nil
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
		return nil, &foreignExprError{name: string(name)}
	}
	if err := unmarshalExpr(fam, data, e); err != nil {
		return nil, fmt.Errorf("decoding expression %q: %w", name, err)
	}
	if imm, ok := e.(*expr.Immediate); ok && imm.Register == unix.NFT_REG_VERDICT && len(imm.Data) == 0 {
		v := &expr.Verdict{}
		if err := unmarshalExpr(fam, data, v); err != nil {
			return nil, fmt.Errorf("decoding a verdict: %w", err)
		}
		return v, nil
	}
	return e, nil
}

// unmarshalExpr is expr.Unmarshal, with a malformed attribute reported as
// an error: google/nftables indexes some attributes (a verdict's code, for
// one) without checking their length, and a rule another writer sent must
// fail to decode, not end the process.
func unmarshalExpr(fam byte, data []byte, e expr.Any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed attributes: %v", r)
		}
	}()
	return expr.Unmarshal(fam, data, e)
}

// decodeXT builds a match or target expression whose Info is the kernel's
// raw blob, as shim/xt's decoders want it.
func (d *RuleDecoder) decodeXT(name, data []byte) expr.Any {
	var ext string
	var rev uint32
	info := d.infos.next()
	for a := nfnl.Scan(data); a.Next(); {
		// NFTA_MATCH_* and NFTA_TARGET_* share their numbering.
		switch a.Type {
		case unix.NFTA_MATCH_NAME:
			ext = d.str(extName, a.Data)
		case unix.NFTA_MATCH_REV:
			rev = a.U32()
		case unix.NFTA_MATCH_INFO:
			*info = a.Data
		}
	}
	if string(name) == "target" {
		t := d.targets.next()
		*t = expr.Target{Name: ext, Rev: rev, Info: info}
		return t
	}
	m := d.matches.next()
	*m = expr.Match{Name: ext, Rev: rev, Info: info}
	return m
}

// foreignExprError is an expression type iptables-nft 1.8.9 does not know
// at all (written by nft itself, say): 1.8.9 calls a table holding one
// incompatible instead of printing it.
type foreignExprError struct{ name string }

func (e *foreignExprError) Error() string {
	return fmt.Sprintf("expression %q is not understood", e.name)
}
