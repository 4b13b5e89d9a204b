package route

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/calllog"
	"github.com/iptables-shim/iptables-shim/shim/config"
	"github.com/iptables-shim/iptables-shim/shim/guard"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// guarded is a call prepared by the guard: what it creates, and what must
// happen before and after the backend runs.
type guarded struct {
	plan guard.Plan
	// pre runs before the call (a single command's chains are created by a
	// restore of their own); nil when nothing is needed.
	pre func(ctx context.Context) error
	// undo takes away what pre made, when the call failed after it.
	undo func(ctx context.Context) error
	// finish flushes output the guard filters; nil when none.
	finish func() error
}

func (r *Router) guardSettings() guard.Settings {
	c := r.Config
	return guard.Settings{
		Catalog:       guard.Catalog{Era: c.GuardEra, DropBit: c.DropBit, MasqueradeBit: c.MasqueradeBit},
		CreateUnknown: c.UnknownChains == config.UnknownCreate,
		Companions:    c.GuardCompanion,
	}
}

// chainsFor returns what the guard asks about existing chains. Tests replace
// it through Router.Chains.
func (r *Router) chainsFor(mode backend.Mode, fam syntax.Family) guard.Chains {
	if r.Chains != nil {
		return r.Chains(mode, fam)
	}
	return kernelChains{mode: mode, fam: fam}
}

// guard prepares c for the backend be in mode. It may read and replace
// c.Stdin (restore) and wrap c.Stderr. Input it cannot parse goes to the
// backend untouched, which then reports it as iptables does.
func (r *Router) guard(mode backend.Mode, be backend.Backend, c *backend.Call) (guarded, error) {
	switch c.Tool {
	case backend.Restore:
		return r.guardRestore(mode, be, c)
	case backend.Iptables:
		return r.guardCommand(mode, be, c)
	}
	return guarded{}, nil
}

func (r *Router) guardRestore(mode backend.Mode, be backend.Backend, c *backend.Call) (guarded, error) {
	flags, err := syntax.ParseRestoreArgs(c.Args)
	if err != nil || flags.File != "" || flags.Version || flags.Help || flags.Test {
		return guarded{}, nil
	}
	data, err := c.ReadInput()
	if err != nil {
		return guarded{}, fmt.Errorf("reading standard input: %w", err)
	}
	if c.Payload == nil && !guard.MayJumpToUndeclared(data, flags, c.Family) {
		return guarded{}, nil // every jump target is declared or no chain: no parse needed
	}
	payload, err := c.ReadPayload()
	if err != nil {
		return guarded{}, nil
	}
	plan, err := guard.PlanRestore(payload, flags, r.guardSettings(), r.chainsFor(mode, c.Family))
	if err != nil || plan.Empty() {
		// A backend we cannot ask about chains is no reason to fail the
		// call: it goes on as it would without the shim.
		return guarded{plan: plan}, nil
	}
	rewritten, lineMap, err := plan.Apply(payload)
	if err != nil {
		return guarded{}, err
	}
	var buf bytes.Buffer
	if err := rewritten.Render(&buf); err != nil {
		return guarded{}, err
	}
	c.ReplaceInput(buf.Bytes(), rewritten)
	g := guarded{plan: plan}
	if _, isExec := be.(ExecBackend); isExec {
		fixer := guard.NewLineFixer(c.Stderr, lineMap)
		c.Stderr = fixer
		g.finish = fixer.Close
	}
	return g, nil
}

// guardCommand prepares a single -A/-I/-R that jumps to a missing catalog
// chain. The chains and the command commit together or not at all:
//
//   - native: the chains ride in the command's own netlink batch
//     (backend.Call.GuardChains);
//   - a real binary: a --noflush restore creates the chains, the binary runs
//     the command as the caller wrote it, and when it fails a second restore
//     takes the chains away again (undo).
//
// A real binary's single command cannot be carried inside a restore
// without losing what the caller sees: iptables-restore words every error
// differently ("line N failed"), prints no -v output, and reads quoted
// arguments with its own tokenizer. Run as itself, the command prints
// exactly what iptables prints with the chains present, which is the world
// the guard promises; the undo restores the world before the call.
func (r *Router) guardCommand(mode backend.Mode, be backend.Backend, c *backend.Call) (guarded, error) {
	if !mayJump(c.Args) {
		return guarded{}, nil
	}
	cmd, err := syntax.ParseCommand(c.Args, c.Family)
	if err != nil || cmd.Rule == nil || !guard.IsChainTarget(cmd.Rule.Target, c.Family) {
		return guarded{}, nil
	}
	plan, err := guard.PlanCommand(cmd, r.guardSettings(), r.chainsFor(mode, c.Family))
	if err != nil || plan.Empty() {
		return guarded{plan: plan}, nil
	}
	payload, err := plan.Payload(c.Family)
	if err != nil {
		return guarded{}, err
	}
	if _, isExec := be.(ExecBackend); !isExec {
		c.GuardChains = payload
		return guarded{plan: plan}, nil
	}
	undo, err := plan.Undo(c.Family)
	if err != nil {
		return guarded{}, err
	}
	return guarded{plan: plan,
		pre: func(ctx context.Context) error {
			return r.runGuardRestore(ctx, mode, c.Family, cmd.Wait, payload, "creating "+describe(plan)+" before the command")
		},
		undo: func(ctx context.Context) error {
			return r.runGuardRestore(ctx, mode, c.Family, cmd.Wait, undo, "removing "+describe(plan)+" after the command failed")
		},
	}, nil
}

// runGuardRestore applies a payload of the guard's own with a --noflush
// restore by the real binary of mode, its output kept from the caller (it
// is reported in the error and the log instead). The command's -w is passed
// on as given (a bare -w stays bare: wait without limit), unless that
// restore has no -w (iptables-restore before 1.6.2, as in the kube-proxy
// 1.13 image).
func (r *Router) runGuardRestore(ctx context.Context, mode backend.Mode, fam syntax.Family, wait syntax.Wait, payload *syntax.Payload, what string) error {
	var text bytes.Buffer
	if err := payload.Render(&text); err != nil {
		return err
	}
	restore := &backend.Call{Tool: backend.Restore, Family: fam, Args: []string{"--noflush"},
		Stdin: &text, Stdout: io.Discard, Payload: payload}
	be, err := r.FindExec(mode, restore)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if wait.Given && takesWait(be) {
		restore.Args = append(restore.Args, waitArgs(wait)...)
	}
	var stderr bytes.Buffer
	restore.Stderr = &stderr
	if err := be.Run(ctx, restore); err != nil {
		return fmt.Errorf("%s: %w: %s", what, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return nil
}

// waitArgs are the -w words for a restore that waits as the command was
// told to.
func waitArgs(w syntax.Wait) []string {
	if w.Bare {
		return []string{"-w"}
	}
	return []string{"-w", fmt.Sprint(w.Seconds)}
}

// WaitTaker is a real restore binary that can tell whether it accepts -w
// (iptables-restore learned it in 1.6.2); one that cannot tell is assumed
// to.
type WaitTaker interface {
	TakesWait() bool
}

func takesWait(be backend.Backend) bool {
	if p, ok := be.(WaitTaker); ok {
		return p.TakesWait()
	}
	return true
}

func describe(p guard.Plan) string {
	var b bytes.Buffer
	for i, c := range p.Creations {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.Table + "/" + c.Chain)
	}
	return b.String()
}

// logPlan records what the guard created (after the call succeeded) or
// skipped.
func (r *Router) logPlan(mode backend.Mode, c *backend.Call, p guard.Plan) {
	backendName := "nf_tables"
	if mode == backend.Legacy {
		backendName = "legacy"
	}
	for _, cr := range p.Creations {
		r.Log.Log("guard-created",
			calllog.F("name", c.Name()),
			calllog.F("backend", backendName),
			calllog.F("table", cr.Table),
			calllog.F("chain", cr.Chain),
			calllog.F("known", cr.Known),
			calllog.F("detail", fmt.Sprintf("created %s in %s %s because %s", cr.Chain, backendName, cr.Table, cr.Why())))
	}
	for _, s := range p.Skipped {
		r.Log.Log("guard-skipped", calllog.F("name", c.Name()), calllog.F("table", s.Table), calllog.F("chain", s.Chain),
			calllog.F("line", s.Line), calllog.F("reason", s.Reason))
	}
}

// mayJump is a cheap look at a single command's words: false when none of
// them can be -j/--jump or -g/--goto (also inside bundled short options such
// as -vj), so most commands (-N, -S, -L, -X, ...) skip parsing. It may say
// true for a command that does not jump; parsing then decides.
func mayJump(args []string) bool {
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "--"):
			if strings.HasPrefix(a, "--j") || strings.HasPrefix(a, "--g") {
				return true
			}
		case strings.HasPrefix(a, "-"):
			if strings.ContainsAny(a[1:], "jg") {
				return true
			}
		}
	}
	return false
}
