package execbackend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// DepthEnv is set in every backend's environment. A shim that starts with it
// already set was run by a shim as its "backend": going on would loop, so
// CheckRecursion refuses.
const DepthEnv = "IPTABLES_SHIM_DEPTH"

// forwardedSignals are passed on to the child: the caller (kube-proxy, a
// shell, a timeout wrapper) means them for the iptables it thinks it runs.
var forwardedSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// CheckRecursion returns an *ipterr.Error of class Other when lookupEnv
// (normally os.LookupEnv) shows the process was started by a shim as its
// backend. cmd calls it first thing, before locating anything.
func CheckRecursion(lookupEnv func(string) (string, bool)) error {
	if v, ok := lookupEnv(DepthEnv); ok && v != "" {
		return ipterr.New(ipterr.Other,
			"iptables-shim: refusing to run: started by iptables-shim as its backend (%s=%s); the backend binary found is another copy of the shim", DepthEnv, v)
	}
	return nil
}

// childEnv is env plus the recursion marker.
func childEnv(env []string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if len(kv) > len(DepthEnv) && kv[:len(DepthEnv)+1] == DepthEnv+"=" {
			continue
		}
		out = append(out, kv)
	}
	return append(out, DepthEnv+"=1")
}

// argv is the full argument vector for bin.
func argv(bin Binary, args []string) []string {
	return append([]string{bin.Argv0}, args...)
}

// Exec replaces the process with bin, passing args untouched and env (plus
// the recursion marker). It returns only when the exec failed. Use it when
// nothing has to happen after the backend ran: the backend then owns stdin,
// stdout, stderr, signals and the exit status outright.
func Exec(bin Binary, args []string, env []string) error {
	err := syscall.Exec(bin.Path, argv(bin, args), childEnv(env))
	return ipterr.Wrap(ipterr.Other, fmt.Errorf("exec %s: %w", bin.Path, err),
		fmt.Sprintf("iptables-shim: cannot run %s: %v", bin.Path, err))
}

// Backend runs calls through the real binary of one mode, as a child
// process. It implements backend.Backend.
type Backend struct {
	// Mode is the backend the real binaries are chosen for.
	Mode backend.Mode
	// Locate says where binaries are looked for.
	Locate LocateOptions
	// Env is the child's environment (the recursion marker is added);
	// nil means the shim's own environment.
	Env []string
}

// New returns a Backend for mode with default options.
func New(mode backend.Mode) *Backend { return &Backend{Mode: mode} }

var _ backend.Backend = (*Backend)(nil)

// Describe names the mode and the multi-call binary iptables resolves to,
// e.g. "exec nft /usr/sbin/xtables-nft-multi".
func (b *Backend) Describe() string {
	bin, err := Locate(b.Locate, b.Mode, syntax.IPv4, backend.Iptables)
	if err != nil {
		return fmt.Sprintf("exec %s (no binary found)", b.Mode)
	}
	return fmt.Sprintf("exec %s %s", b.Mode, bin.Path)
}

// Run locates the binary for c and runs it with c's arguments, streams and
// exit status. A non-zero exit is returned as ipterr.Exit (the child already
// printed its diagnostics); a child killed by a signal gives 128+signal, as a
// shell would report it.
func (b *Backend) Run(ctx context.Context, c *backend.Call) error {
	bin, err := Locate(b.Locate, b.Mode, c.Family, c.Tool)
	if err != nil {
		return err
	}
	return b.RunBinary(ctx, bin, c)
}

// RunBinary runs an already located binary for c (see Run).
func (b *Backend) RunBinary(ctx context.Context, bin Binary, c *backend.Call) error {
	if c.GuardChains != nil {
		// Running the command alone would drop the chains it was
		// promised; the router never asks this of a real binary.
		return ipterr.New(ipterr.Other, "iptables-shim: %s cannot take the guard's chains into a single command's transaction", bin.Path)
	}
	env := b.Env
	if env == nil {
		env = os.Environ()
	}
	// exec.Cmd hands an *os.File straight to the child and copies any other
	// reader in a goroutine, so stdin streams either way and is never held
	// whole in memory.
	cmd := &exec.Cmd{
		Path:   bin.Path,
		Args:   argv(bin, c.Args),
		Env:    childEnv(env),
		Stdin:  c.Stdin,
		Stdout: c.Stdout,
		Stderr: c.Stderr,
	}
	sigs := make(chan os.Signal, len(forwardedSignals))
	signal.Notify(sigs, forwardedSignals...)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return ipterr.Wrap(ipterr.Other, fmt.Errorf("start %s: %w", bin.Path, err),
			fmt.Sprintf("iptables-shim: cannot run %s: %v", bin.Path, err))
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case s := <-sigs:
			_ = cmd.Process.Signal(s) // the child may just have exited; Wait reports it
		case <-ctx.Done():
			// SIGTERM, not SIGKILL: a legacy iptables holding the xtables
			// lock or an nft commit in flight should end cleanly.
			_ = cmd.Process.Signal(syscall.SIGTERM)
			ctx = context.Background()
		case err := <-done:
			return exitError(bin, err)
		}
	}
}

// exitError turns the child's Wait result into the error Run returns.
func exitError(bin Binary, err error) error {
	if err == nil {
		return nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return ipterr.Wrap(ipterr.Other, fmt.Errorf("wait %s: %w", bin.Path, err),
			fmt.Sprintf("iptables-shim: running %s: %v", bin.Path, err))
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		e := ipterr.Exit(128 + int(ws.Signal()))
		e.Err = &Signaled{Signal: ws.Signal()}
		return e
	}
	return ipterr.Exit(ee.ExitCode())
}

// Signaled is the cause inside the error Run returns when the backend was
// killed by a signal (its class is then 128+signal, as a shell reports it).
type Signaled struct {
	Signal syscall.Signal
}

func (s *Signaled) Error() string { return "backend killed by signal: " + s.Signal.String() }

// DieLikeBackend ends the process the way the backend ended when err says
// it was killed by a signal: the signal's default action is restored and
// the signal sent to ourselves, so the caller's wait status shows the same
// death it would have seen without the shim. It returns (doing nothing)
// for any other error, and if the signal does not end the process.
func DieLikeBackend(err error) {
	var s *Signaled
	if !errors.As(err, &s) {
		return
	}
	signal.Reset(s.Signal)
	_ = syscall.Kill(os.Getpid(), s.Signal)
	// The signal is delivered asynchronously to some thread; give it a
	// moment before falling back to the 128+signal exit status.
	time.Sleep(100 * time.Millisecond)
}

// TakesWait reports whether bin, a restore program, accepts -w/--wait:
// iptables-restore learned it in 1.6.2. Every 1.8 binary does; an older
// multi-call binary (xtables-multi, as in kube-proxy images up to 1.16) or
// a file of unknown make is asked for its usage, which names --wait exactly
// when it has it. When asking fails, the answer is no: a restore without
// -w still runs (without waiting for the lock), one given an option it does
// not know fails.
func TakesWait(bin Binary) bool {
	switch bin.Kind {
	case KindNFTMulti, KindLegacyMulti, KindNFTNamed, KindLegacyNamed:
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin.Path)
	cmd.Args = argv(bin, []string{"-h"})
	cmd.Env = childEnv(os.Environ())
	cmd.Stdout, cmd.Stderr = &out, &out
	_ = cmd.Run() // usage may come with any exit status
	return bytes.Contains(out.Bytes(), []byte("--wait"))
}
