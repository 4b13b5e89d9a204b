package native_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// holdLock takes the namespace's xtables lock as another iptables would
// and returns its release.
func holdLock(t *testing.T, ns *netnstest.NS) func() {
	t.Helper()
	f, err := os.OpenFile(ns.LockFile, os.O_CREATE|os.O_RDONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	return func() { f.Close() }
}

// TestXtablesLock checks the lock the way iptables-legacy 1.8.9 takes it:
// -w N gives up after N seconds with its message and exit 4, a command
// without -w waits until the lock is free, a restore takes it only with
// -w.
func TestXtablesLock(t *testing.T) {
	netnstest.Require(t, "xtables-legacy-multi")
	ns := netnstest.New(t)
	shim := tool{ns: ns, dir: netnstest.ShimDir(t), env: shimEnv(t)}
	release := holdLock(t, ns)
	defer func() { release() }()

	legacy := ns.Run("iptables-legacy", "-w", "1", "-S")
	for _, args := range [][]string{{"-w", "1", "-S"}, {"-w", "1", "-A", "INPUT", "-j", "ACCEPT"}} {
		r := shim.run("", "iptables", args...)
		if r.Code != 4 || r.Stderr != legacy.Stderr || legacy.Code != 4 {
			t.Errorf("iptables %v with the lock held:\nshim:   %s\nlegacy: %s", args, r, legacy)
		}
	}
	if r := shim.run("*filter\nCOMMIT\n", "iptables-restore", "-w", "1", "--noflush"); r.Code != 4 || r.Stderr != legacy.Stderr {
		t.Errorf("restore -w 1 with the lock held: %s", r)
	}
	// Without -w a restore does not take the lock (kube-proxy holds it
	// itself around such a restore).
	if r := shim.run("*filter\n-A INPUT -j ACCEPT\nCOMMIT\n", "iptables-restore", "--noflush"); r.Code != 0 {
		t.Errorf("restore without -w with the lock held: %s", r)
	}

	// A single command without -w waits for the lock.
	done := make(chan netnstest.Result, 1)
	go func() { done <- shim.run("", "iptables", "-A", "INPUT", "-j", "DROP") }()
	select {
	case r := <-done:
		t.Fatalf("-A without -w did not wait for the held lock: %s", r)
	case <-time.After(500 * time.Millisecond):
	}
	release()
	release = func() {}
	if r := <-done; r.Code != 0 {
		t.Fatalf("-A after the lock was freed: %s", r)
	}
	out := ns.MustRun("iptables-nft-save", "-t", "filter")
	if !strings.Contains(out, "-A INPUT -j ACCEPT\n-A INPUT -j DROP\n") {
		t.Errorf("rules after the lock test:\n%s", out)
	}
}
