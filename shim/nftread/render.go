package nftread

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
	"github.com/iptables-shim/iptables-shim/shim/xt"
)

// baseFields are the fixed rule fields decoded from a rule's leading
// expressions.
type baseFields struct {
	in, out, src, dst, Proto, frag syntax.Field
	protoNum                       uint8
}

// RenderEnv is what rendering a dumped rule needs.
type RenderEnv struct {
	// Fam and Table are where the rules come from.
	Fam   syntax.Family
	Table string
	// Protos names protocols, IPSets names the ipsets rules refer to.
	Protos *Protocols
	IPSets xt.IPSetResolver
	// Counters renders each rule's counters ("[P:B]" in save).
	Counters bool
}

// ruleView is a dumped rule decoded into iptables terms: the base fields,
// the matches, the counter and the target, each still able to render
// itself. Save, -S and -L print the same view in their own shapes.
type ruleView struct {
	base    baseFields
	ctx     xt.Context
	matches []xt.Ext
	// verdict is a standard verdict, jump or goto; target a target
	// extension; both nil for a rule without a target.
	verdict *expr.Verdict
	target  xt.Ext
	// packets and bytes are the rule's counter (zero without one).
	packets, bytes uint64
	// spaceIfNoTarget is set when the rule is printed as iptables-nft
	// 1.8.7 does, which ends a rule without a target with a space.
	spaceIfNoTarget bool
}

// ViewRule decodes a dumped rule. Anything it cannot decode completely is
// an error: printing a shorter rule would misstate what the kernel
// enforces.
func ViewRule(env *RenderEnv, r *DumpedRule) (ruleView, error) {
	var v ruleView
	err := v.decode(env, r)
	return v, err
}

// decode fills v from a dumped rule, reusing v's match slice.
func (v *ruleView) decode(env *RenderEnv, r *DumpedRule) error {
	matches := v.matches[:0]
	clear(v.matches)
	*v = ruleView{}
	es := r.Exprs
	bf, n, err := DecodeBase(env, es)
	if err != nil {
		return ruleError(env, r, err)
	}
	v.base = bf
	es = es[n:]
	v.ctx = xt.Context{Family: env.Fam, Table: env.Table, Chain: r.Chain, Protocol: bf.Proto, IPSets: env.IPSets}
	for len(es) > 0 {
		if c, ok := es[0].(*expr.Counter); ok {
			v.packets, v.bytes = c.Packets, c.Bytes
			es = es[1:]
			break
		}
		if _, ok := es[0].(*expr.Log); ok || isVerdict(es[0]) {
			// A log expression is NFLOG's target, which nft writes
			// without a counter before it.
			break
		}
		ext, k, err := xt.DecodeMatch(v.ctx, es)
		if err != nil {
			return ruleError(env, r, err)
		}
		matches = append(matches, ext)
		es = es[k:]
	}
	// Printed as iptables-nft prints it: tcp/udp tests merged.
	v.matches = xt.FoldMatches(matches)
	if r.Comment != "" {
		// A comment nft wrote in the rule's user data: iptables-nft
		// 1.8.9 adds it as -m comment after the other matches.
		c, err := xt.ParseMatch(v.ctx, syntax.Match{Name: "comment", Known: true,
			Options: []syntax.Option{{Name: "comment", Args: []string{r.Comment}}}})
		if err != nil {
			return ruleError(env, r, err)
		}
		v.matches = append(v.matches, c)
	}
	if len(es) > 0 {
		if vd, ok := es[0].(*expr.Verdict); ok {
			if _, ok := verdictWord(vd); !ok {
				return ruleError(env, r, fmt.Errorf("verdict %d is not understood", vd.Kind))
			}
			v.verdict = vd
			es = es[1:]
		} else {
			ext, k, err := xt.DecodeTarget(v.ctx, es)
			if err != nil {
				return ruleError(env, r, err)
			}
			v.target = ext
			es = es[k:]
		}
	}
	if len(es) > 0 {
		return ruleError(env, r, fmt.Errorf("%T after the target is not understood", es[0]))
	}
	v.spaceIfNoTarget = printsLike187(env)
	return nil
}

// ruleError names the rule a decoding failure concerns.
func ruleError(env *RenderEnv, r *DumpedRule, err error) error {
	return fmt.Errorf("table %s chain %s rule handle %d: %w", env.Table, r.Chain, r.Handle, err)
}

// counterStyle says how a rule's counters are printed.
type counterStyle int

const (
	NoCounters     counterStyle = iota // no counters printed
	prefixCounters                     // iptables-save -c: "[p:b] -A ..."
	OptionCounters                     // iptables -S -v: "-c p b" before the target
)

// RenderRule prints a dumped rule as iptables-nft-save does: "-A CHAIN"
// then -s -d -i -o -p -f, the matches, and the target; with counters a
// "[p:b] " prefix.
func RenderRule(env *RenderEnv, r *DumpedRule) (string, error) {
	var v ruleView
	out, err := v.appendRule(nil, env, r)
	return string(out), err
}

// appendRule decodes r into v (reusing it) and appends the rule as
// iptables-nft-save prints it, without a newline.
func (v *ruleView) appendRule(out []byte, env *RenderEnv, r *DumpedRule) ([]byte, error) {
	if err := v.decode(env, r); err != nil {
		return out, err
	}
	style := NoCounters
	if env.Counters {
		style = prefixCounters
	}
	return v.AppendSave(out, r.Chain, style), nil
}

// AppendSave appends the view in iptables-save's (or -S's) shape.
func (v *ruleView) AppendSave(out []byte, chain string, style counterStyle) []byte {
	if style == prefixCounters {
		out = append(out, '[')
		out = strconv.AppendUint(out, v.packets, 10)
		out = append(out, ':')
		out = strconv.AppendUint(out, v.bytes, 10)
		out = append(out, "] "...)
	}
	out = append(out, "-A "...)
	out = append(out, chain...)
	out = v.base.appendTo(out)
	for _, m := range v.matches {
		out = v.appendExt(out, m)
		if v.spaceIfNoTarget && m.Name() == "dst" {
			// iptables 1.8.7's libip6t_dst printed its option list
			// with a space before it even when empty and a space after
			// its last entry; later versions dropped both.
			out = append(out, ' ')
		}
	}
	if style == OptionCounters {
		out = append(out, " -c "...)
		out = strconv.AppendUint(out, v.packets, 10)
		out = append(out, ' ')
		out = strconv.AppendUint(out, v.bytes, 10)
	}
	switch {
	case v.verdict != nil:
		w, _ := verdictWord(v.verdict)
		out = append(out, ' ')
		out = append(out, w...)
		if v.verdict.Chain != "" {
			out = append(out, ' ')
			out = append(out, v.verdict.Chain...)
		}
	case v.target != nil:
		out = v.appendExt(out, v.target)
		if v.spaceIfNoTarget && emptyTCPOptStrip(v.target, v.ctx) {
			// iptables 1.8.7's libxt_TCPOPTSTRIP printed its option
			// even with no options to strip; later versions omit it.
			out = append(out, " --strip-options "...)
		}
	case v.spaceIfNoTarget:
		out = append(out, ' ')
	}
	return out
}

// AppendWarnings appends the stderr lines iptables-nft prints when it
// prints this rule (an extension's xt.Warner), in the rule's order.
func (v *ruleView) AppendWarnings(dst []string) []string {
	for _, m := range v.matches {
		dst = append(dst, xt.Warnings(m)...)
	}
	if v.target != nil {
		dst = append(dst, xt.Warnings(v.target)...)
	}
	return dst
}

// WriteWarnings writes warning lines to w (standard error), if any.
func WriteWarnings(w io.Writer, lines []string) {
	if w == nil {
		return
	}
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
}

// appendExt appends " " and the extension's save text, unless that is
// empty.
func (v *ruleView) appendExt(out []byte, e xt.Ext) []byte {
	n := len(out)
	out = xt.AppendSave(append(out, ' '), e, v.ctx)
	if len(out) == n+1 {
		return out[:n]
	}
	return out
}

func isVerdict(e expr.Any) bool {
	_, ok := e.(*expr.Verdict)
	return ok
}

// appendTo appends the base fields in iptables-save's order.
func (bf *baseFields) appendTo(out []byte) []byte {
	for _, f := range [...]struct {
		opt string
		fl  *syntax.Field
	}{{"-s", &bf.src}, {"-d", &bf.dst}, {"-i", &bf.in}, {"-o", &bf.out}, {"-p", &bf.Proto}, {"-f", &bf.frag}} {
		if !f.fl.Set {
			continue
		}
		if f.fl.Invert {
			out = append(out, " !"...)
		}
		out = append(out, ' ')
		out = append(out, f.opt...)
		if f.fl.Value != "" {
			out = append(out, ' ')
			out = append(out, f.fl.Value...)
		}
	}
	return out
}

// verdictWord is the option a verdict is saved with ("-j ACCEPT", or
// "-j"/"-g" followed by the chain).
func verdictWord(v *expr.Verdict) (string, bool) {
	switch v.Kind {
	case expr.VerdictAccept:
		return "-j ACCEPT", true
	case expr.VerdictDrop:
		return "-j DROP", true
	case expr.VerdictReturn:
		return "-j RETURN", true
	case expr.VerdictJump:
		return "-j", true
	case expr.VerdictGoto:
		return "-g", true
	}
	return "", false
}

// DecodeBase reads the leading base-field expressions (any order, each
// field once) and returns how many it consumed.
func DecodeBase(env *RenderEnv, es []expr.Any) (baseFields, int, error) {
	var bf baseFields
	srcOff, dstOff := AddrOffsets(env.Fam)
	alen := 4
	if env.Fam == syntax.IPv6 {
		alen = 16
	}
	i := 0
	for i < len(es) {
		switch e := es[i].(type) {
		case *expr.Meta:
			var f *syntax.Field
			switch e.Key {
			case expr.MetaKeyIIFNAME:
				f = &bf.in
			case expr.MetaKeyOIFNAME:
				f = &bf.out
			case expr.MetaKeyL4PROTO:
				f = &bf.Proto
			case expr.MetaKeyIIF, expr.MetaKeyOIF:
				// nft's "meta iif lo": an interface index, which
				// iptables-nft 1.8.9 prints by the interface's name.
				f = &bf.in
				if e.Key == expr.MetaKeyOIF {
					f = &bf.out
				}
				cmp, ok := cmpAt(es, i+1, e.Register)
				if f.Set || e.SourceRegister || !ok || len(cmp.Data) != 4 {
					return bf, i, nil
				}
				ifi, err := net.InterfaceByIndex(int(binary.NativeEndian.Uint32(cmp.Data)))
				if err != nil {
					return bf, i, nil
				}
				*f = syntax.Field{Set: true, Invert: cmp.Op == expr.CmpOpNeq, Value: ifi.Name}
				i += 2
				continue
			default:
				return bf, i, nil
			}
			if f.Set || e.SourceRegister {
				return bf, i, nil
			}
			cmp, ok := cmpAt(es, i+1, e.Register)
			if e.Key == expr.MetaKeyL4PROTO {
				if !ok || len(cmp.Data) != 1 {
					return bf, i, nil
				}
				bf.protoNum = cmp.Data[0]
				*f = syntax.Field{Set: true, Invert: cmp.Op == expr.CmpOpNeq, Value: env.Protos.Name(cmp.Data[0])}
				i += 2
				continue
			}
			if !ok {
				// A bare iifname load is iptables-nft's "-i +", which
				// iptables-nft-save prints as nothing at all.
				i++
				continue
			}
			name := string(cmp.Data)
			if j := bytes.IndexByte(cmp.Data, 0); j >= 0 {
				name = string(cmp.Data[:j])
			} else {
				name += "+"
			}
			*f = syntax.Field{Set: true, Invert: cmp.Op == expr.CmpOpNeq, Value: name}
			i += 2
		case *expr.Payload:
			if e.Base != expr.PayloadBaseNetworkHeader || e.OperationType != expr.PayloadLoad {
				return bf, i, nil
			}
			if env.Fam == syntax.IPv4 && e.Offset == 6 && e.Len == 2 && !bf.frag.Set {
				bw, ok1 := es[min(i+1, len(es)-1)].(*expr.Bitwise)
				cmp, ok2 := cmpAt(es, i+2, e.DestRegister)
				if ok1 && i+1 < len(es) && bytes.Equal(bw.Mask, []byte{0x1f, 0xff}) && ok2 && bytes.Equal(cmp.Data, []byte{0, 0}) {
					bf.frag = syntax.Field{Set: true, Invert: cmp.Op == expr.CmpOpEq}
					i += 3
					continue
				}
				return bf, i, nil
			}
			if n, ok := payloadProto(env, es, i, &bf); ok {
				i += n
				continue
			}
			var f *syntax.Field
			switch e.Offset {
			case srcOff:
				f = &bf.src
			case dstOff:
				f = &bf.dst
			default:
				return bf, i, nil
			}
			if f.Set || int(e.Len) > alen {
				return bf, i, nil
			}
			am := AddrMask{Addr: make([]byte, alen), Mask: make([]byte, alen)}
			j := i + 1
			fillPrefix(am.Mask, int(e.Len)*8)
			if bw, ok := es[min(j, len(es)-1)].(*expr.Bitwise); ok && j < len(es) {
				if int(e.Len) != alen || len(bw.Mask) != alen || !allZero(bw.Xor) {
					return bf, i, nil
				}
				copy(am.Mask, bw.Mask)
				j++
			}
			cmp, ok := cmpAt(es, j, e.DestRegister)
			if !ok || len(cmp.Data) != int(e.Len) {
				return bf, i, nil
			}
			copy(am.Addr, cmp.Data)
			i = j + 1
			if allZero(am.Mask) && allZero(am.Addr) && cmp.Op == expr.CmpOpEq {
				// "ip saddr 0.0.0.0/0" (nft's zero mask): matches
				// everything, and iptables-nft 1.8.9 prints nothing.
				continue
			}
			*f = syntax.Field{Set: true, Invert: cmp.Op == expr.CmpOpNeq, Value: am.String()}
		default:
			return bf, i, nil
		}
	}
	return bf, i, nil
}

// cmpAt returns es[i] when it is an eq/neq cmp on register reg.
func cmpAt(es []expr.Any, i int, reg uint32) (*expr.Cmp, bool) {
	if i >= len(es) {
		return nil, false
	}
	c, ok := es[i].(*expr.Cmp)
	if !ok || c.Register != reg || (c.Op != expr.CmpOpEq && c.Op != expr.CmpOpNeq) {
		return nil, false
	}
	return c, true
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// ForeignRule reports whether a rule holds an expression iptables-nft 1.8.9
// does not accept in an iptables table (its nft_is_expr_compatible: no ct,
// quota, reject, ... ; limit only in packets and not inverted; log only
// with a group, NFLOG's form). 1.8.9 then prints the table (or the listed
// chain) as incompatible instead of its rules; parseErr is the error
// parsing the rule gave, if any.
func ForeignRule(r *DumpedRule, parseErr error) bool {
	var fe *foreignExprError
	if errors.As(parseErr, &fe) {
		return true
	}
	for _, e := range r.Exprs {
		switch x := e.(type) {
		case *expr.Ct:
			return true
		case *expr.Limit:
			if x.Type != expr.LimitTypePkts || x.Over {
				return true
			}
		case *expr.Log:
			if x.Key&(1<<unix.NFTA_LOG_GROUP) == 0 {
				return true
			}
		}
	}
	return false
}

// IncompatibleMessage is iptables-nft 1.8.9's message for listing a table,
// or one chain of it, that holds a rule foreignRule refuses.
func IncompatibleMessage(table, chain string) string {
	if chain == "" {
		return fmt.Sprintf("table `%s' is incompatible, use 'nft' tool.", table)
	}
	return fmt.Sprintf("chain `%s' in table `%s' is incompatible, use 'nft' tool.", chain, table)
}

// UndecodedRulesError is a listing or save that printed every rule but
// the ones it could not decode, which it names (table, chain, handle). The
// output is written before the error is returned, so one rule never hides
// the others; the command still fails, since its output is incomplete.
type UndecodedRulesError struct {
	// Errs are the decoding errors, one per rule.
	Errs []error
}

func (e *UndecodedRulesError) Error() string {
	if len(e.Errs) == 1 {
		return e.Errs[0].Error()
	}
	return fmt.Sprintf("%s (and %d more rules that cannot be decoded)", e.Errs[0], len(e.Errs)-1)
}

func (e *UndecodedRulesError) Unwrap() []error { return e.Errs }

// Offsets of the addresses in the network header, per family.
func AddrOffsets(f syntax.Family) (src, dst uint32) {
	if f == syntax.IPv6 {
		return 8, 24
	}
	return 12, 16
}

// emptyTCPOptStrip reports whether e is a TCPOPTSTRIP target that strips
// nothing.
func emptyTCPOptStrip(e xt.Ext, ctx xt.Context) bool {
	return e.Name() == "TCPOPTSTRIP" && e.Save(ctx) == "-j TCPOPTSTRIP"
}
