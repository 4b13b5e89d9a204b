package xt

import (
	"strconv"

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
		return paramErr("%s: option \"--%s\" cannot be inverted.", ext, o.Name)
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
	return paramErr("%s: bad integer value for option \"--%s\", or out of range.", ext, opt)
}

// badRange is libxtables' message for a number outside an option's range.
func badRange(ext, opt string, min, max uint64) error {
	return paramErr("%s: bad value for option \"--%s\", or out of range (%d-%d).", ext, opt, min, max)
}

// notTogether is libxtables' message for two exclusive options.
func notTogether(ext, first, second string) error {
	return paramErr("%s: option \"--%s\" cannot be used together with \"--%s\".", ext, first, second)
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

// mustSpecify is libxtables' message for a missing mandatory option.
func mustSpecify(ext, opt string) error {
	return paramErr("%s: option \"--%s\" must be specified", ext, opt)
}
