package native

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// Program is the native backend as the host's iptables-nft programs (its
// dialect's version) present themselves to their caller, which is what the
// router runs: it answers
// what the backend supports before anything touches the kernel, answers
// --version itself (kube-proxy probes it on start-up and turns on -w and
// --random-fully from the number), and prints errors the way iptables-nft
// does.
type Program struct {
	Backend *Backend
}

// Describe names the backend, for the call log.
func (p Program) Describe() string { return p.Backend.Describe() }

// Supports parses the call (a restore's input is read once and kept for
// the backend and the guard) and says whether the backend implements it.
// Input that does not parse is "supported": the backend reports it exactly
// as iptables does.
func (p Program) Supports(c *backend.Call) error {
	switch c.Tool {
	case backend.Restore:
		f, err := syntax.ParseRestoreArgs(c.Args)
		if err != nil || f.Version || f.Help || f.File != "" {
			return nil
		}
		pl, err := c.ReadPayload()
		if err != nil {
			return nil
		}
		return syntax.Versioned(SupportsRestore(pl, f.NoFlush))
	case backend.Iptables:
		cmd, err := c.Command()
		if err != nil || cmd.Op == syntax.OpVersion {
			return nil
		}
		return syntax.Versioned(SupportsCommand(c.Family, cmd))
	}
	return nil
}

// Run carries out the call. An error is printed on the call's stderr as
// iptables-nft prints it, and returned marked as printed.
func (p Program) Run(ctx context.Context, c *backend.Call) error {
	if isVersionCall(c) {
		fmt.Fprintf(c.Stdout, "%s %s\n", c.ProgName(), p.Backend.banner(c))
		return nil
	}
	err := p.Backend.Run(ctx, c)
	if err == nil {
		return nil
	}
	if IsUnsupported(err) {
		err = syntax.Versioned(err)
	}
	if text := syntax.FormatErrorArgv0(c.ProgName(), c.Argv0, p.Backend.versionFor(c, err), err); text != "" {
		fmt.Fprint(c.Stderr, text)
	}
	return &ipterr.Error{Class: ipterr.ClassOf(err), Printed: true, Err: err, Msg: err.Error()}
}

// TryRun carries out a restore unless the backend declines it: a line it
// does not implement, or input its parser rejects, found before anything
// is committed (planning reads the whole payload first). It then returns
// false, having changed nothing and printed nothing (what the backend
// printed while it planned is held back until it is committed to the
// call), and the router gives the call to a real binary, which reports
// what it reports. This spares the router a check of its own that would
// parse and encode the payload a second time. Other calls are run as Run
// runs them.
//
// The call's standard input must have been read whole (backend.Call
// ReadInput) or come from a regular file: sections of a stream are
// committed as they arrive, so a stream is never declined.
func (p Program) TryRun(ctx context.Context, c *backend.Call) (bool, error) {
	if c.Tool != backend.Restore || isVersionCall(c) {
		return true, p.Run(ctx, c)
	}
	out, errOut := c.Stdout, c.Stderr
	held := &heldOutput{}
	c.Stdout, c.Stderr = held.stream(1), held.stream(2)
	c.Declinable = true
	err := p.Run(ctx, c)
	c.Stdout, c.Stderr, c.Declinable = out, errOut, false
	var d *backend.Declined
	if errors.As(err, &d) {
		return false, nil
	}
	if werr := held.replay(out, errOut); werr != nil && err == nil {
		err = ipterr.Wrap(ipterr.Other, werr, werr.Error())
	}
	return true, err
}

// heldOutput keeps what a call writes to its two streams, in order, until
// it is replayed.
type heldOutput struct {
	chunks []heldChunk
}

type heldChunk struct {
	fd   int
	data []byte
}

func (h *heldOutput) stream(fd int) io.Writer { return heldStream{h, fd} }

func (h *heldOutput) replay(stdout, stderr io.Writer) error {
	for _, ch := range h.chunks {
		w := stdout
		if ch.fd == 2 {
			w = stderr
		}
		if w == nil {
			continue
		}
		if _, err := w.Write(ch.data); err != nil {
			return err
		}
	}
	return nil
}

type heldStream struct {
	h  *heldOutput
	fd int
}

func (s heldStream) Write(b []byte) (int, error) {
	s.h.chunks = append(s.h.chunks, heldChunk{s.fd, append([]byte(nil), b...)})
	return len(b), nil
}

// isVersionCall reports -V/--version for any of the three programs.
func isVersionCall(c *backend.Call) bool {
	switch c.Tool {
	case backend.Iptables:
		cmd, err := c.Command()
		return err == nil && cmd.Op == syntax.OpVersion
	case backend.Restore:
		f, err := syntax.ParseRestoreArgs(c.Args)
		return err == nil && f.Version
	case backend.Save:
		f, err := syntax.ParseSaveArgs(c.Args)
		return err == nil && f.Version
	}
	return false
}
