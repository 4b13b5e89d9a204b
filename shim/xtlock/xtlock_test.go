package xtlock

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// hold takes the lock at path from this process until the test ends.
func hold(t *testing.T, path string) {
	t.Helper()
	fd, err := unix.Open(path, unix.O_CREAT|unix.O_RDONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
}

func TestFreeLockIsTakenAndReleased(t *testing.T) {
	t.Setenv("XTABLES_LOCKFILE", filepath.Join(t.TempDir(), "xtables.lock"))
	release, err := Acquire(context.Background(), syntax.Wait{})
	if err != nil {
		t.Fatal(err)
	}
	release()
	release, err = Acquire(context.Background(), syntax.Wait{Given: true, Seconds: 1})
	if err != nil {
		t.Fatalf("lock not released: %v", err)
	}
	release()
}

func TestHeldLockTimesOutLikeIptables(t *testing.T) {
	path := filepath.Join(t.TempDir(), "xtables.lock")
	t.Setenv("XTABLES_LOCKFILE", path)
	hold(t, path)
	// flock locks belong to open file descriptions: a second open in the
	// same process contends like another process would.
	_, err := Acquire(context.Background(), syntax.Wait{Given: true, Seconds: 1})
	if !ipterr.Is(err, ipterr.Resource) {
		t.Fatalf("want a resource problem (exit 4), got %v", err)
	}
	want := "Can't lock " + path + ": Resource temporarily unavailable\nAnother app is currently holding the xtables lock. Stopped waiting after 1s."
	if err.Error() != want {
		t.Errorf("message:\n%s\nwant:\n%s", err, want)
	}
}

func TestWaitForeverEndsWithContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "xtables.lock")
	t.Setenv("XTABLES_LOCKFILE", path)
	hold(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := Acquire(ctx, syntax.Wait{}); !ipterr.Is(err, ipterr.Resource) {
		t.Fatalf("want a resource problem when the context ends, got %v", err)
	}
}

// TestSameMessageAsLegacy compares with iptables-legacy holding the same
// lock file (in a private namespace, with its own lock file).
func TestSameMessageAsLegacy(t *testing.T) {
	netnstest.Require(t, "iptables-legacy")
	ns := netnstest.New(t)
	path := filepath.Join(t.TempDir(), "xtables.lock")
	t.Setenv("XTABLES_LOCKFILE", path)
	hold(t, path)
	r := ns.RunWith(netnstest.RunOpts{Env: []string{"XTABLES_LOCKFILE=" + path}}, "iptables-legacy", "-w", "1", "-t", "nat", "-N", "X")
	_, err := Acquire(context.Background(), syntax.Wait{Given: true, Seconds: 1})
	if r.Code != int(ipterr.ClassOf(err)) {
		t.Errorf("exit: legacy %d, ours %d", r.Code, ipterr.ClassOf(err))
	}
	if strings.TrimSpace(r.Stderr) != err.Error() {
		t.Errorf("stderr:\nlegacy: %q\nours:   %q", r.Stderr, err.Error())
	}
}
