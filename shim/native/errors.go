package native

import (
	"errors"
	"fmt"

	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
	"github.com/iptables-shim/iptables-shim/shim/xt"
)

// errUnsupported marks what the native backend does not encode exactly, so
// the router can hand the call to a real iptables-nft instead.
var errUnsupported = errors.New("not supported by the native nf_tables backend")

// IsUnsupported reports whether err says the call lies outside what the
// native backend handles (its own refusals and shim/xt's).
func IsUnsupported(err error) bool {
	return errors.Is(err, errUnsupported) || xt.IsUnsupported(err)
}

func unsupportedf(format string, args ...any) error {
	d := &syntax.Diagnostic{Form: syntax.FormVersioned, Template: fmt.Sprintf(format, args...) + " is not supported by the native nf_tables backend"}
	return &ipterr.Error{Class: ipterr.Parameter, Msg: d.Template, Err: fmt.Errorf("%w: %w", d, errUnsupported)}
}

// paramf is a parameter problem (exit 2) printed the way iptables prints
// its own: "PROG v1.8.9 (nf_tables): MSG", and in restore the line and the
// "Try" hint.
func paramf(format string, args ...any) error {
	d := &syntax.Diagnostic{Form: syntax.FormVersioned, Template: fmt.Sprintf(format, args...)}
	return &ipterr.Error{Class: ipterr.Parameter, Msg: d.Template, Err: d}
}

// lineFailed is restore's "PROG: line N failed: MSG." (exit 1): a command
// that iptables-nft refuses against its cache before anything is sent.
func lineFailed(line int, msg string) error {
	d := &syntax.Diagnostic{Form: syntax.FormShort, Template: fmt.Sprintf("line %d failed: %s.", line, msg)}
	return &ipterr.Error{Class: ipterr.Other, Msg: d.Template, Err: d}
}

// atLine ties err to a restore line, keeping its class (Parameter when err
// is not an *ipterr.Error) and its cause.
//
// Errors from other packages (shim/xt) carry iptables' message text but no
// print form; they get syntax's versioned form, which is how iptables
// prints a parameter problem in a restore, so the caller renders them with
// "Error occurred at line: N".
func atLine(err error, line int) error {
	var ie *ipterr.Error
	if !errors.As(err, &ie) {
		ie = &ipterr.Error{Class: ipterr.Parameter, Msg: err.Error(), Err: err}
	}
	c := *ie
	c.Line = line
	if syntax.DiagnosticOf(err) == nil {
		d := &syntax.Diagnostic{Form: syntax.FormVersioned, Template: ie.Msg}
		if c.Err != nil {
			c.Err = fmt.Errorf("%w: %w", d, c.Err)
		} else {
			c.Err = d
		}
	} else if c.Err == nil {
		c.Err = err
	}
	return &c
}
