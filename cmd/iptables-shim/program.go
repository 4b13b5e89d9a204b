package main

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/iptables-shim/iptables-shim/detect"
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/calllog"
	"github.com/iptables-shim/iptables-shim/shim/config"
	"github.com/iptables-shim/iptables-shim/shim/execbackend"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/route"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// runProgram is the iptables mode: one call of iptables, iptables-save or
// iptables-restore (v4 or v6), routed to the host's backend. Nothing of the
// shim's own reaches stdout or stderr except errors iptables itself would
// print; the log gets the rest.
func runProgram(p program, argv0 string, args []string, cfg config.Config, stdin io.Reader, stdout, stderr io.Writer) int {
	phases := calllog.NewPhases(startOrNow())
	phases.Mark("config")
	if err := execbackend.CheckRecursion(os.LookupEnv); err != nil {
		return ipterr.Report(stderr, err)
	}
	log := calllog.Open(cfg.Log)
	defer log.Close()
	phases.Mark("log-open")
	for _, w := range cfg.Warnings {
		log.Log("config-warning", calllog.F("warning", w))
	}
	dialects := detect.NewDialectStore(cfg.CacheDir)
	r := &route.Router{
		Config:   cfg,
		Log:      log,
		FindExec: findExec(cfg),
		Decide:   decider(cfg, phases),
		Native:   nativeBackend(cfg, phases, dialects),
		Chains:   kernelChains,
		Created:  recordCreated(cfg),
		GuardOff: recordGuardOff(cfg),
		Phases:   phases,
	}
	r.Skew = skewCheck(r.Native, dialects)
	call := &backend.Call{Tool: p.tool, Family: p.family, Argv0: argv0, Args: args, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	err := r.Run(context.Background(), call)
	// A backend killed by a signal: die by the same signal, as the caller
	// would have seen without the shim.
	execbackend.DieLikeBackend(err)
	// A refusal of the shim's own (the native backend's) is shaped as
	// iptables-nft prints it, with argv[0] as the caller gave it; a real
	// binary's error was printed by it.
	return syntax.Report(stderr, call.ProgName(), argv0, call.Version, err)
}

// findExec locates the real binary of a mode for a call, in backend-dirs.
func findExec(cfg config.Config) func(mode backend.Mode, c *backend.Call) (route.ExecBackend, error) {
	return func(mode backend.Mode, c *backend.Call) (route.ExecBackend, error) {
		l, err := execbackend.Find(cfg.BackendDirs, mode, c)
		if err != nil {
			return nil, err // not a nil *Located in an interface
		}
		return l, nil
	}
}

// startOrNow is when main began, or now when main did not run (tests call
// dispatch directly).
func startOrNow() time.Time {
	if mainStart.IsZero() {
		return time.Now()
	}
	return mainStart
}
