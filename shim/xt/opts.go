package xt

import (
	"strconv"
	"strings"

	"github.com/iptables-shim/iptables-shim/shim/extopts"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// oneArg returns the single argument of an option, or an unsupported error
// naming it when the model collected some other count.
func oneArg(ext string, o syntax.Option) (string, error) {
	if len(o.Args) != 1 {
		return "", unsupportedOption(ext, o.Name)
	}
	return o.Args[0], nil
}

// noArg refuses an argument on a flag option.
func noArg(ext string, o syntax.Option) error {
	if len(o.Args) != 0 {
		return unsupportedOption(ext, o.Name)
	}
	return nil
}

// noInvert is libxtables' complaint about "!" on an option that has no
// inverted sense.
func noInvert(ext string, o syntax.Option) error {
	if o.Invert {
		return paramErr("%s: option \"--%s\" cannot be inverted.\n", ext, o.Name)
	}
	return nil
}

// parseUint32 reads a number as strtoul(s, 0) does (decimal, 0x hex, 0
// octal), as libxtables' option parser does for marks and masks.
func parseUint32(s string) (uint32, bool) {
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		// strtoul treats a leading 0 as octal, which ParseUint(…, 0) also
		// does only with the 0o prefix or plain 0 prefix; both agree on
		// what they accept, so anything else is invalid.
		return 0, false
	}
	return uint32(v), true
}

// badValue is libxtables' message for a mark/integer option value it
// cannot parse.
func badValue(ext, opt, v string) error {
	return paramErr("%s: bad integer value for option \"--%s\", or out of range.\n", ext, opt)
}

// Several libxtables messages end in a newline of their own, which
// iptables prints as a blank line before "Try `iptables -h'"; the texts
// below keep it.

// badRange is libxtables' message for a number outside an option's range.
func badRange(ext, opt string, min, max uint64) error {
	return paramErr("%s: bad value for option \"--%s\", or out of range (%d-%d).\n", ext, opt, min, max)
}

// notTogether is libxtables' message for two exclusive options.
func notTogether(ext, first, second string) error {
	return paramErr("%s: option \"--%s\" cannot be used together with \"--%s\".\n", ext, first, second)
}

// alsoRequires is libxtables' message for an option given without another
// it depends on.
func alsoRequires(ext, opt, needed string) error {
	return paramErr("%s: option \"--%s\" also requires \"--%s\".\n", ext, opt, needed)
}

// exclusive reports two mutually exclusive options the way libxtables
// does: in the order of the extension's option table (order), whatever
// order they were given in.
func exclusive(ext string, order []string, a, b string) error {
	if indexOf(order, b) < indexOf(order, a) {
		a, b = b, a
	}
	return notTogether(ext, a, b)
}

// tableExclusive is exclusive in the order of the extension's options in
// the one extension option table (shim/extopts), which is libxtables' own
// table order; a and b may be option names or their aliases.
func tableExclusive(ext string, target bool, a, b string) error {
	e := extopts.Must(ext, target)
	if e.Index(b) < e.Index(a) {
		a, b = b, a
	}
	return notTogether(ext, a, b)
}

// mustSpecify is libxtables' message for a missing mandatory option.
func mustSpecify(ext, opt string) error {
	return paramErr("%s: option \"--%s\" must be specified\n", ext, opt)
}

// parseU32Range reads "a[:b]" as libxtables' option parser reads a u32
// range (xtopt_parse_mint): each number as strtoul with base 0, an empty
// first component meaning 0 and an empty second one the maximum. It
// returns the components and how many were given.
func parseU32Range(ext, opt, arg string) ([2]uint32, int, error) {
	return parseUintRange(ext, opt, arg, 0xffffffff)
}

// parseUintRange is parseU32Range for numbers up to max (XTTYPE_UINT16RC
// and the like), an empty second component meaning max.
func parseUintRange(ext, opt, arg string, max uint32) ([2]uint32, int, error) {
	var r [2]uint32
	n := 0
	for rest := arg; ; {
		if n == len(r) {
			return r, n, paramErr("%s: Too many components for option \"--%s\" (max: %d)\n", ext, opt, len(r))
		}
		num, end := rest, ""
		if i := strings.IndexByte(rest, ':'); i >= 0 {
			num, end = rest[:i], rest[i:]
		}
		switch {
		case num == "" && n == 1:
			r[n] = max
		case num == "":
			r[n] = 0
		default:
			v, tail, ok := strtoulPrefix(num)
			if !ok || v > max {
				return r, n, paramErr("%s: bad value for option \"--%s\" near \"%s\", or out of range (0-%d).\n", ext, opt, rest, max)
			}
			if tail != "" {
				return r, n, paramErr("%s: Argument to \"--%s\" has unexpected characters near \"%s\".\n", ext, opt, tail+end)
			}
			r[n] = v
		}
		n++
		if end == "" {
			return r, n, nil
		}
		rest = end[1:]
	}
}

// strtoulPrefix reads the number at the start of s as strtoul(s, &end, 0)
// does (0x hex, leading-0 octal, else decimal) within 32 bits, returning
// what follows it; ok is false when s starts with no digit or the number
// is too large.
func strtoulPrefix(s string) (v uint32, tail string, ok bool) {
	base, digits := uint64(10), s
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && hexDigit(s[2]) >= 0:
		base, digits = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base = 8
	}
	var acc uint64
	i := 0
	for ; i < len(digits); i++ {
		d := hexDigit(digits[i])
		if d < 0 || uint64(d) >= base {
			break
		}
		if acc = acc*base + uint64(d); acc > 0xffffffff {
			return 0, "", false
		}
	}
	if i == 0 {
		return 0, "", false
	}
	return uint32(acc), digits[i:], true
}

// hexDigit is the value of a hex digit, or -1.
func hexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// cutNUL is what C's string functions see of an argument: the part before
// its first NUL (only a restore file can carry one).
func cutNUL(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}
