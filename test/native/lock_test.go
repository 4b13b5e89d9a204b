package native_test

import (
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// holdLock takes the namespace's xtables lock as a legacy iptables would
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

// TestNoXtablesLock checks that native calls, like iptables-nft 1.8.9, do
// not take the xtables lock: with a legacy writer holding it, commands and
// restores, with and without -w, go through at once with iptables-nft's
// outcome. (The lock guards x_tables' read-modify-replace of a whole table;
// an nf_tables batch carries its generation instead.) Before, a native
// command queued behind the lock and gave up with exit 4 under -w 1.
func TestNoXtablesLock(t *testing.T) {
	p := newPair(t)
	for _, ns := range []*netnstest.NS{p.ref.ns, p.mine.ns} {
		release := holdLock(t, ns)
		defer release()
	}
	type result struct {
		ref, mine netnstest.Result
	}
	done := make(chan result, 1)
	go func() {
		var r result
		for _, l := range []string{"-w 1 -S", "-w 1 -A INPUT -j ACCEPT", "-A INPUT -j DROP", "-w -N FOO", "-S"} {
			args := words(t, l)
			r.ref, r.mine = p.ref.run("", "iptables", args...), p.mine.run("", "iptables", args...)
			if r.ref != r.mine {
				done <- r
				return
			}
		}
		for _, args := range [][]string{{"-w", "1", "--noflush"}, {"--noflush"}} {
			in := "*filter\n-A FOO -j ACCEPT\nCOMMIT\n"
			r.ref, r.mine = p.ref.run(in, "iptables-restore", args...), p.mine.run(in, "iptables-restore", args...)
			if r.ref != r.mine {
				done <- r
				return
			}
		}
		done <- result{}
	}()
	select {
	case r := <-done:
		if r.ref != r.mine {
			t.Errorf("with the xtables lock held:\nreal iptables-nft: %s\nshim (native):     %s", r.ref, r.mine)
		}
	case <-time.After(60 * time.Second):
		// Not a timing assertion: a call blocked on the lock never
		// returns while the test holds it.
		t.Fatal("a call blocked behind the held xtables lock")
	}
	p.state("calls with the lock held")
}
