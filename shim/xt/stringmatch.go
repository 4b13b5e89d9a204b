package xt

import (
	"fmt"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// Layout of struct xt_string_info (revision 1): offsets, algorithm name
// and pattern sizes, then the kernel's private pointer.
const (
	strOffAlgo     = 4
	strAlgoLen     = 16
	strOffPattern  = 20
	strPatternLen  = 128
	strOffPatlen   = 148
	strOffFlags    = 149
	strUserSize    = 152
	strSize        = 160
	strFlagInvert  = 0x01
	strFlagIcase   = 0x02
	strToUnlimited = 0xffff
)

// stringMatch is -m string, revision 1.
type stringMatch struct {
	from, to uint16
	algo     [strAlgoLen]byte
	pattern  [strPatternLen]byte
	patlen   uint8
	flags    uint8
	// to0 is the open end libxt_string 1.8.7 leaves out of its output
	// (0 there, 65535 in 1.8.9, which corrected it).
	to0 uint16
}

// stringOptions is libxt_string's option table order (the order its
// final checks run in).
var stringOptions = []string{"from", "to", "algo", "string", "hex-string", "icase"}

// parseHexString is libxt_string's parse_hex_string: text with |hex
// blocks| and \-escaped literals.
func parseHexString(s string, pat *[strPatternLen]byte) (uint8, error) {
	if s == "" {
		return 0, paramErr("STRING must contain at least one char")
	}
	// at reads s as the C string it is, with its terminating NUL.
	at := func(i int) byte {
		if i < len(s) {
			return s[i]
		}
		return 0
	}
	i, n := 0, 0
	hex, literal := false, false
	for i < len(s) {
		if n >= strPatternLen {
			return 0, paramErr("STRING too long \"%s\"", s)
		}
		switch {
		case s[i] == '\\' && !hex:
			literal = true
		case s[i] == '\\':
			return 0, paramErr("Cannot include literals in hex data")
		case s[i] == '|':
			if hex {
				hex = false
			} else {
				hex = true
				for at(i+1) == ' ' {
					i++
				}
			}
			if i+1 >= len(s) {
				return uint8(n), nil
			}
			i++
		}
		switch {
		case literal:
			if i+1 >= len(s) {
				return 0, paramErr("Bad literal placement at end of string")
			}
			pat[n] = s[i+1]
			i += 2
			literal = false
		case hex:
			if i+1 >= len(s) {
				return 0, paramErr("Odd number of hex digits")
			}
			if i+2 >= len(s) {
				return 0, paramErr("Invalid hex block")
			}
			for _, c := range []byte{s[i], s[i+1]} {
				if hexDigit(c) < 0 {
					return 0, paramErr("Invalid hex char '%c'", c)
				}
			}
			pat[n] = byte(hexDigit(s[i])<<4 | hexDigit(s[i+1]))
			if s[i+2] == ' ' {
				i += 3
			} else {
				i += 2
			}
		default:
			pat[n] = s[i]
			i++
		}
		n++
	}
	return uint8(n), nil
}

func parseStringMatch(ctx Context, m syntax.Match) (Ext, error) {
	e := &stringMatch{to: strToUnlimited, to0: strToUnlimited}
	given := map[string]bool{}
	for _, o := range m.Options {
		given[o.Name] = true
		if o.Name == "icase" {
			if err := noArg(m.Name, o); err != nil {
				return nil, err
			}
			e.flags |= strFlagIcase
			continue
		}
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		v = cutNUL(v)
		switch o.Name {
		case "from", "to":
			n, _, ok := strtoulRange(v, 0, 0xffff, false)
			if !ok {
				return nil, badRange(m.Name, o.Name, 0, 0xffff)
			}
			if o.Name == "from" {
				e.from = uint16(n)
			} else {
				e.to = uint16(n)
			}
		case "algo":
			if len(v) >= strAlgoLen {
				v = v[:strAlgoLen-1]
			}
			e.algo = [strAlgoLen]byte{}
			copy(e.algo[:], v)
		case "string":
			if len(v) > strPatternLen {
				return nil, paramErr("STRING too long \"%s\"", v)
			}
			e.patlen = uint8(len(v))
			copy(e.pattern[:], v)
		case "hex-string":
			n, err := parseHexString(v, &e.pattern)
			if err != nil {
				return nil, err
			}
			e.patlen = n
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
		if o.Invert {
			e.flags |= strFlagInvert
		}
	}
	if !given["string"] && !given["hex-string"] {
		return nil, paramErr("STRING match: You must specify `--string' or `--hex-string'")
	}
	if !given["algo"] {
		return nil, mustSpecify(m.Name, "algo")
	}
	if given["string"] && given["hex-string"] {
		return nil, notTogether(m.Name, "string", "hex-string")
	}
	return e, nil
}

func (e *stringMatch) Name() string                          { return "string" }
func (e *stringMatch) Revision() (string, uint8, bool, bool) { return "string", 1, false, true }

func (e *stringMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(strSize)
	b.u16(0, e.from)
	b.u16(2, e.to)
	copy(b[strOffAlgo:], e.algo[:])
	copy(b[strOffPattern:], e.pattern[:])
	b.u8(strOffPatlen, e.patlen)
	b.u8(strOffFlags, e.flags)
	return xtMatch("string", 1, b), nil
}

// patternText is libxt_string's pattern output: a quoted string with "
// and \ escaped, or a |hex| block when a byte is not printable or the last
// one is a backslash.
func (e *stringMatch) patternText() (text string, isHex bool) {
	p := e.pattern[:e.patlen]
	// For an empty pattern (which the kernel refuses) C looks at the
	// byte before it, the algorithm name's terminating NUL.
	isHex = len(p) > 0 && p[len(p)-1] == '\\'
	for _, c := range p {
		if c < 0x20 || c > 0x7e {
			isHex = true
		}
	}
	var b strings.Builder
	if isHex {
		b.WriteString("\"|")
		for _, c := range p {
			fmt.Fprintf(&b, "%02x", c)
		}
		b.WriteString("|\"")
		return b.String(), true
	}
	b.WriteByte('"')
	for _, c := range p {
		if c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	return b.String(), false
}

func (e *stringMatch) algoString() string {
	s, _ := blob(e.algo[:]).getStr(0, strAlgoLen)
	return s
}

func (e *stringMatch) Save(Context) string {
	var b strings.Builder
	b.WriteString("-m string")
	if e.flags&strFlagInvert != 0 {
		b.WriteString(" !")
	}
	text, isHex := e.patternText()
	if isHex {
		b.WriteString(" --hex-string " + text)
	} else {
		b.WriteString(" --string " + text)
	}
	b.WriteString(" --algo " + e.algoString())
	if e.from != 0 {
		fmt.Fprintf(&b, " --from %d", e.from)
	}
	if e.to != e.to0 {
		fmt.Fprintf(&b, " --to %d", e.to)
	}
	if e.flags&strFlagIcase != 0 {
		b.WriteString(" --icase")
	}
	return b.String()
}

// List is string_print: `STRING match !"x" ALGO name bm FROM 1 TO 2
// ICASE`, with two spaces before a pattern that is not inverted.
func (e *stringMatch) List(bool) string {
	var b strings.Builder
	b.WriteString(" STRING match ")
	if e.flags&strFlagInvert != 0 {
		b.WriteString("!")
	}
	text, _ := e.patternText()
	b.WriteString(" " + text)
	b.WriteString(" ALGO name " + e.algoString())
	if e.from != 0 {
		fmt.Fprintf(&b, " FROM %d", e.from)
	}
	if e.to != e.to0 {
		fmt.Fprintf(&b, " TO %d", e.to)
	}
	if e.flags&strFlagIcase != 0 {
		b.WriteString(" ICASE")
	}
	return b.String()
}

func decodeStringBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 1 {
		return nil, decodeErr("xt match string rev %d is not supported", rev)
	}
	if err := checkSize("string", rev, data, strSize); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &stringMatch{from: b.get16(0), to: b.get16(2), patlen: b.get8(strOffPatlen), flags: b.get8(strOffFlags), to0: strToUnlimited}
	if ctx.Prints187 {
		e.to0 = 0
	}
	if _, ok := b.getStr(strOffAlgo, strAlgoLen); !ok {
		return nil, decodeErr("xt match string: algorithm name is not terminated")
	}
	if e.patlen > strPatternLen || e.flags&^(strFlagInvert|strFlagIcase) != 0 || !b.zero(strOffFlags+1, strUserSize-strOffFlags-1) {
		return nil, decodeErr("xt match string: pattern length %d, flags %#x", e.patlen, e.flags)
	}
	copy(e.algo[:], b[strOffAlgo:strOffAlgo+strAlgoLen])
	copy(e.pattern[:], b[strOffPattern:strOffPattern+strPatternLen])
	return e, nil
}
