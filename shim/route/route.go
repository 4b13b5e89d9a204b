// Package route carries one iptables call from the caller to a backend: it
// takes the mode decision, picks the backend that can run the call in that
// mode (a real binary, or the native nf_tables backend), runs it and logs
// what happened.
package route

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/calllog"
	"github.com/iptables-shim/iptables-shim/shim/config"
	"github.com/iptables-shim/iptables-shim/shim/guard"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// Decision is which mode a call goes to and why.
type Decision struct {
	Mode backend.Mode
	// Reason is a stable name of the rule that decided ("override",
	// "marker", "kubelet-chains", "rule-count", "host-hint", "wait",
	// "default").
	Reason string
	// Detail is a sentence for people.
	Detail   string
	Warnings []string
}

// ExecBackend runs a real iptables binary; it can also replace the current
// process with it when nothing has to happen after the call.
type ExecBackend interface {
	backend.Backend
	Exec(c *backend.Call) error
}

// Native is the native nf_tables backend: it answers whether it can carry
// out a call (nil error) and runs it. Run must refuse what Supports would,
// before touching the kernel.
type Native interface {
	backend.Backend
	// Supports reports, without touching the kernel, whether the call is
	// within what the native backend implements. It may consume and buffer
	// the call's stdin; it must leave c ready to be run by either backend.
	Supports(c *backend.Call) error
	// TryRun carries out a restore whose input was read whole unless it
	// declines it (what Supports would refuse, input its parser rejects)
	// before changing anything or printing anything: then it returns
	// false, and the call can go to a real binary. Other calls it runs.
	TryRun(ctx context.Context, c *backend.Call) (bool, error)
}

// Router holds what routing needs. Decide, FindExec, Native, Chains and the
// hooks are supplied by the caller (cmd wires detection's and the backends',
// tests fakes), so routing itself reads no kernel state.
type Router struct {
	Config config.Config
	Log    *calllog.Logger
	// Decide returns the mode for this network namespace.
	Decide func(ctx context.Context) (Decision, error)
	// FindExec locates the real binary for a mode, family and tool; an
	// error means there is none.
	FindExec func(mode backend.Mode, c *backend.Call) (ExecBackend, error)
	// Native is the native nf_tables backend, nil when not built in.
	Native Native
	// Chains is the guard's source of which chains exist in a mode and
	// family (cmd wires detect.Chains); without it the guard cannot look,
	// and guarded calls run unguarded, as when a lookup fails.
	Chains func(mode backend.Mode, fam syntax.Family) guard.Chains
	// Created, when set, is told about every chain the guard created, after
	// the call that created it succeeded (detection keeps them out of its
	// rule counts; doctor lists them).
	Created func(mode backend.Mode, fam syntax.Family, c guard.Creation)
	// GuardOff, when set, is told about every call the guard let through
	// unguarded because it could not look up which chains exist (err says
	// why), besides the call log's record: doctor reports them.
	GuardOff func(mode backend.Mode, c *backend.Call, err error)
	// Phases, when set, is marked at the end of each routing step
	// (decide, pick, guard, backend); the call record carries it.
	Phases *calllog.Phases
	// Skew, when set, says why the image's real iptables-nft should not
	// carry out a call on this host ("" when it may): it writes or reads
	// another iptables-nft dialect than the host's (shim/dialect). unsafe
	// is set when one side misreads the other's rules. nft=auto then
	// uses the native backend, in the host's dialect; a call the native
	// backend cannot carry out goes to the image's binary only when the
	// skew is safe, and is refused otherwise.
	Skew func(ex ExecBackend, c *backend.Call) (why string, unsafe bool)
}

// Run carries out the call and returns what the backend returned.
func (r *Router) Run(ctx context.Context, c *backend.Call) error {
	start := time.Now()
	dec, err := r.decide(ctx)
	r.Phases.Mark("decide")
	if err != nil {
		r.Log.Log("call", calllog.F("name", c.Name()), calllog.F("args", calllog.Args(c.Args)), calllog.F("error", err))
		return err
	}
	// stdin is the caller's own standard input: when pick or the guard
	// read it, the backend cannot inherit it any more: a real binary that
	// replaces the shim is handed the bytes read (Exec), one run as a
	// child is fed them, and the native backend reads them from the call.
	stdin := c.Stdin
	be, path, err := r.pick(dec.Mode, c)
	r.Phases.Mark("pick")
	if err != nil {
		r.logCall(c, dec, path, start, err)
		return err
	}
	var g guarded
	if r.Config.Guard {
		if g, err = r.guard(dec.Mode, be, c); err != nil {
			r.logCall(c, dec, path, start, err)
			return err
		}
		r.Phases.Mark("guard")
	}
	if ex, ok := be.(ExecBackend); ok && !r.Log.Enabled() && g.plan.Empty() && (c.Stdin == stdin || inputKept(c)) {
		// Nothing to do after the backend: become it, so signals, stdin and
		// the exit status are the real binary's own. Input read by pick or
		// the guard (and not rewritten: the plan is empty) goes with it;
		// when it cannot, the backend runs as a child below.
		err := ex.Exec(c)
		var notPlaced *backend.InputNotPlaced
		if !errors.As(err, &notPlaced) {
			return err
		}
	}
	// made: the guard's chains that exist now. A single command's commit
	// with it or not at all (guardCommand); a restore's go or stay with
	// their table's COMMIT, as the restore's own lines do.
	var made []guard.Creation
	if g.run != nil {
		var ok bool
		if ok, err = g.run(ctx); ok {
			made = g.plan.Creations
		}
	} else {
		err = be.Run(ctx, c)
		if nf, ok := be.(*nativeFirst); ok && nf.declined != "" {
			path = nf.declined
		}
	}
	r.Phases.Mark("backend")
	if g.finish != nil {
		if ferr := g.finish(); err == nil {
			err = ferr
		}
	}
	if g.run == nil {
		switch {
		case err == nil:
			made = g.plan.Creations
		case g.committed != nil:
			made = g.committed()
		}
	}
	r.logCall(c, dec, path, start, err)
	if len(made) > 0 {
		r.logPlan(dec.Mode, c, guard.Plan{Creations: made, Skipped: g.plan.Skipped})
		if r.Created != nil {
			for _, cr := range made {
				r.Created(dec.Mode, c.Family, cr)
			}
		}
	} else if len(g.plan.Skipped) > 0 {
		r.logPlan(dec.Mode, c, guard.Plan{Skipped: g.plan.Skipped})
	}
	return err
}

// tryNativeFirst reports a restore the native backend is tried on first
// (see pick): its arguments parse and its input is standard input, which
// pick reads whole before the try (a restore from a file argument leaves
// standard input alone: it may be a terminal).
func tryNativeFirst(c *backend.Call) bool {
	if c.Tool != backend.Restore {
		return false
	}
	f, err := syntax.ParseRestoreArgs(c.Args)
	return err == nil && !f.Version && !f.Help && f.File == ""
}

// nativeFirst is a restore tried on the native backend first and given to
// the real binary ex when the native backend declines it (see
// Native.TryRun): what pick's check (parses, Supports) decides for other
// calls, decided by the native backend's own planning, which reads the
// payload once.
type nativeFirst struct {
	r  *Router
	ex ExecBackend
	// declined, after Run, describes where a declined call went (for the
	// call log); "" when the native backend carried it out.
	declined string
}

func (n *nativeFirst) Describe() string {
	return n.r.Native.Describe() + " (" + n.ex.Describe() + " if it declines)"
}

// Run tries the native backend, and on its decline gives the call to the
// real binary, as pick gives a call the native backend cannot carry out:
// when the image's binary would misread the host's rules (an unsafe
// dialect skew, see Router.Skew) the native backend runs it instead, and
// refuses it in iptables' words.
func (n *nativeFirst) Run(ctx context.Context, c *backend.Call) error {
	ran, err := n.r.Native.TryRun(ctx, c)
	if ran {
		return err
	}
	if n.r.Config.NFT == config.NFTAuto && n.r.Skew != nil {
		if why, unsafe := n.r.Skew(n.ex, c); why != "" {
			if unsafe {
				n.declined = n.r.Native.Describe() + " (declined; refusing: " + why + ")"
				return n.r.Native.Run(ctx, c)
			}
			n.declined = n.ex.Describe() + " (native declined; " + why + ")"
			return n.ex.Run(ctx, c)
		}
	}
	n.declined = n.ex.Describe() + " (native declined)"
	return n.ex.Run(ctx, c)
}

// inputKept reports whether the call's standard input was read (and
// kept) by the router's checks.
func inputKept(c *backend.Call) bool {
	_, kept := c.KeptInput()
	return kept
}

func (r *Router) logCall(c *backend.Call, dec Decision, path string, start time.Time, err error) {
	if !r.Log.Enabled() {
		return
	}
	r.Phases.Mark("finish")
	fields := []calllog.Field{
		calllog.F("name", c.Name()),
		calllog.F("args", calllog.Args(c.Args)),
		calllog.F("mode", dec.Mode),
		calllog.F("reason", dec.Reason),
		calllog.F("detail", dec.Detail),
		calllog.F("backend", path),
		calllog.F("exit", int(ipterr.ClassOf(err))),
		calllog.F("duration", time.Since(start).Round(time.Microsecond)),
	}
	if r.Phases != nil {
		// inproc is from main's start to here: the wall time outside it is
		// process start-up (exec, Go runtime, package init) and exit.
		fields = append(fields, calllog.F("phases", r.Phases.String()), calllog.F("inproc", r.Phases.Total().Round(time.Microsecond)))
	}
	if err != nil {
		var e *ipterr.Error
		if !errors.As(err, &e) || !e.Printed {
			fields = append(fields, calllog.F("error", err))
		}
	}
	for _, w := range dec.Warnings {
		fields = append(fields, calllog.F("warning", w))
	}
	r.Log.Log("call", fields...)
}

func (r *Router) decide(ctx context.Context) (Decision, error) {
	switch r.Config.Mode {
	case config.ModeLegacy, config.ModeNFT:
		return Decision{Mode: backend.Mode(r.Config.Mode), Reason: "override", Detail: "mode set by " + r.Config.ModeSource}, nil
	}
	if r.Decide == nil {
		return Decision{Mode: backend.Mode(r.Config.DefaultMode), Reason: "default", Detail: "no detector built in"}, nil
	}
	return r.Decide(ctx)
}

// pick chooses the backend for a mode. Legacy calls always need a real
// binary. nf_tables calls go to the native backend whenever it can carry
// them out (nft=auto and nft=native): it writes the host's own iptables-nft
// dialect, and no second program starts. A call it cannot carry out goes to
// the image's real iptables-nft when there is one (with nft=auto, only
// when that binary's dialect is safe on this host) and is refused when
// there is not; nft=exec always uses the binary. With nft=auto, --version
// and -h go to the image's binary when it has one, so they print what the
// image's iptables prints. The returned string names the path taken, for
// the log.
func (r *Router) pick(mode backend.Mode, c *backend.Call) (backend.Backend, string, error) {
	ex, exErr := r.FindExec(mode, c)
	if mode == backend.Legacy {
		if exErr != nil {
			return nil, "none", exErr
		}
		return ex, ex.Describe(), nil
	}
	if r.Config.NFT == config.NFTExec || r.Native == nil {
		if exErr != nil {
			if r.Native == nil {
				return nil, "none", exErr
			}
			return nil, "none", fmt.Errorf("%w (the native backend is switched off by nft=exec)", exErr)
		}
		return ex, ex.Describe(), nil
	}
	if exErr != nil {
		// Nothing to fall back to: the native backend itself refuses what it
		// cannot encode, before it touches the kernel, so asking first would
		// only encode the call twice.
		return r.Native, r.Native.Describe(), nil
	}
	auto := r.Config.NFT == config.NFTAuto
	if auto && informational(c) {
		return ex, ex.Describe(), nil
	}
	if tryNativeFirst(c) {
		// A restore is not checked here: the native backend plans the
		// whole payload before it commits anything, and declines what it
		// cannot do (TryRun), which the real binary then takes over.
		// Checking first would parse and encode the payload twice.
		if _, err := c.ReadInput(); err != nil {
			return nil, "none", ipterr.Wrap(ipterr.Other, err, "reading standard input: "+err.Error())
		}
		nf := &nativeFirst{r: r, ex: ex}
		desc := nf.Describe()
		if auto && r.Skew != nil && r.Log.Enabled() {
			// For the log only, as below.
			if why, _ := r.Skew(ex, c); why != "" {
				desc += " (" + why + ")"
			}
		}
		return nf, desc, nil
	}
	var cannot string
	if err := parses(c); err != nil {
		// The shim's parser is not the authority: what it cannot read
		// goes to the real binary, which accepts it or says why not in
		// its own words.
		cannot = "the shim cannot parse it: " + err.Error()
	} else if err := r.Native.Supports(c); err != nil {
		cannot = "native cannot: " + err.Error()
	}
	if cannot == "" {
		desc := r.Native.Describe()
		if auto && r.Skew != nil && r.Log.Enabled() {
			// For the log only: the check reads the image binary's
			// version and the host's dialect, work a call need not do
			// when the native backend carries it out anyway.
			if why, _ := r.Skew(ex, c); why != "" {
				desc += " (" + why + ")"
			}
		}
		return r.Native, desc, nil
	}
	if auto && r.Skew != nil {
		if why, unsafe := r.Skew(ex, c); why != "" {
			if unsafe {
				// The native backend refuses it before touching the
				// kernel; the image's binary would corrupt it.
				return r.Native, r.Native.Describe() + " (refusing: " + why + ")", nil
			}
			return ex, ex.Describe() + " (" + why + "; " + cannot + ")", nil
		}
	}
	return ex, ex.Describe() + " (" + cannot + ")", nil
}

// informational reports --version and -h, of any of the three programs.
func informational(c *backend.Call) bool {
	switch c.Tool {
	case backend.Iptables:
		cmd, err := c.Command()
		return err == nil && (cmd.Op == syntax.OpVersion || cmd.Op == syntax.OpHelp)
	case backend.Restore:
		f, err := syntax.ParseRestoreArgs(c.Args)
		return err == nil && (f.Version || f.Help)
	case backend.Save:
		f, err := syntax.ParseSaveArgs(c.Args)
		return err == nil && (f.Version || f.Help)
	}
	return false
}

// parses reports whether the shim's own parser reads the call: its
// arguments and, for a restore from standard input, the payload (read and
// parsed once, kept in the call for whichever backend runs it).
func parses(c *backend.Call) error {
	switch c.Tool {
	case backend.Iptables:
		_, err := c.Command()
		return err
	case backend.Save:
		_, err := syntax.ParseSaveArgs(c.Args)
		return err
	case backend.Restore:
		f, err := syntax.ParseRestoreArgs(c.Args)
		if err != nil || f.File != "" || f.Version || f.Help {
			return err
		}
		_, err = c.ReadPayload()
		return err
	}
	return nil
}
