package xt

import (
	"errors"
	"fmt"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/ipterr"
)

// errUnsupported marks an extension or option this package does not encode
// exactly; it sits under the *ipterr.Error so IsUnsupported can find it.
var errUnsupported = errors.New("outside the native allowlist")

// IsUnsupported reports whether err says that an extension or option lies
// outside the allowlist: the router then hands the call to a real
// iptables-nft, or refuses it (exit 2) when there is none.
func IsUnsupported(err error) bool { return errors.Is(err, errUnsupported) }

// unsupported is the error for an extension this package does not know. It
// starts the way iptables reports an extension it cannot load (callers
// match on "Couldn't load match"), and says why: the real iptables may well
// have the extension, only the shim cannot encode it and found no real
// binary to hand the call to.
func unsupported(kind, name string) error {
	return &ipterr.Error{
		Class: ipterr.Parameter,
		Msg:   fmt.Sprintf("Couldn't load %s `%s': not supported by iptables-shim's native nf_tables backend, and no iptables-nft binary was found to run it", kind, name),
		Err:   errUnsupported,
	}
}

// unsupportedOption is the error for a known extension used with an option
// (or option value) that is not encoded natively.
func unsupportedOption(ext, opt string) error {
	return &ipterr.Error{
		Class: ipterr.Parameter,
		Msg:   fmt.Sprintf("%s: option \"--%s\" is not supported natively", ext, opt),
		Err:   errUnsupported,
	}
}

// paramErr is a parameter problem shaped like iptables' own messages.
func paramErr(format string, args ...any) error {
	return ipterr.New(ipterr.Parameter, format, args...)
}

// decodeErr is a refusal to decode kernel state this package does not fully
// understand. It is class Other (what iptables-nft-save reports for a table
// it cannot parse) and also unsupported, so the router may fall back to a
// real binary.
func decodeErr(format string, args ...any) error {
	return &ipterr.Error{Class: ipterr.Other, Msg: fmt.Sprintf(format, args...), Err: errUnsupported}
}

// describe names an expression for error messages.
func describe(e expr.Any) string {
	switch x := e.(type) {
	case *expr.Match:
		return fmt.Sprintf("xt match %q rev %d", x.Name, x.Rev)
	case *expr.Target:
		return fmt.Sprintf("xt target %q rev %d", x.Name, x.Rev)
	case *expr.Payload:
		return fmt.Sprintf("payload base %d offset %d len %d", x.Base, x.Offset, x.Len)
	case *expr.Meta:
		return fmt.Sprintf("meta key %d", x.Key)
	case *expr.Cmp:
		return fmt.Sprintf("cmp op %d %x", x.Op, x.Data)
	default:
		return fmt.Sprintf("expression %T", e)
	}
}

// OlderDialect is the refusal of an extension (or option form) that the
// host's older iptables-nft neither writes nor reads back as written (the
// shim writes the host's dialect): the router hands the call to a real
// binary, or refuses it (exit 2).
func OlderDialect(name, version string) error {
	return &ipterr.Error{
		Class: ipterr.Parameter,
		Msg:   fmt.Sprintf("%s: not written natively for a host with iptables-nft %s, which does not read it back as written", name, version),
		Err:   errUnsupported,
	}
}
