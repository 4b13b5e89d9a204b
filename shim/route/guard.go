package route

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/calllog"
	"github.com/iptables-shim/iptables-shim/shim/config"
	"github.com/iptables-shim/iptables-shim/shim/guard"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// guarded is a call prepared by the guard: what it creates, how the call
// runs with it, and what must happen after the backend ran.
type guarded struct {
	plan guard.Plan
	// run, when set, carries out the call in place of the backend's Run
	// (a single command with the guard's chains); made reports whether
	// the chains were committed.
	run func(ctx context.Context) (made bool, err error)
	// committed, for a restore that failed, returns the planned chains
	// whose table committed before the failure.
	committed func() []guard.Creation
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

// chainsFor returns what the guard asks about existing chains (Router.Chains).
func (r *Router) chainsFor(mode backend.Mode, fam syntax.Family) guard.Chains {
	if r.Chains != nil {
		return r.Chains(mode, fam)
	}
	return noChains{}
}

// noChains is the guard's source when the router was given none.
type noChains struct{}

func (noChains) Existing(string, []string) (map[string]bool, error) {
	return nil, errors.New("no chain lookup wired for the guard")
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
	if c.Payload == nil && !guard.MayNeedChains(data, flags, c.Family, r.guardSettings()) {
		return guarded{}, nil // nothing the guard may create is jumped to: no parse needed
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
	// Both backends name input lines in their errors, counted in the
	// text they read: the rewritten one.
	fixer := guard.NewLineFixer(c.Stderr, lineMap)
	c.Stderr = fixer
	return guarded{plan: plan, finish: fixer.Close, committed: func() []guard.Creation {
		return plan.CommittedBefore(rewritten, fixer.FirstLine())
	}}, nil
}

// guardCommand prepares a single -A/-I/-R that jumps to a missing catalog
// chain. The chains and the command commit together or not at all, and
// when they cannot commit the guard steps aside: the command runs alone,
// so the caller sees exactly what iptables prints on this host, and nothing
// the guard planned is left behind.
//
//   - native: the chains ride in the command's own netlink batch
//     (backend.Call.GuardChains);
//   - a real binary: one --noflush restore carries the chains and the
//     command as a line of the same table section (one table: one
//     commit). Its output is never the caller's: a real binary words
//     restore errors differently ("line N failed"), so when the restore
//     fails the command runs alone on the real binary, whose own words
//     and exit status the caller gets. A command a restore line cannot
//     carry faithfully (-v prints the rule, -c, options the shim's model
//     does not place) is left to run alone.
func (r *Router) guardCommand(mode backend.Mode, be backend.Backend, c *backend.Call) (guarded, error) {
	if !mayJump(c.Args) {
		return guarded{}, nil
	}
	cmd, err := c.Command()
	if err != nil || cmd.Rule == nil || !guard.IsChainTarget(cmd.Rule.Target, c.Family) {
		return guarded{}, nil
	}
	settings := r.guardSettings()
	if _, known := settings.Catalog.Lookup(cmd.Table, cmd.Rule.Target.Name); !known && !settings.CreateUnknown {
		// A chain the guard may not create (kube-proxy's own KUBE-SERVICES,
		// say) needs no lookup: whether it exists or not, the command goes
		// to the backend as it is. On legacy the lookup is a copy of the
		// whole table.
		return guarded{}, nil
	}
	plan, err := guard.PlanCommand(cmd, settings, r.chainsFor(mode, c.Family))
	r.noteGuardLookup(mode, c, err)
	if err != nil || plan.Empty() {
		return guarded{plan: plan}, nil
	}
	if r.Native != nil && be == backend.Backend(r.Native) {
		payload, err := plan.Payload(c.Family)
		if err != nil {
			return guarded{}, err
		}
		return guarded{plan: plan, run: func(ctx context.Context) (bool, error) {
			return r.runNativeGuarded(ctx, be, c, payload)
		}}, nil
	}
	if cmd.Verbose || cmd.SetCounters || len(cmd.Rule.UnknownExtensions()) > 0 {
		skipped := guard.Plan{}
		for _, cr := range plan.Creations {
			skipped.Skipped = append(skipped.Skipped, guard.Skip{Table: cr.Table, Chain: cr.Chain,
				Reason: "the command cannot travel in a restore with it (-v, -c or options the shim does not model)"})
		}
		return guarded{plan: skipped}, nil
	}
	return guarded{plan: plan, run: func(ctx context.Context) (bool, error) {
		return r.runExecGuarded(ctx, mode, be, c, cmd, plan)
	}}, nil
}

// runNativeGuarded runs c on the native backend with the plan's chains in
// its batch. Its output is held back until it is known to be the caller's:
// when the batch fails, the command runs again alone and the caller sees
// that run's answer, the one iptables gives on this host.
func (r *Router) runNativeGuarded(ctx context.Context, be backend.Backend, c *backend.Call, payload *syntax.Payload) (bool, error) {
	var stdout, stderr bytes.Buffer
	attempt := *c
	attempt.Stdout, attempt.Stderr, attempt.GuardChains = &stdout, &stderr, payload
	err := be.Run(ctx, &attempt)
	if err == nil {
		return true, flushTo(c, &stdout, &stderr)
	}
	r.Log.Log("guard-stepped-aside", calllog.F("name", c.Name()), calllog.F("args", calllog.Args(c.Args)),
		calllog.F("error", fmt.Errorf("%w: %s", err, bytes.TrimSpace(stderr.Bytes()))))
	return false, be.Run(ctx, c)
}

func flushTo(c *backend.Call, stdout, stderr *bytes.Buffer) error {
	if c.Stdout != nil {
		if _, err := c.Stdout.Write(stdout.Bytes()); err != nil {
			return err
		}
	}
	if c.Stderr != nil {
		if _, err := c.Stderr.Write(stderr.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// runExecGuarded commits the plan's chains of the command's table and the
// command in one --noflush restore by the real binary; chains of other
// tables (companions) follow in a restore of their own once the command
// succeeded. When the first restore fails nothing of it was committed, and
// the command runs alone on be for the caller's answer.
func (r *Router) runExecGuarded(ctx context.Context, mode backend.Mode, be backend.Backend, c *backend.Call, cmd *syntax.Command, plan guard.Plan) (bool, error) {
	var own, others strings.Builder
	own.WriteString("*" + cmd.Table + "\n")
	for _, l := range plan.Lines(cmd.Table) {
		own.WriteString(l + "\n")
	}
	own.WriteString(syntax.RestoreLine(cmd) + "\nCOMMIT\n")
	for _, t := range plan.Tables() {
		if t == cmd.Table {
			continue
		}
		others.WriteString("*" + t + "\n" + strings.Join(plan.Lines(t), "\n") + "\nCOMMIT\n")
	}
	if err := r.runGuardRestore(ctx, mode, c.Family, cmd.Wait, own.String(), "the command with "+describe(plan)); err != nil {
		r.Log.Log("guard-stepped-aside", calllog.F("name", c.Name()), calllog.F("args", calllog.Args(c.Args)), calllog.F("error", err))
		return false, be.Run(ctx, c)
	}
	if others.Len() > 0 {
		if err := r.runGuardRestore(ctx, mode, c.Family, cmd.Wait, others.String(), "companions of "+describe(plan)); err != nil {
			r.Log.Log("guard-companions-failed", calllog.F("name", c.Name()), calllog.F("error", err))
		}
	}
	return true, nil
}

// runGuardRestore applies restore text of the guard's own with a --noflush
// restore by the real binary of mode, its output kept from the caller (it
// goes into the error, for the log). The command's -w is passed on as given
// (a bare -w stays bare: wait without limit), unless that restore has no -w
// (iptables-restore before 1.6.2, as in the kube-proxy 1.13 image).
func (r *Router) runGuardRestore(ctx context.Context, mode backend.Mode, fam syntax.Family, wait syntax.Wait, text, what string) error {
	restore := &backend.Call{Tool: backend.Restore, Family: fam, Args: []string{"--noflush"},
		Stdin: strings.NewReader(text), Stdout: io.Discard}
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
