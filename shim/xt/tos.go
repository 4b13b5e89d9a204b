package xt

import (
	"fmt"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// tosSymbols are libxtables' names for the RFC 1349 TOS values; a value
// given by name gets the mask 0x3f.
var tosSymbols = []struct {
	name string
	v    uint8
}{{"Minimize-Delay", 0x10}, {"Maximize-Throughput", 0x08}, {"Maximize-Reliability", 0x04},
	{"Minimize-Cost", 0x02}, {"Normal-Service", 0x00}}

// tosSymbolMask is the mask a symbolic TOS value stands for.
const tosSymbolMask = 0x3f

// parseTOSValue reads a value[/mask] or a symbolic name, as libxtables'
// XTTYPE_TOSMASK does: a leading number up to 255 makes it numeric (the
// mask defaulting to 0xff), anything else must be one of the names.
func parseTOSValue(s string) (value, mask uint8, err error) {
	if v, tail, ok := strtoulPrefix(s); ok && v <= 0xff {
		value, mask = uint8(v), 0xff
		switch {
		case tail == "":
			return value, mask, nil
		case tail[0] == '/':
			if m, rest, ok := strtoulPrefix(tail[1:]); ok && m <= 0xff && rest == "" {
				return value, uint8(m), nil
			}
		}
		return 0, 0, paramErr("Illegal value: \"%s\"", s)
	}
	for _, sym := range tosSymbols {
		if strings.EqualFold(sym.name, s) {
			return sym.v, tosSymbolMask, nil
		}
	}
	return 0, 0, paramErr("Symbolic name \"%s\" is unknown", s)
}

// tosSymbol is the name libxtables prints for value/mask, if it has one.
func tosSymbol(value, mask uint8) (string, bool) {
	if mask != tosSymbolMask {
		return "", false
	}
	for _, sym := range tosSymbols {
		if sym.v == value {
			return sym.name, true
		}
	}
	return "", false
}

// tosMatch is -m tos (revision 1, struct xt_tos_match_info).
type tosMatch struct {
	value, mask uint8
	invert      bool
}

func parseTOSMatch(ctx Context, m syntax.Match) (Ext, error) {
	var e *tosMatch
	for _, o := range m.Options {
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		if o.Name != "tos" {
			return nil, unsupportedOption(m.Name, o.Name)
		}
		val, mask, err := parseTOSValue(v)
		if err != nil {
			return nil, err
		}
		e = &tosMatch{value: val, mask: mask, invert: o.Invert}
	}
	if e == nil {
		return nil, mustSpecify("tos", "tos")
	}
	return e, nil
}

func (e *tosMatch) Name() string                          { return "tos" }
func (e *tosMatch) Revision() (string, uint8, bool, bool) { return "tos", 1, false, true }
func (e *tosMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(3)
	b.u8(0, e.mask)
	b.u8(1, e.value)
	if e.invert {
		b.u8(2, 1)
	}
	return xtMatch("tos", 1, b), nil
}

func (e *tosMatch) Save(Context) string {
	return fmt.Sprintf("-m tos %s--tos 0x%02x/0x%02x", invertSave(e.invert), e.value, e.mask)
}

// List prints "tos match0x0f/0x0f", "tos match!0xff/0xff" or, unless
// numeric, "tos match Minimize-Delay".
func (e *tosMatch) List(numeric bool) string {
	s := " tos match"
	if e.invert {
		s += "!"
	}
	if name, ok := tosSymbol(e.value, e.mask); ok && !numeric {
		return s + " " + name
	}
	return s + fmt.Sprintf("0x%02x/0x%02x", e.value, e.mask)
}

func decodeTOSMatchBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 1 {
		return nil, decodeErr("xt match tos rev %d is not supported", rev)
	}
	if err := checkSize("tos", rev, data, 3); err != nil {
		return nil, err
	}
	b := blob(data)
	if b.get8(2) > 1 || !b.zero(3, len(b)-3) {
		return nil, decodeErr("xt match tos: invert flag %d", b.get8(2))
	}
	return &tosMatch{mask: b.get8(0), value: b.get8(1), invert: b.get8(2) == 1}, nil
}

// tosTarget is -j TOS (revision 1, struct xt_tos_target_info): the new TOS
// is (old & ^mask) ^ value. --and-tos, --or-tos and --xor-tos are stored
// as that pair, and save prints every form as --set-tos value/mask.
type tosTarget struct{ value, mask uint8 }

func parseTOSTarget(ctx Context, t syntax.Target) (Ext, error) {
	var e *tosTarget
	seen := ""
	for _, o := range t.Options {
		v, err := oneArg(t.Name, o)
		if err != nil {
			return nil, err
		}
		if seen != "" {
			return nil, notTogether(t.Name, seen, o.Name)
		}
		seen = o.Name
		if o.Name == "set-tos" {
			val, mask, err := parseTOSValue(v)
			if err != nil {
				return nil, err
			}
			e = &tosTarget{value: val, mask: mask}
			continue
		}
		n, tail, ok := strtoulPrefix(v)
		if !ok || tail != "" || n > 0xff {
			return nil, badRange(t.Name, o.Name, 0, 0xff)
		}
		bits := uint8(n)
		switch o.Name {
		case "and-tos":
			e = &tosTarget{value: 0, mask: ^bits}
		case "or-tos":
			e = &tosTarget{value: bits, mask: bits}
		case "xor-tos":
			e = &tosTarget{value: bits, mask: 0}
		default:
			return nil, unsupportedOption(t.Name, o.Name)
		}
	}
	if e == nil {
		return nil, paramErr("TOS: An action is required")
	}
	return e, nil
}

func (e *tosTarget) Name() string                          { return "TOS" }
func (e *tosTarget) Revision() (string, uint8, bool, bool) { return "TOS", 1, true, true }
func (e *tosTarget) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(2)
	b.u8(0, e.value)
	b.u8(1, e.mask)
	return xtTarget("TOS", 1, b), nil
}

func (e *tosTarget) Save(Context) string {
	return fmt.Sprintf("-j TOS --set-tos 0x%02x/0x%02x", e.value, e.mask)
}

// List prints "TOS set 0x1f/0xff" when numeric, else the operation the
// pair stands for: a symbolic name (libxt_TOS prints it with an extra
// space and none after "set"), "TOS and", "TOS or", "TOS xor".
func (e *tosTarget) List(numeric bool) string {
	if !numeric {
		if name, ok := tosSymbol(e.value, e.mask); ok {
			return "  TOS set" + name
		}
		switch {
		case e.value == 0:
			return fmt.Sprintf(" TOS and 0x%02x", ^e.mask)
		case e.value == e.mask:
			return fmt.Sprintf(" TOS or 0x%02x", e.value)
		case e.mask == 0:
			return fmt.Sprintf(" TOS xor 0x%02x", e.value)
		}
	}
	return fmt.Sprintf(" TOS set 0x%02x/0x%02x", e.value, e.mask)
}

func decodeTOSTargetBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 1 {
		return nil, decodeErr("xt target TOS rev %d is not supported", rev)
	}
	if err := checkSize("TOS", rev, data, 2); err != nil {
		return nil, err
	}
	b := blob(data)
	if !b.zero(2, len(b)-2) {
		return nil, decodeErr("xt target TOS: padding is not zero")
	}
	return &tosTarget{value: b.get8(0), mask: b.get8(1)}, nil
}
