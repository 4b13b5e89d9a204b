package execbackend

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// fakeBackend returns a Backend over the Debian layout whose children act
// as the fake backend in mode, exiting with exit.
func newFakeBackend(t *testing.T, root fakeRoot, mode backend.Mode, fake string, exit int) *Backend {
	t.Helper()
	env := append(os.Environ(), fakeModeEnv+"="+fake, fmt.Sprintf("%s=%d", fakeExitEnv, exit))
	return &Backend{Mode: mode, Locate: root.build(t), Env: env}
}

// deadline keeps a broken test from hanging the suite (it is no timing
// assertion: a healthy run takes milliseconds).
func deadline(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestRunArgvArgsStdinExit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		layout fakeRoot
		mode   backend.Mode
		fam    syntax.Family
		tool   backend.Tool
		argv0  string
	}{
		{"debian", debian189, backend.NFT, syntax.IPv4, backend.Restore, "iptables-restore"},
		{"debian", debian189, backend.Legacy, syntax.IPv6, backend.Save, "ip6tables-save"},
		{"stretch", stretch16, backend.Legacy, syntax.IPv4, backend.Restore, "iptables-restore"},
		{"stretch", stretch16, backend.Legacy, syntax.IPv6, backend.Iptables, "ip6tables"},
	} {
		for _, exit := range []int{0, 1, 2, 4} {
			name := fmt.Sprintf("%s/%s/%s/exit%d", tc.name, tc.argv0, tc.mode, exit)
			t.Run(name, func(t *testing.T) {
				b := newFakeBackend(t, tc.layout, tc.mode, "report", exit)
				args := []string{"-w", "5", "-W", "100000", "-A", "KUBE-X", "-m", "comment", "--comment", "a comment with spaces", "", "-t", "nat"}
				var stdout, stderr bytes.Buffer
				err := b.Run(deadline(t), &backend.Call{
					Tool: tc.tool, Family: tc.fam, Args: args,
					Stdin:  strings.NewReader("*nat\nCOMMIT\n"),
					Stdout: &stdout, Stderr: &stderr,
				})
				want := fmt.Sprintf("argv0=%s\nargs=%q\ndepth=1\nstdin=*nat\nCOMMIT\n", tc.argv0, args)
				if stdout.String() != want {
					t.Errorf("child saw:\n%s\nwant:\n%s", stdout.String(), want)
				}
				if exit == 0 {
					if err != nil {
						t.Errorf("Run = %v, want nil", err)
					}
					return
				}
				var e *ipterr.Error
				if !errors.As(err, &e) || int(e.Class) != exit || !e.Printed {
					t.Errorf("Run = %#v, want ipterr.Exit(%d)", err, exit)
				}
			})
		}
	}
}

// TestRunStreamsStdin feeds stdin one line at a time and waits for each
// echo before writing the next, which deadlocks if stdin were read whole
// before the child starts.
func TestRunStreamsStdin(t *testing.T) {
	b := newFakeBackend(t, debian189, backend.NFT, "echo", 0)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- b.Run(deadline(t), &backend.Call{Tool: backend.Restore, Family: syntax.IPv4, Stdin: inR, Stdout: outW, Stderr: os.Stderr})
		outW.Close()
	}()
	lines := bufio.NewScanner(outR)
	for i := range 3 {
		fmt.Fprintf(inW, "line %d\n", i)
		if !lines.Scan() || lines.Text() != fmt.Sprintf("echo:line %d", i) {
			t.Fatalf("echo %d: got %q (%v)", i, lines.Text(), lines.Err())
		}
	}
	inW.Close()
	for lines.Scan() {
		t.Errorf("unexpected output %q", lines.Text())
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestRunForwardsSignals sends each signal to the test process itself while
// a child runs: Run must catch it and pass it on.
func TestRunForwardsSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			b := newFakeBackend(t, debian189, backend.Legacy, "signal", 0)
			outR, outW := io.Pipe()
			done := make(chan error, 1)
			go func() {
				done <- b.Run(deadline(t), &backend.Call{Tool: backend.Iptables, Family: syntax.IPv4, Stdout: outW, Stderr: os.Stderr})
				outW.Close()
			}()
			lines := bufio.NewScanner(outR)
			if !lines.Scan() || lines.Text() != "ready" {
				t.Fatalf("child did not start: %q", lines.Text())
			}
			if err := syscall.Kill(os.Getpid(), sig); err != nil {
				t.Fatal(err)
			}
			if !lines.Scan() || lines.Text() != "got "+sig.String() {
				t.Errorf("child reported %q, want %q", lines.Text(), "got "+sig.String())
			}
			for lines.Scan() {
			}
			if err := <-done; ipterr.ClassOf(err) != 7 {
				t.Errorf("Run = %v, want exit 7", err)
			}
		})
	}
}

func TestRunCancelTerminatesChild(t *testing.T) {
	b := newFakeBackend(t, debian189, backend.NFT, "signal", 0)
	ctx, cancel := context.WithCancel(deadline(t))
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- b.Run(ctx, &backend.Call{Tool: backend.Iptables, Family: syntax.IPv6, Stdout: outW, Stderr: os.Stderr})
		outW.Close()
	}()
	lines := bufio.NewScanner(outR)
	if !lines.Scan() || lines.Text() != "ready" {
		t.Fatalf("child did not start: %q", lines.Text())
	}
	cancel()
	if !lines.Scan() || lines.Text() != "got terminated" {
		t.Errorf("child reported %q", lines.Text())
	}
	for lines.Scan() {
	}
	if err := <-done; ipterr.ClassOf(err) != 7 {
		t.Errorf("Run = %v, want exit 7", err)
	}
}

func TestRunKilledChild(t *testing.T) {
	b := newFakeBackend(t, debian189, backend.NFT, "kill", 0)
	err := b.Run(deadline(t), &backend.Call{Tool: backend.Save, Family: syntax.IPv4, Stdout: io.Discard, Stderr: io.Discard})
	if c := ipterr.ClassOf(err); c != 128+9 {
		t.Errorf("Run = %v, want exit 137", err)
	}
}

// TestDieLikeBackend runs a shim-like child whose backend is killed by
// SIGKILL: the child must end killed by SIGKILL too, not exit 137.
func TestDieLikeBackend(t *testing.T) {
	opts := debian189.build(t)
	cmd := exec.Command(testExe(t))
	cmd.Env = append(os.Environ(), fakeModeEnv+"=reraise", fakeRootEnv+"="+opts.Root)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child: %v: %s", err, out)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("child ended with %v, want killed by SIGKILL: %s", err, out)
	}
	DieLikeBackend(ipterr.Exit(1)) // not a signal: returns at once
}

func TestRunMissingBackend(t *testing.T) {
	b := &Backend{Mode: backend.NFT, Locate: stretch16.build(t)}
	err := b.Run(deadline(t), &backend.Call{Tool: backend.Save, Family: syntax.IPv4, Stdout: io.Discard, Stderr: io.Discard})
	var e *ipterr.Error
	if !errors.As(err, &e) || e.Class != ipterr.Other || e.Printed || !strings.Contains(e.Msg, "no nft backend") {
		t.Errorf("Run = %#v", err)
	}
	if d := b.Describe(); d != "exec nft (no binary found)" {
		t.Errorf("Describe = %q", d)
	}
}

func TestDescribe(t *testing.T) {
	b := &Backend{Mode: backend.Legacy, Locate: debian189.build(t)}
	want := "exec legacy " + b.Locate.Root + "/usr/sbin/xtables-legacy-multi"
	if d := b.Describe(); d != want {
		t.Errorf("Describe = %q, want %q", d, want)
	}
}

func TestCheckRecursion(t *testing.T) {
	env := map[string]string{}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	if err := CheckRecursion(lookup); err != nil {
		t.Fatalf("no marker: %v", err)
	}
	env[DepthEnv] = ""
	if err := CheckRecursion(lookup); err != nil {
		t.Fatalf("empty marker: %v", err)
	}
	env[DepthEnv] = "1"
	if err := CheckRecursion(lookup); !ipterr.Is(err, ipterr.Other) {
		t.Fatalf("marker set: got %v, want class 1", err)
	}
}

// TestRecursionRefusedEndToEnd installs a copy of "the shim" (another inode,
// so the identity check cannot see it) as the nft backend. The copy, started
// by Run with the marker set, must refuse instead of running a backend.
func TestRecursionRefusedEndToEnd(t *testing.T) {
	b := newFakeBackend(t, fakeRoot{"/usr/sbin/xtables-nft-multi": "copy"}, backend.NFT, "shim", 0)
	b.Env = append(b.Env, DepthEnv+"=stale") // replaced, not duplicated
	var stdout, stderr bytes.Buffer
	err := b.Run(deadline(t), &backend.Call{Tool: backend.Iptables, Family: syntax.IPv4, Stdout: &stdout, Stderr: &stderr})
	if ipterr.ClassOf(err) != ipterr.Other || !strings.Contains(stderr.String(), "refusing to run") ||
		!strings.Contains(stderr.String(), DepthEnv+"=1") || stdout.Len() != 0 {
		t.Errorf("Run = %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
}

func TestChildEnv(t *testing.T) {
	got := childEnv([]string{"A=1", DepthEnv + "=3", DepthEnv + "X=keep", "B=2"})
	want := []string{"A=1", DepthEnv + "X=keep", "B=2", DepthEnv + "=1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("childEnv = %v, want %v", got, want)
	}
}

// TestExec runs a child of the test binary that calls Exec: the fake
// backend must then run in its place with argv[0], arguments, the marker
// and its own exit status.
func TestExec(t *testing.T) {
	opts := debian189.build(t)
	cmd := exec.Command(testExe(t), "-t", "nat")
	cmd.Env = append(os.Environ(), fakeModeEnv+"=exec", fakeRootEnv+"="+opts.Root, fakeExitEnv+"=3")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("exit: %v, want 3; stderr: %s", err, stderr.String())
	}
	want := fmt.Sprintf("argv0=iptables-save\nargs=%q\ndepth=1\n", []string{"-t", "nat"})
	if string(out) != want {
		t.Errorf("backend saw:\n%s\nwant:\n%s", out, want)
	}
	if err := Exec(Binary{Path: opts.Root + "/nonexistent", Argv0: "x"}, nil, nil); !ipterr.Is(err, ipterr.Other) {
		t.Errorf("Exec of a missing file = %v", err)
	}
}
