package nftread

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

// Unsupportedf is a refusal of the native backend: a parameter problem
// saying what is "not supported by the native nf_tables backend", which
// IsUnsupported recognises (so the router can use a real binary instead).
func Unsupportedf(format string, args ...any) error {
	d := &syntax.Diagnostic{Form: syntax.FormVersioned, Template: fmt.Sprintf(format, args...) + " is not supported by the native nf_tables backend"}
	return &ipterr.Error{Class: ipterr.Parameter, Msg: d.Template, Err: fmt.Errorf("%w: %w", d, errUnsupported)}
}

// Paramf is a parameter problem (exit 2) printed the way iptables prints
// its own: "PROG v1.8.9 (nf_tables): MSG", and in restore the line and the
// "Try" hint.
func Paramf(format string, args ...any) error {
	d := &syntax.Diagnostic{Form: syntax.FormVersioned, Template: fmt.Sprintf(format, args...)}
	return &ipterr.Error{Class: ipterr.Parameter, Msg: d.Template, Err: d}
}

// LineFailed is restore's "PROG: line N failed: MSG." (exit 1): a command
// that iptables-nft refuses against its cache before anything is sent.
func LineFailed(line int, msg string) error {
	d := &syntax.Diagnostic{Form: syntax.FormShort, Template: fmt.Sprintf("line %d failed: %s.", line, msg)}
	return &ipterr.Error{Class: ipterr.Other, Msg: d.Template, Err: d}
}

// AtLine ties err to a restore line, keeping its class (Parameter when err
// is not an *ipterr.Error) and its cause.
//
// Errors from other packages (shim/xt) carry iptables' message text but no
// print form; they get syntax's versioned form, which is how iptables
// prints a parameter problem in a restore, so the caller renders them with
// "Error occurred at line: N".
func AtLine(err error, line int) error {
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

// NFTFailure is a failure iptables-nft reports as "PROG v1.8.9 (nf_tables):
// MSG" with no "Try" line and exit 4: the kernel refused a batch, or could
// not be asked at all (no CAP_NET_ADMIN, no answer).
type NFTFailure struct {
	// Line is the restore line the failure is tied to, 0 for none.
	Line int
	// Msg is the text after the versioned prefix; Err the cause.
	Msg string
	Err error
}

func (e *NFTFailure) Error() string { return e.Msg }
func (e *NFTFailure) Unwrap() error { return e.Err }

// GenIDFailure is iptables-nft's answer when the first request of every
// call, reading the ruleset generation, fails: "Could not fetch rule set
// generation id: Permission denied (you must be root)" without the
// privilege.
func GenIDFailure(err error) error {
	return &NFTFailure{Msg: "Could not fetch rule set generation id: " + NFTStrerror(err), Err: err}
}

// NFTStrerror is iptables-nft's nft_strerror for errors without a
// command-specific text: strerror, except EPERM, which it words for the
// user who is not root.
func NFTStrerror(err error) string {
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
	return Strerror(errno)
}

// Report prints a failure iptables-nft prints in its versioned form with no
// "Try" line (kernel refusals, kernel unreachable) on c's stderr and marks
// it printed, exit 4; other errors are returned as they are, for the caller
// to print.
func Report(c *backend.Call, err error) error {
	var nf *NFTFailure
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
	fmt.Fprintf(c.Stderr, "%s %s: %s\n", c.Name(), syntax.Banner(c.Version, "nf_tables"), nf.Msg)
	return &ipterr.Error{Class: ipterr.Resource, Msg: nf.Msg, Line: nf.Line, Printed: true, Err: err}
}

// LineOf is the restore line err is tied to, 0 for none.
func LineOf(err error) int {
	var ie *ipterr.Error
	if errors.As(err, &ie) && ie.Line > 0 {
		return ie.Line
	}
	var nf *NFTFailure
	if errors.As(err, &nf) {
		return nf.Line
	}
	return 0
}

// Strerror is the C library's text for errno, as iptables prints it.
func Strerror(e unix.Errno) string {
	s := e.Error()
	if s == "" {
		return fmt.Sprintf("Unknown error %d", int(e))
	}
	if s[0] >= 'a' && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}
