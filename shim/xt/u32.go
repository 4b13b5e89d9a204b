package xt

import (
	"fmt"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// Layout of struct xt_u32: 11 tests of 11 locations (number, next
// operator) and 11 value ranges each, then the test count and "!".
const (
	u32Max       = 10 // XT_U32_MAXSIZE
	u32Elems     = u32Max + 1
	u32TestSize  = 180
	u32OffValues = 88
	u32OffNNums  = 176
	u32OffNVals  = 177
	u32OffNTests = u32Elems * u32TestSize
	u32OffInvert = u32OffNTests + 1
	u32Size      = u32OffNTests + 4
)

// u32 location operators (enum xt_u32_ops), as u32_dump prints them.
var u32Ops = []string{"&", "<<", ">>", "@"}

// u32Match is -m u32. It is kept as the kernel's struct, which the
// parser fills field by field as libxt_u32 does.
type u32Match struct {
	raw [u32Size]byte
}

func (e *u32Match) test(i int) blob { return blob(e.raw[i*u32TestSize : (i+1)*u32TestSize]) }

func isCSpace(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }

func parseU32Spec(e *u32Match, arg string) error {
	at := func(i int) byte {
		if i < len(arg) {
			return arg[i]
		}
		return 0
	}
	number := func(i *int) (uint32, error) {
		v, rest, ok := strtoulRange(arg[*i:], 0, 0xffffffff, true)
		if !ok || len(rest) == len(arg[*i:]) {
			return 0, paramErr("u32: at char %d: not a number or out of range", *i)
		}
		*i = len(arg) - len(rest)
		return uint32(v), nil
	}
	testind, locind, valind, state := 0, 0, 0, 0
	ct := e.test(0)
	i := 0
	for {
		for isCSpace(at(i)) {
			i++
		}
		if at(i) == 0 {
			if state == 0 {
				return paramErr("u32: abrupt end of input after location specifier")
			}
			if valind == 0 {
				return paramErr("u32: test ended with no value specified")
			}
			ct.u8(u32OffNNums, uint8(locind))
			ct.u8(u32OffNVals, uint8(valind))
			testind++
			e.raw[u32OffNTests] = uint8(testind)
			if testind > u32Max {
				return paramErr("u32: at char %d: too many \"&&\"s", i)
			}
			return nil
		}
		if state == 0 {
			if at(i) == '=' {
				if locind == 0 {
					return paramErr("u32: at char %d: location spec missing", i)
				}
				i++
				state = 1
				continue
			}
			if locind != 0 {
				var op uint8
				switch at(i) {
				case '&':
					op = 0
				case '<', '>':
					c := at(i)
					i++
					if at(i) != c {
						which := "<"
						if c == '>' {
							which = ">"
						}
						return paramErr("u32: at char %d: a second '%s' was expected", i, which)
					}
					op = 1
					if c == '>' {
						op = 2
					}
				case '@':
					op = 3
				default:
					return paramErr("u32: at char %d: operator expected", i)
				}
				ct.u8(locind*8+4, op)
				i++
			}
			n, err := number(&i)
			if err != nil {
				return err
			}
			ct.u32(locind*8, n)
			locind++
			if locind > u32Max {
				return paramErr("u32: at char %d: too many operators", i)
			}
			continue
		}
		if at(i) == '&' {
			i++
			if at(i) != '&' {
				return paramErr("u32: at char %d: a second '&' was expected", i)
			}
			if valind == 0 {
				return paramErr("u32: at char %d: value spec missing", i)
			}
			ct.u8(u32OffNNums, uint8(locind))
			ct.u8(u32OffNVals, uint8(valind))
			testind++
			if testind > u32Max {
				return paramErr("u32: at char %d: too many \"&&\"s", i)
			}
			ct = e.test(testind)
			i++
			state, locind, valind = 0, 0, 0
			continue
		}
		if valind > 0 {
			if at(i) != ',' {
				return paramErr("u32: at char %d: expected \",\" or \"&&\"", i)
			}
			i++
		}
		min, err := number(&i)
		if err != nil {
			return err
		}
		max := min
		for isCSpace(at(i)) {
			i++
		}
		if at(i) == ':' {
			i++
			if max, err = number(&i); err != nil {
				return err
			}
		}
		ct.u32(u32OffValues+valind*8, min)
		ct.u32(u32OffValues+valind*8+4, max)
		valind++
		if valind > u32Max {
			return paramErr("u32: at char %d: too many \",\"s", i)
		}
	}
}

func parseU32(ctx Context, m syntax.Match) (Ext, error) {
	e := &u32Match{}
	given := false
	for _, o := range m.Options {
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		if o.Name != "u32" {
			return nil, unsupportedOption(m.Name, o.Name)
		}
		given = true
		if o.Invert {
			e.raw[u32OffInvert] = 1
		}
		if err := parseU32Spec(e, cutNUL(v)); err != nil {
			return nil, err
		}
	}
	if !given {
		return nil, mustSpecify(m.Name, "u32")
	}
	return e, nil
}

func (e *u32Match) Name() string                          { return "u32" }
func (e *u32Match) Revision() (string, uint8, bool, bool) { return "u32", 0, false, true }

func (e *u32Match) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(u32Size)
	copy(b, e.raw[:])
	return xtMatch("u32", 0, b), nil
}

// dump is u32_dump: the tests in the form --u32 takes, in hex.
func (e *u32Match) dump() string {
	var b strings.Builder
	b.WriteString(" \"")
	for t := 0; t < int(e.raw[u32OffNTests]); t++ {
		ct := e.test(t)
		if t > 0 {
			b.WriteString("&&")
		}
		fmt.Fprintf(&b, "0x%x", ct.get32(0))
		for i := 1; i < int(ct.get8(u32OffNNums)); i++ {
			if op := ct.get8(i*8 + 4); int(op) < len(u32Ops) {
				b.WriteString(u32Ops[op])
			}
			fmt.Fprintf(&b, "0x%x", ct.get32(i*8))
		}
		b.WriteString("=")
		for i := 0; i < int(ct.get8(u32OffNVals)); i++ {
			if i > 0 {
				b.WriteString(",")
			}
			min, max := ct.get32(u32OffValues+i*8), ct.get32(u32OffValues+i*8+4)
			if min == max {
				fmt.Fprintf(&b, "0x%x", min)
			} else {
				fmt.Fprintf(&b, "0x%x:0x%x", min, max)
			}
		}
	}
	b.WriteString("\"")
	return b.String()
}

func (e *u32Match) Save(Context) string {
	inv := ""
	if e.raw[u32OffInvert] != 0 {
		inv = " !"
	}
	return "-m u32" + inv + " --u32" + e.dump()
}

// List prints `u32 ! "0x0=0x1"`.
func (e *u32Match) List(bool) string {
	inv := ""
	if e.raw[u32OffInvert] != 0 {
		inv = " !"
	}
	return " u32" + inv + e.dump()
}

func decodeU32Blob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match u32 rev %d is not supported", rev)
	}
	if err := checkSize("u32", rev, data, u32Size); err != nil {
		return nil, err
	}
	e := &u32Match{}
	copy(e.raw[:], data)
	// The kernel takes at most 11 tests of 11 locations and values; the
	// printer reads no further.
	if e.raw[u32OffNTests] > u32Elems {
		return nil, decodeErr("xt match u32: %d tests", e.raw[u32OffNTests])
	}
	for t := 0; t < int(e.raw[u32OffNTests]); t++ {
		ct := e.test(t)
		if ct.get8(u32OffNNums) > u32Elems || ct.get8(u32OffNVals) > u32Elems {
			return nil, decodeErr("xt match u32: test %d has %d locations, %d values", t, ct.get8(u32OffNNums), ct.get8(u32OffNVals))
		}
	}
	return e, nil
}
