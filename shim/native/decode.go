package native

import (
	"bytes"
	"fmt"

	"github.com/google/nftables/expr"
	nfxt "github.com/google/nftables/xt"
	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/nfnl"
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
	// comment is the comment in the rule's user data, which nft writes
	// for "comment ..." (iptables-nft 1.8.9 reads it as -m comment).
	comment string
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

// ruleDecoder turns dumped rules into expressions. Its expressions come
// from slabs it owns: a save decodes every rule of the ruleset once and
// renders it at once, so it resets the decoder between rules and reuses the
// memory instead of feeding the garbage collector some forty objects a rule.
// A decoder that is never reset hands out memory the caller may keep.
//
// Decoded byte slices (cmp data, masks, xt info) alias the message, as
// google/nftables' decoders do not: callers that keep rules decode copies.
type ruleDecoder struct {
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
func newSavingDecoder() *ruleDecoder {
	return &ruleDecoder{names: &nameCache{}}
}

// reset makes the memory of the rules decoded so far available again; they
// must no longer be used.
func (d *ruleDecoder) reset() {
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
func (d *ruleDecoder) str(kind nameKind, b []byte) string {
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

// parseRule decodes a NEWRULE message of a dump into memory the caller may
// keep (byte slices alias b).
func parseRule(fam uint8, b []byte) (dumpedRule, error) {
	return new(ruleDecoder).parseRule(fam, b)
}

// decodeExprs decodes an expression list into memory the caller may keep
// (byte slices alias b).
func decodeExprs(fam uint8, b []byte) ([]expr.Any, error) {
	d := new(ruleDecoder)
	if err := d.decodeExprs(fam, b); err != nil {
		return nil, err
	}
	return d.list, nil
}

// parseRule decodes a NEWRULE message of a dump.
func (d *ruleDecoder) parseRule(fam uint8, b []byte) (dumpedRule, error) {
	var r dumpedRule
	var exprsAttr []byte
	for a := nfnl.Scan(b); a.Next(); {
		switch a.Type {
		case unix.NFTA_RULE_CHAIN:
			r.chain = d.str(ruleChainName, a.Data)
		case unix.NFTA_RULE_HANDLE:
			r.handle = a.U64()
		case unix.NFTA_RULE_EXPRESSIONS:
			exprsAttr = a.Data
		case unix.NFTA_RULE_USERDATA:
			r.comment = userdataComment(a.Data)
		case unix.NFTA_RULE_COMPAT:
			for c := nfnl.Scan(a.Data); c.Next(); {
				switch c.Type {
				case unix.NFTA_RULE_COMPAT_PROTO:
					r.proto = c.U32()
				case unix.NFTA_RULE_COMPAT_FLAGS:
					r.invProto = c.U32()&unix.NFT_RULE_COMPAT_F_INV != 0
				}
			}
		}
	}
	err := d.decodeExprs(fam, exprsAttr)
	r.exprs = d.list
	return r, err
}

// decodeExprs decodes a rule's expression list into d.list. Unlike
// google/nftables it refuses expression types it does not know instead of
// skipping them (a skipped expression would make save print a broader rule
// than the kernel enforces), and it keeps xt match/target blobs raw for
// shim/xt.
func (d *ruleDecoder) decodeExprs(fam uint8, b []byte) error {
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

func (d *ruleDecoder) decodeExpr(fam uint8, name, data []byte) (expr.Any, error) {
	if e, ok := d.decodeFast(name, data); ok {
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
func (d *ruleDecoder) decodeXT(name, data []byte) expr.Any {
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
