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
		return r.guardCommand(mode, c)
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
	r.noteGuardLookup(mode, c, err)
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

func (r *Router) guardCommand(mode backend.Mode, c *backend.Call) (guarded, error) {
	if !mayJump(c.Args) {
		return guarded{}, nil
	}
	cmd, err := syntax.ParseCommand(c.Args, c.Family)
	if err != nil || cmd.Rule == nil || !guard.IsChainTarget(cmd.Rule.Target, c.Family) {
		return guarded{}, nil
	}
	plan, err := guard.PlanCommand(cmd, r.guardSettings(), r.chainsFor(mode, c.Family))
	r.noteGuardLookup(mode, c, err)
	if err != nil || plan.Empty() {
		return guarded{plan: plan}, nil
	}
	payload, err := plan.Payload(c.Family)
	if err != nil {
		return guarded{}, err
	}
	var text bytes.Buffer
	if err := payload.Render(&text); err != nil {
		return guarded{}, err
	}
	args := []string{"--noflush"}
	if cmd.Wait.Given {
		args = append(args, "-w", fmt.Sprint(cmd.Wait.Seconds))
	}
	restore := &backend.Call{Tool: backend.Restore, Family: c.Family, Args: args,
		Stdin: &text, Stdout: io.Discard, Payload: payload}
	pre := func(ctx context.Context) error {
		be, _, err := r.pick(mode, restore)
		if err != nil {
			return err
		}
		var stderr bytes.Buffer
		restore.Stderr = &stderr
		if err := be.Run(ctx, restore); err != nil {
			return fmt.Errorf("creating %s before the command: %w: %s", describe(plan), err, bytes.TrimSpace(stderr.Bytes()))
		}
		return nil
	}
	return guarded{plan: plan, pre: pre}, nil
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
