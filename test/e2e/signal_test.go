package e2e

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// ending is how a process ended: killed by a signal or exited with a code.
type ending struct {
	signal syscall.Signal
	code   int
}

// terminateRestore starts prog-restore from dir inside ns reading a pipe
// that stays open, sends it SIGTERM once it had time to start its backend,
// and reports how it ended and whether anything still holds the pipe's read
// end afterwards (a backend left running).
func terminateRestore(t *testing.T, ns *netnstest.NS, dir string, env []string) (ending, bool) {
	t.Helper()
	ip, err := netnstest.LookBinary("ip")
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	c := exec.Command(ip, "netns", "exec", ns.Name, "iptables-restore", "--noflush")
	c.Env = append(append(os.Environ(), env...), "PATH="+dir+":/usr/sbin:/usr/bin:/sbin:/bin")
	c.Stdin, c.Stdout, c.Stderr = r, io.Discard, io.Discard
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if _, err := w.Write([]byte("*filter\n")); err != nil {
		t.Fatal(err)
	}
	// Not a timing assertion: any delay gives a valid case (before the
	// backend starts the signal still has to end everything), this one
	// makes the interesting case (a running backend) the likely one.
	time.Sleep(300 * time.Millisecond)
	if err := c.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = c.Wait()
	var end ending
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			end.signal = ws.Signal()
		} else {
			end.code = ee.ExitCode()
		}
	} else if err != nil {
		t.Fatal(err)
	}
	_, werr := w.Write([]byte("COMMIT\n"))
	return end, !errors.Is(werr, syscall.EPIPE)
}

// TestSignalForwarded terminates an iptables-restore waiting for input,
// through the shim (both ways of running the backend) and directly, and
// checks the shim ends as the real tool does and leaves no backend behind.
func TestSignalForwarded(t *testing.T) {
	requireAll(t)
	shimDir := netnstest.ShimDir(t)
	for _, mode := range modes {
		real := realDir(t, mode)
		for _, how := range []string{"exec", "fork"} {
			t.Run(mode+"/"+how, func(t *testing.T) {
				ns := netnstest.New(t)
				want, _ := terminateRestore(t, ns, real, privateLock(t))
				if want.signal != syscall.SIGTERM {
					t.Fatalf("the real tool ended with %+v, want killed by SIGTERM", want)
				}
				env := append(shimEnv(mode), privateLock(t)...)
				if how == "fork" {
					env = append(env, "IPTABLES_SHIM_LOG="+filepath.Join(t.TempDir(), "calls.log"))
				}
				got, leftover := terminateRestore(t, ns, shimDir, env)
				if leftover {
					t.Errorf("the backend outlived the shim")
				}
				if got != want {
					t.Errorf("shim ended with %+v, the real tool with %+v", got, want)
				}
			})
		}
	}
}
