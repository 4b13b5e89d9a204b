package syntax

import (
	"errors"
	"fmt"
	"io"

	"github.com/iptables-shim/iptables-shim/shim/ipterr"
)

// Versioned gives a refusal that has no print form of its own iptables'
// versioned one ("PROG v1.8.9 (LABEL): MSG", then in a restore "Error
// occurred at line: N" and the Try line), which is how iptables-nft reports
// a match or target it cannot load. The class and line of err are kept
// (exit 2 when err is not an *ipterr.Error). Errors that already carry a
// Diagnostic, and nil, are returned as they are.
func Versioned(err error) error {
	if err == nil || DiagnosticOf(err) != nil {
		return err
	}
	out := &ipterr.Error{Class: ipterr.Parameter, Msg: err.Error()}
	var ie *ipterr.Error
	if errors.As(err, &ie) {
		out.Class, out.Line = ie.Class, ie.Line
	}
	out.Err = fmt.Errorf("%w: %w", &Diagnostic{Form: FormVersioned, Template: out.Msg}, err)
	return out
}

// Report writes err to stderr as iptables prints it and returns the exit
// status: an error carrying a Diagnostic (the shim's own refusals and
// parse errors) in iptables' form for program prog (called as argv0) as
// iptables-nft version speaks (FormatError), anything else as
// ipterr.Report does.
func Report(stderr io.Writer, prog, argv0, version string, err error) int {
	if DiagnosticOf(err) == nil {
		return ipterr.Report(stderr, err)
	}
	fmt.Fprint(stderr, FormatErrorArgv0(prog, argv0, version, err))
	return int(ipterr.ClassOf(err))
}
