// Package xtlock takes the xtables lock the way iptables-legacy 1.8.9 does,
// for calls that must queue up with every legacy iptables on the node.
//
// Observed behaviour of iptables-legacy 1.8.9 (strace), which this mirrors:
//   - the lock is flock(LOCK_EX) on /run/xtables.lock (XTABLES_LOCKFILE
//     overrides), created 0600;
//   - iptables and iptables-restore both take it, with or without -w:
//     without -w, or with a bare -w, they block in flock until it is free;
//     with -w N they give up after N seconds with exit 4 and "Can't lock
//     PATH: Resource temporarily unavailable" followed by "Another app is
//     currently holding the xtables lock. Stopped waiting after Ns.".
//     (kube-proxy holds the lock itself around iptables-restore only with
//     restores too old to take it, before iptables 1.6.2.)
//
// iptables-nft never takes the lock, so neither does the native nf_tables
// backend: nf_tables' generation check does the lock's job there.
package xtlock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// DefaultPath is the lock file iptables uses.
const DefaultPath = "/run/xtables.lock"

// Path is the lock file: XTABLES_LOCKFILE when set, else DefaultPath.
func Path() string {
	if p := os.Getenv("XTABLES_LOCKFILE"); p != "" {
		return p
	}
	return DefaultPath
}

// poll is how often a held lock is tried again; iptables sleeps in
// wait-interval steps, which 1.8.9 ignores ("deprecated") in favour of
// waiting in the kernel. A short poll keeps the wait close to that.
const poll = 10 * time.Millisecond

// Acquire takes the lock for a call with wait settings w and returns the
// function that releases it. Without -w, or with -w and no number, it waits
// until the lock is free (or ctx ends); with -w N it gives up after N
// seconds.
func Acquire(ctx context.Context, w syntax.Wait) (release func(), err error) {
	path := Path()
	fd, err := unix.Open(path, unix.O_CREAT|unix.O_RDONLY|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, ipterr.Wrap(ipterr.Resource, err, fmt.Sprintf("Fatal: can't open lock file %s: %s", path, errText(err)))
	}
	release = func() { unix.Close(fd) } // closing drops the flock
	var deadline time.Time
	if w.Given && w.Seconds > 0 {
		deadline = time.Now().Add(time.Duration(w.Seconds) * time.Second)
	}
	for {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return release, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			release()
			return nil, ipterr.Wrap(ipterr.Resource, err, fmt.Sprintf("Can't lock %s: %s", path, errText(err)))
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			release()
			return nil, ipterr.Wrap(ipterr.Resource, err, fmt.Sprintf(
				"Can't lock %s: %s\nAnother app is currently holding the xtables lock. Stopped waiting after %ds.",
				path, errText(unix.EWOULDBLOCK), w.Seconds))
		}
		select {
		case <-ctx.Done():
			release()
			return nil, ipterr.Wrap(ipterr.Resource, ctx.Err(), "Another app is currently holding the xtables lock.")
		case <-time.After(poll):
		}
	}
}

// errText is strerror's wording for the errors met here.
func errText(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		switch errno {
		case unix.EWOULDBLOCK:
			return "Resource temporarily unavailable"
		}
		s := errno.Error()
		if s != "" {
			return string(s[0]-'a'+'A') + s[1:]
		}
	}
	return err.Error()
}
