package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/native"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// nativeAdapter fits the native nf_tables backend to the router: it answers
// what the backend supports before anything touches the kernel, answers
// --version itself (kube-proxy probes it on start-up and turns on -w and
// --random-fully from the number), and prints errors the way iptables-nft
// 1.8.9 does.
type nativeAdapter struct {
	be *native.Backend
}

func (n nativeAdapter) Describe() string { return n.be.Describe() }

// Supports parses the call (a restore's input is read once and kept for
// the backend and the guard) and asks the backend. Input that does not
// parse is "supported": the backend reports it exactly as iptables does.
func (n nativeAdapter) Supports(c *backend.Call) error {
	switch c.Tool {
	case backend.Restore:
		f, err := syntax.ParseRestoreArgs(c.Args)
		if err != nil || f.Version || f.Help || f.File != "" {
			return nil
		}
		p, err := c.ReadPayload()
		if err != nil {
			return nil
		}
		return syntax.Versioned(native.SupportsRestore(p, f.NoFlush))
	case backend.Iptables:
		cmd, err := c.Command()
		if err != nil || cmd.Op == syntax.OpVersion {
			return nil
		}
		return syntax.Versioned(native.SupportsCommand(c.Family, cmd))
	}
	return nil
}

// progName is the name iptables prints for itself: "iptables" for single
// commands, the invoked name for restore and save.
func progName(c *backend.Call) string {
	if c.Tool == backend.Iptables || c.Argv0 == "" {
		return c.Name()
	}
	return filepath.Base(c.Argv0)
}

func (n nativeAdapter) Run(ctx context.Context, c *backend.Call) error {
	if isVersionCall(c) {
		fmt.Fprintf(c.Stdout, "%s v%s (nf_tables)\n", progName(c), syntax.Version)
		return nil
	}
	err := n.be.Run(ctx, c)
	if err == nil {
		return nil
	}
	if native.IsUnsupported(err) {
		err = syntax.Versioned(err)
	}
	if text := syntax.FormatErrorArgv0(progName(c), c.Argv0, "nf_tables", err); text != "" {
		fmt.Fprint(c.Stderr, text)
	}
	return &ipterr.Error{Class: ipterr.ClassOf(err), Printed: true, Err: err, Msg: err.Error()}
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
