package native

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/nfnl"
	"github.com/iptables-shim/iptables-shim/shim/backend"
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

// nftFailure is a failure iptables-nft reports as "PROG v1.8.9 (nf_tables):
// MSG" with no "Try" line and exit 4: the kernel refused a batch, or could
// not be asked at all (no CAP_NET_ADMIN, no answer).
type nftFailure struct {
	// Line is the restore line the failure is tied to, 0 for none.
	Line int
	Msg  string
	Err  error
}

func (e *nftFailure) Error() string { return e.Msg }
func (e *nftFailure) Unwrap() error { return e.Err }

// genIDFailure is iptables-nft's answer when the first request of every
// call, reading the ruleset generation, fails: "Could not fetch rule set
// generation id: Permission denied (you must be root)" without the
// privilege.
func genIDFailure(err error) error {
	return &nftFailure{Msg: "Could not fetch rule set generation id: " + nftStrerror(err), Err: err}
}

// nftStrerror is iptables-nft's nft_strerror for errors without a
// command-specific text: strerror, except EPERM, which it words for the
// user who is not root.
func nftStrerror(err error) string {
	var errno unix.Errno
	if !errors.As(err, &errno) {
		if errors.Is(err, nfnl.ErrTimeout) {
			errno = unix.ETIMEDOUT
		} else {
			return err.Error()
		}
	}
	if errno == unix.EPERM {
		return "Permission denied (you must be root)"
	}
	return strerror(errno)
}

// report prints a failure iptables-nft prints in its versioned form with no
// "Try" line (kernel refusals, kernel unreachable) on c's stderr and marks
// it printed, exit 4; other errors are returned as they are, for the caller
// to print.
func report(c *backend.Call, err error) error {
	var nf *nftFailure
	if err == nil || !errors.As(err, &nf) {
		return err
	}
	var ie *ipterr.Error
	if errors.As(err, &ie) && ie.Printed {
		return err
	}
	if c.Stderr == nil {
		return &ipterr.Error{Class: ipterr.Resource, Msg: nf.Msg, Line: nf.Line, Err: err}
	}
	fmt.Fprintf(c.Stderr, "%s v%s (nf_tables): %s\n", c.Name(), syntax.Version, nf.Msg)
	return &ipterr.Error{Class: ipterr.Resource, Msg: nf.Msg, Line: nf.Line, Printed: true, Err: err}
}

// lineOf is the restore line err is tied to, 0 for none.
func lineOf(err error) int {
	var ie *ipterr.Error
	if errors.As(err, &ie) && ie.Line > 0 {
		return ie.Line
	}
	var nf *nftFailure
	if errors.As(err, &nf) {
		return nf.Line
	}
	return 0
}

// strerror is the C library's text for errno, as iptables prints it.
func strerror(e unix.Errno) string {
	s := e.Error()
	if s == "" {
		return fmt.Sprintf("Unknown error %d", int(e))
	}
	if s[0] >= 'a' && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}
