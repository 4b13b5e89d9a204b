// Package backend defines the one small interface every way of carrying out
// an iptables call implements (the exec backend that runs a real binary, the
// native nf_tables backend), so every command runs the same way on each.
package backend

import (
	"bytes"
	"context"
	"io"
	"path/filepath"

	"github.com/iptables-shim/iptables-shim/shim/netfilter"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// Tool is which of the three iptables programs was called.
type Tool int

const (
	// Iptables is iptables / ip6tables: one command per call.
	Iptables Tool = iota
	// Save is iptables-save / ip6tables-save.
	Save
	// Restore is iptables-restore / ip6tables-restore.
	Restore
)

// Mode is which kernel subsystem a call is sent to (an alias of
// netfilter.Mode, the leaf package detection shares).
type Mode = netfilter.Mode

const (
	// Legacy is the x_tables backend (iptables-legacy).
	Legacy = netfilter.Legacy
	// NFT is the nf_tables backend (iptables-nft).
	NFT = netfilter.NFT
)

// Call is one iptables invocation as the caller made it.
type Call struct {
	Tool   Tool
	Family syntax.Family
	// Argv0 is the program name exactly as the caller invoked it (a full
	// path, say); real binaries that print argv[0] are given it, so their
	// messages read as they would without the shim. Empty means Name().
	Argv0 string
	// Args are the arguments after argv[0], untouched.
	Args   []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Payload, for a restore, is the input already read and parsed (and
	// possibly rewritten by the missing-chain guard); Stdin then holds the
	// same text, rendered. nil when nobody parsed it: a backend reads Stdin.
	Payload *syntax.Payload
	// GuardChains, for a single command, are chains the missing-chain
	// guard adds to it (declarations and rules, as a restore payload):
	// the backend must commit them in the command's own transaction, or
	// refuse the call. Only the native backend takes them; a real binary
	// cannot, so the router never sets them for one.
	GuardChains *syntax.Payload

	// Declinable, set by the router, says a real binary can take the call
	// over: a backend may then decline it (see Declined) instead of
	// refusing it, as long as it has changed nothing and printed nothing.
	Declinable bool
	// Version is the iptables version the call answers as in --version
	// and in its messages ("1.8.11"); empty means syntax.Version. The
	// native backend sets it to its dialect's (the host's version).
	Version string
	input   []byte // standard input, once ReadInput has read it

	// The arguments parsed as a single command, once Command parsed them.
	parsed bool
	cmd    *syntax.Command
	cmdErr error
}

// Command returns a single command's arguments (Tool Iptables) parsed,
// parsing them on first use only: the router's choice of backend, the
// guard and the native backend's checks read the same parse. Callers read
// it and never change it.
func (c *Call) Command() (*syntax.Command, error) {
	if !c.parsed {
		c.cmd, c.cmdErr = syntax.ParseCommand(c.Args, c.Family)
		c.parsed = true
	}
	return c.cmd, c.cmdErr
}

// Name is the program name the caller used, e.g. "ip6tables-restore".
func (c *Call) Name() string { return ProgramName(c.Tool, c.Family) }

// ProgName is the name iptables prints for itself in its messages:
// "iptables" (or "ip6tables") for single commands, and the name it was
// invoked by for restore and save.
func (c *Call) ProgName() string {
	if c.Tool == Iptables || c.Argv0 == "" {
		return c.Name()
	}
	return filepath.Base(c.Argv0)
}

// ProgramName is the iptables program name for a tool and family.
func ProgramName(t Tool, f syntax.Family) string {
	base := "iptables"
	if f == syntax.IPv6 {
		base = "ip6tables"
	}
	switch t {
	case Save:
		return base + "-save"
	case Restore:
		return base + "-restore"
	}
	return base
}

// Backend carries out calls. Run returns nil for exit status 0, otherwise an
// *ipterr.Error whose class is the exit status; when the error is not marked
// Printed, the caller prints its message the way iptables would.
type Backend interface {
	// Describe names the backend and what it runs, for the log and doctor
	// (e.g. "exec /usr/sbin/xtables-nft-multi").
	Describe() string
	Run(ctx context.Context, c *Call) error
}

// ReadInput reads a call's standard input whole, once: later calls return
// the same bytes, and c.Stdin is left holding them, ready to be read again
// by whichever backend runs the call.
func (c *Call) ReadInput() ([]byte, error) {
	if c.input != nil {
		return c.input, nil
	}
	data := []byte{}
	if c.Stdin != nil {
		var err error
		if data, err = io.ReadAll(c.Stdin); err != nil {
			return nil, err
		}
	}
	c.input = data
	c.Stdin = bytes.NewReader(data)
	return data, nil
}

// ReadPayload parses a restore call's standard input once (see ReadInput)
// and keeps the result in c.Payload. A parse error is returned as is: the
// backend reports it as iptables does when it reads the same text.
func (c *Call) ReadPayload() (*syntax.Payload, error) {
	if c.Payload != nil {
		return c.Payload, nil
	}
	data, err := c.ReadInput()
	if err != nil {
		return nil, err
	}
	c.Stdin = bytes.NewReader(data)
	p, err := syntax.ParseRestore(bytes.NewReader(data), c.Family)
	if err != nil {
		return nil, err
	}
	c.Payload = p
	return p, nil
}

// KeptInput returns the call's standard input when ReadInput has read it
// (ok false when nobody has: the backend reads Stdin itself).
func (c *Call) KeptInput() (data []byte, ok bool) { return c.input, c.input != nil }

// Declined is a backend's answer to a Declinable call it cannot carry out
// (a line it does not implement, input its parser rejects) and has not
// started: nothing was changed or printed, and Err says why. The router
// then gives the call to a real binary.
type Declined struct{ Err error }

func (e *Declined) Error() string { return "declined: " + e.Err.Error() }

func (e *Declined) Unwrap() error { return e.Err }

// InputNotPlaced is an exec backend's failure to give the real binary
// that replaces the shim the standard input the shim had already read
// (see KeptInput); nothing was changed, and the call can still run the
// binary as a child.
type InputNotPlaced struct{ Err error }

func (e *InputNotPlaced) Error() string {
	return "iptables-shim: cannot hand the standard input read to the backend: " + e.Err.Error()
}

func (e *InputNotPlaced) Unwrap() error { return e.Err }

// ForgetPayload drops the parsed payload and keeps the text: a backend
// that parses the text again, a piece at a time, lets the whole parse go
// (it takes several times the memory of its text).
func (c *Call) ForgetPayload() { c.Payload = nil }

// ReplaceInput makes text (parsed as p) the call's standard input, as when
// the missing-chain guard rewrote a restore payload.
func (c *Call) ReplaceInput(text []byte, p *syntax.Payload) {
	c.input, c.Payload = text, p
	c.Stdin = bytes.NewReader(text)
}
