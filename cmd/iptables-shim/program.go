package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

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
	dialects := newDialectStore(cfg.CacheDir)
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
	return syntax.Report(stderr, progName(call), argv0, "nf_tables", err)
}

// execChoice is a located real binary, ready to run or to exec.
type execChoice struct {
	be  *execbackend.Backend
	bin execbackend.Binary
}

func (e execChoice) Describe() string {
	return fmt.Sprintf("exec %s (argv0 %s)", e.bin.Path, e.bin.Argv0)
}

func (e execChoice) Run(ctx context.Context, c *backend.Call) error {
	return e.be.RunBinary(ctx, e.forCaller(c), c)
}

// TakesWait reports whether the binary, a restore, accepts -w (the guard
// asks before it passes a command's -w on to a restore of its own).
func (e execChoice) TakesWait() bool { return execbackend.TakesWait(e.bin) }

func (e execChoice) Exec(c *backend.Call) error {
	return execbackend.Exec(e.forCaller(c), c.Args, os.Environ())
}

// forCaller passes a multi-call backend the caller's own argv[0] (say
// /usr/sbin/iptables) when it names the same program, so messages that
// print argv[0] read exactly as without the shim.
func (e execChoice) forCaller(c *backend.Call) execbackend.Binary {
	bin := e.bin
	if c.Argv0 != "" && filepath.Base(c.Argv0) == bin.Argv0 {
		bin.Argv0 = c.Argv0
	}
	return bin
}

func findExec(cfg config.Config) func(mode backend.Mode, c *backend.Call) (route.ExecBackend, error) {
	return func(mode backend.Mode, c *backend.Call) (route.ExecBackend, error) {
		be := execbackend.New(mode)
		be.Locate.Dirs = cfg.BackendDirs
		bin, err := execbackend.Locate(be.Locate, mode, c.Family, c.Tool)
		if err != nil {
			return nil, err
		}
		return execChoice{be: be, bin: bin}, nil
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
