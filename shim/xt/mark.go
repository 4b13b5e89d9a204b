package xt

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// markMatch is -m mark (struct xt_mark_mtinfo1), written natively as meta
// mark [& mask] ==/!= value, in host byte order.
type markMatch struct {
	mark, mask uint32
	invert     bool
}

// parseMarkMask reads "value[/mask]"; the mask defaults to all ones.
func parseMarkMask(ext, opt, s string) (uint32, uint32, error) {
	v, m, hasMask := strings.Cut(s, "/")
	mark, ok := parseUint32(v)
	if !ok {
		return 0, 0, badValue(ext, opt, s)
	}
	mask := uint32(0xffffffff)
	if hasMask {
		if mask, ok = parseUint32(m); !ok {
			return 0, 0, badValue(ext, opt, s)
		}
	}
	return mark, mask, nil
}

// parseMarkOption reads the one option of the mark and connmark matches,
// [!] --mark value[/mask] (the last one given wins, as in iptables); seen
// is false when there was none.
func parseMarkOption(m syntax.Match) (e markMatch, seen bool, err error) {
	for _, o := range m.Options {
		if o.Name != "mark" {
			return e, false, unsupportedOption(m.Name, o.Name)
		}
		v, err := oneArg(m.Name, o)
		if err != nil {
			return e, false, err
		}
		if e.mark, e.mask, err = parseMarkMask(m.Name, o.Name, v); err != nil {
			return e, false, err
		}
		e.invert, seen = o.Invert, true
	}
	return e, seen, nil
}

func parseMarkMatch(ctx Context, m syntax.Match) (Ext, error) {
	e, seen, err := parseMarkOption(m)
	if err != nil {
		return nil, err
	}
	if !seen {
		return nil, paramErr("mark: option \"--mark\" must be specified\n")
	}
	return &e, nil
}

func (e *markMatch) Name() string                          { return "mark" }
func (e *markMatch) Revision() (string, uint8, bool, bool) { return "mark", 1, false, false }

func (e *markMatch) Exprs(Context) ([]expr.Any, error) {
	out := []expr.Any{&expr.Meta{Key: expr.MetaKeyMARK, Register: reg1}}
	if e.mask != 0xffffffff {
		out = append(out, maskReg(binary.NativeEndian.AppendUint32(nil, e.mask)))
	}
	return append(out, cmpReg(eqOp(e.invert), binary.NativeEndian.AppendUint32(nil, e.mark))), nil
}

func (e *markMatch) Save(Context) string {
	var b strings.Builder
	b.WriteString("-m mark")
	writeOpt(&b, e.invert, "--mark", markString(e.mark, e.mask))
	return b.String()
}

// markString prints value[/mask] as libxt_mark does: the mask is left out
// when it is all ones.
func markString(mark, mask uint32) string {
	if mask == 0xffffffff {
		return fmt.Sprintf("0x%x", mark)
	}
	return fmt.Sprintf("0x%x/0x%x", mark, mask)
}

func decodeMarkNative(ctx Context, exprs []expr.Any) (Ext, int, error) {
	m, _ := at[*expr.Meta](exprs, 0)
	if m.SourceRegister || m.Register != reg1 {
		return nil, 0, decodeErr("cannot decode %s", describe(m))
	}
	e := &markMatch{mask: 0xffffffff}
	i := 1
	if bw, ok := at[*expr.Bitwise](exprs, 1); ok {
		if bw.SourceRegister != reg1 || bw.DestRegister != reg1 || bw.Len != 4 || len(bw.Mask) != 4 ||
			len(bw.Xor) != 4 || binary.NativeEndian.Uint32(bw.Xor) != 0 {
			return nil, 0, decodeErr("cannot decode mark mask %s", describe(bw))
		}
		e.mask = binary.NativeEndian.Uint32(bw.Mask)
		i = 2
	}
	c, ok := at[*expr.Cmp](exprs, i)
	if !ok || c.Register != reg1 || len(c.Data) != 4 || (c.Op != expr.CmpOpEq && c.Op != expr.CmpOpNeq) {
		return nil, 0, decodeErr("cannot decode meta mark test without an eq/neq compare")
	}
	e.mark, e.invert = binary.NativeEndian.Uint32(c.Data), c.Op == expr.CmpOpNeq
	return e, i + 1, nil
}

func decodeMarkBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 1 {
		return nil, decodeErr("xt match mark rev %d is not supported", rev)
	}
	if err := checkSize("mark", rev, data, 9); err != nil {
		return nil, err
	}
	b := blob(data)
	if b.get8(8) > 1 || !b.zero(9, len(b)-9) {
		return nil, decodeErr("xt match mark: unknown invert flags")
	}
	return &markMatch{mark: b.get32(0), mask: b.get32(4), invert: b.get8(8) == 1}, nil
}
