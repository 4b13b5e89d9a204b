package xt

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// ttlMatch is -m ttl (struct ipt_ttl_info) or -m hl (struct
// ip6t_hl_info): a mode (eq, ne, lt, gt) and a value.
type ttlMatch struct {
	name        string // "ttl" or "hl"
	mode, value uint8
}

// ttl/hl match modes.
const (
	ttlEq = iota
	ttlNe
	ttlLt
	ttlGt
)

func parseTTLMatch(ctx Context, m syntax.Match) (Ext, error) {
	e := &ttlMatch{name: m.Name}
	seen := ""
	for _, o := range m.Options {
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		if seen != "" {
			// xtopt names the option given first, then this one.
			return nil, notTogether(m.Name, seen, o.Name)
		}
		n, _ := strconv.ParseUint(v, 0, 8)
		e.value = uint8(n)
		switch strings.TrimPrefix(o.Name, m.Name+"-") {
		case "eq":
			e.mode = ttlEq
			if o.Invert {
				e.mode = ttlNe
			}
		case "lt":
			e.mode = ttlLt
		case "gt":
			e.mode = ttlGt
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
		seen = o.Name
	}
	if seen == "" {
		if m.Name == "ttl" {
			// libipt_ttl's message lacks its closing quote.
			return nil, paramErr("TTL match: You must specify one of `--ttl-eq', `--ttl-lt', `--ttl-gt")
		}
		return nil, paramErr("HL match: You must specify one of `--hl-eq', `--hl-lt', `--hl-gt'")
	}
	return e, nil
}

func (e *ttlMatch) Name() string                          { return e.name }
func (e *ttlMatch) Revision() (string, uint8, bool, bool) { return e.name, 0, false, true }
func (e *ttlMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(2)
	b.u8(0, e.mode)
	b.u8(1, e.value)
	return xtMatch(e.name, 0, b), nil
}

func (e *ttlMatch) Save(Context) string {
	op := [...]string{"--%s-eq", "! --%s-eq", "--%s-lt", "--%s-gt"}[e.mode]
	return "-m " + e.name + " " + fmt.Sprintf(op, e.name) + " " + strconv.Itoa(int(e.value))
}

// List prints "TTL match TTL == 5" (or HL).
func (e *ttlMatch) List(bool) string {
	u := strings.ToUpper(e.name)
	return fmt.Sprintf(" %s match %s %s %d", u, u, [...]string{"==", "!=", "<", ">"}[e.mode], e.value)
}

func decodeTTLMatchBlob(name string) blobDecoder {
	return func(ctx Context, rev uint32, data []byte) (Ext, error) {
		if rev != 0 {
			return nil, decodeErr("xt match %s rev %d is not supported", name, rev)
		}
		if err := checkSize(name, rev, data, 2); err != nil {
			return nil, err
		}
		b := blob(data)
		if b.get8(0) > ttlGt || !b.zero(2, len(b)-2) {
			return nil, decodeErr("xt match %s: unknown mode %d", name, b.get8(0))
		}
		return &ttlMatch{name: name, mode: b.get8(0), value: b.get8(1)}, nil
	}
}

// ttlTarget is -j TTL (struct ipt_TTL_info) or -j HL (struct
// ip6t_HL_info): set, decrement or increment.
type ttlTarget struct {
	name        string // "TTL" or "HL"
	mode, value uint8
}

func parseTTLTarget(ctx Context, t syntax.Target) (Ext, error) {
	e := &ttlTarget{name: t.Name}
	low := strings.ToLower(t.Name)
	seen := ""
	for _, o := range t.Options {
		v, err := oneArg(t.Name, o)
		if err != nil {
			return nil, err
		}
		if seen != "" {
			return nil, notTogether(t.Name, seen, o.Name)
		}
		n, _ := strconv.ParseUint(v, 0, 8)
		e.value = uint8(n)
		switch strings.TrimPrefix(o.Name, low+"-") {
		case "set":
			e.mode = 0
		case "inc", "dec":
			// IPT_TTL_INC is 1, IPT_TTL_DEC 2 (and so for HL).
			e.mode = map[string]uint8{"inc": 1, "dec": 2}[strings.TrimPrefix(o.Name, low+"-")]
			if n == 0 {
				return nil, badRange(t.Name, o.Name, 1, 255)
			}
		default:
			return nil, unsupportedOption(t.Name, o.Name)
		}
		seen = o.Name
	}
	if seen == "" {
		return nil, paramErr("%s: You must specify an action", t.Name)
	}
	return e, nil
}

func (e *ttlTarget) Name() string                          { return e.name }
func (e *ttlTarget) Revision() (string, uint8, bool, bool) { return e.name, 0, true, true }
func (e *ttlTarget) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(2)
	b.u8(0, e.mode)
	b.u8(1, e.value)
	return xtTarget(e.name, 0, b), nil
}

func (e *ttlTarget) Save(Context) string {
	low := strings.ToLower(e.name)
	return fmt.Sprintf("-j %s --%s-%s %d", e.name, low, [...]string{"set", "inc", "dec"}[e.mode], e.value)
}

// List prints "TTL set to 5", "HL decrement by 5".
func (e *ttlTarget) List(bool) string {
	return fmt.Sprintf(" %s %s %d", e.name, [...]string{"set to", "increment by", "decrement by"}[e.mode], e.value)
}

func decodeTTLTargetBlob(name string) blobDecoder {
	return func(ctx Context, rev uint32, data []byte) (Ext, error) {
		if rev != 0 {
			return nil, decodeErr("xt target %s rev %d is not supported", name, rev)
		}
		if err := checkSize(name, rev, data, 2); err != nil {
			return nil, err
		}
		b := blob(data)
		if b.get8(0) > 2 || !b.zero(2, len(b)-2) {
			return nil, decodeErr("xt target %s: unknown mode %d", name, b.get8(0))
		}
		return &ttlTarget{name: name, mode: b.get8(0), value: b.get8(1)}, nil
	}
}

// dscpClasses are the DiffServ class names libxt_dscp knows.
var dscpClasses = []struct {
	name string
	v    uint8
}{{"CS0", 0x00}, {"CS1", 0x08}, {"CS2", 0x10}, {"CS3", 0x18}, {"CS4", 0x20}, {"CS5", 0x28}, {"CS6", 0x30},
	{"CS7", 0x38}, {"BE", 0x00}, {"AF11", 0x0a}, {"AF12", 0x0c}, {"AF13", 0x0e}, {"AF21", 0x12}, {"AF22", 0x14},
	{"AF23", 0x16}, {"AF31", 0x1a}, {"AF32", 0x1c}, {"AF33", 0x1e}, {"AF41", 0x22}, {"AF42", 0x24}, {"AF43", 0x26},
	{"EF", 0x2e}}

// dscpMax is XT_DSCP_MAX.
const dscpMax = 0x3f

// parseDSCPValue reads --dscp/--set-dscp (a number up to 63) or a class
// name (--dscp-class/--set-dscp-class).
func parseDSCPValue(ext, opt, v string, class bool) (uint8, error) {
	if class {
		for _, c := range dscpClasses {
			if strings.EqualFold(c.name, v) {
				return c.v, nil
			}
		}
		return 0, paramErr("Invalid DSCP value `%s'\n", v)
	}
	n, tail, ok := strtoulPrefix(v)
	if !ok || tail != "" || n > dscpMax {
		return 0, badRange(ext, opt, 0, dscpMax)
	}
	return uint8(n), nil
}

// dscpMatch is -m dscp (struct xt_dscp_info).
type dscpMatch struct {
	dscp   uint8
	invert bool
}

func parseDSCPMatch(ctx Context, m syntax.Match) (Ext, error) {
	var e *dscpMatch
	for _, o := range m.Options {
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		if e != nil {
			return nil, notTogether(m.Name, map[string]string{"dscp": "dscp-class", "dscp-class": "dscp"}[o.Name], o.Name)
		}
		d, err := parseDSCPValue(m.Name, o.Name, v, o.Name == "dscp-class")
		if err != nil {
			return nil, err
		}
		e = &dscpMatch{dscp: d, invert: o.Invert}
	}
	if e == nil {
		return nil, paramErr("DSCP match: Parameter --dscp is required")
	}
	return e, nil
}

func (e *dscpMatch) Name() string                          { return "dscp" }
func (e *dscpMatch) Revision() (string, uint8, bool, bool) { return "dscp", 0, false, true }
func (e *dscpMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(2)
	b.u8(0, e.dscp)
	if e.invert {
		b.u8(1, 1)
	}
	return xtMatch("dscp", 0, b), nil
}
func (e *dscpMatch) Save(Context) string {
	return fmt.Sprintf("-m dscp %s--dscp 0x%02x", invertSave(e.invert), e.dscp)
}

// List prints "DSCP match 0x0a", "DSCP match !0x0a".
func (e *dscpMatch) List(bool) string {
	inv := ""
	if e.invert {
		inv = "!"
	}
	return fmt.Sprintf(" DSCP match %s0x%02x", inv, e.dscp)
}

func decodeDSCPMatchBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match dscp rev %d is not supported", rev)
	}
	if err := checkSize("dscp", rev, data, 2); err != nil {
		return nil, err
	}
	b := blob(data)
	if b.get8(0) > dscpMax || b.get8(1) > 1 || !b.zero(2, len(b)-2) {
		return nil, decodeErr("xt match dscp: value or flags out of range")
	}
	return &dscpMatch{dscp: b.get8(0), invert: b.get8(1) == 1}, nil
}

// dscpTarget is -j DSCP (struct xt_DSCP_info).
type dscpTarget struct{ dscp uint8 }

func parseDSCPTarget(ctx Context, t syntax.Target) (Ext, error) {
	var e *dscpTarget
	for _, o := range t.Options {
		v, err := oneArg(t.Name, o)
		if err != nil {
			return nil, err
		}
		if e != nil {
			return nil, notTogether(t.Name, map[string]string{"set-dscp": "set-dscp-class", "set-dscp-class": "set-dscp"}[o.Name], o.Name)
		}
		d, err := parseDSCPValue(t.Name, o.Name, v, o.Name == "set-dscp-class")
		if err != nil {
			return nil, err
		}
		e = &dscpTarget{dscp: d}
	}
	if e == nil {
		return nil, paramErr("DSCP target: Parameter --set-dscp is required")
	}
	return e, nil
}

func (e *dscpTarget) Name() string                          { return "DSCP" }
func (e *dscpTarget) Revision() (string, uint8, bool, bool) { return "DSCP", 0, true, true }
func (e *dscpTarget) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(1)
	b.u8(0, e.dscp)
	return xtTarget("DSCP", 0, b), nil
}
func (e *dscpTarget) Save(Context) string { return fmt.Sprintf("-j DSCP --set-dscp 0x%02x", e.dscp) }

// List prints "DSCP set 0x2e".
func (e *dscpTarget) List(bool) string { return fmt.Sprintf(" DSCP set 0x%02x", e.dscp) }

func decodeDSCPTargetBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt target DSCP rev %d is not supported", rev)
	}
	if err := checkSize("DSCP", rev, data, 1); err != nil {
		return nil, err
	}
	b := blob(data)
	if b.get8(0) > dscpMax || !b.zero(1, len(b)-1) {
		return nil, decodeErr("xt target DSCP: value out of range")
	}
	return &dscpTarget{dscp: b.get8(0)}, nil
}
