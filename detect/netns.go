package detect

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// NetNS identifies the calling thread's network namespace for the decision
// cache and the per-namespace records. The kernel reuses a dead namespace's
// inode for a new one, so the inode alone would hand the new namespace the
// dead one's decision and created chains; the key is the namespace cookie
// instead (SO_NETNS_COOKIE, Linux 5.14+), a 64-bit counter never reused
// while the machine is up, with the boot id alongside for cache directories
// that outlive a reboot. On kernels without cookies only the initial
// namespace, which never dies, gets a key.
type NetNS struct {
	// Inode is the namespace's inode (/proc/thread-self/ns/net), kept in
	// each record so sweeps can tell whether the namespace still exists.
	Inode uint64 `json:"netns"`
	// Cookie is the namespace cookie; 0 when the kernel has none.
	Cookie uint64 `json:"cookie,omitempty"`
	// Boot is the kernel's boot id when the record was written (filled in
	// by writers; CurrentNetNS leaves it empty, see Same).
	Boot string `json:"boot"`
	// Initial is set, on kernels without cookies, for the initial network
	// namespace (the one the host's PID 1 is in).
	Initial bool `json:"initial,omitempty"`
}

// ErrNoNetNSIdentity is returned when the calling namespace has no identity
// that is never reused: a kernel without SO_NETNS_COOKIE, outside the
// initial namespace. Nothing is cached or recorded for it.
var ErrNoNetNSIdentity = errors.New("this network namespace has no identity the kernel never reuses " +
	"(no SO_NETNS_COOKIE before Linux 5.14, and not the initial namespace): nothing is cached or recorded for it")

// Key is the name records of this namespace are filed under: "c<cookie>",
// or "init" for the initial namespace on kernels without cookies.
func (n NetNS) Key() string {
	if n.Cookie != 0 {
		return fmt.Sprintf("c%d", n.Cookie)
	}
	if n.Initial {
		return "init"
	}
	return ""
}

// Same reports whether a stored identity is this namespace's. The boot is
// not compared here (reading the boot id costs more than the rest of a warm
// call): readRecord rejects files older than the boot instead.
func (n NetNS) Same(stored NetNS) bool {
	return n.Key() != "" && n.Inode == stored.Inode && n.Cookie == stored.Cookie && n.Initial == stored.Initial
}

// bootID is the kernel's boot id, read once per process (only writers and
// sweeps need it).
var bootID = sync.OnceValue(func() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return string(bytes.TrimSpace(b))
})

// bootTime is when the machine booted, by the wall clock.
func bootTime() time.Time {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts) != nil {
		return time.Time{}
	}
	return time.Now().Add(-time.Duration(ts.Nano()))
}

// netnsCookie reads the cookie of the calling thread's network namespace
// through a socket it opens there. Tests replace it to play an old kernel.
var netnsCookie = func() (uint64, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	return unix.GetsockoptUint64(fd, unix.SOL_SOCKET, unix.SO_NETNS_COOKIE)
}

// CurrentNetNS identifies the calling thread's network namespace. Per
// thread, because a thread may have entered another namespace. The error is
// ErrNoNetNSIdentity (wrapped) when the namespace has no safe key.
func CurrentNetNS() (NetNS, error) {
	var n NetNS
	var st unix.Stat_t
	err := unix.Stat("/proc/thread-self/ns/net", &st)
	if err != nil {
		err = unix.Stat("/proc/self/ns/net", &st)
	}
	if err != nil {
		return n, fmt.Errorf("network namespace inode: %w", err)
	}
	n.Inode = st.Ino
	if n.Cookie, err = netnsCookie(); err == nil && n.Cookie != 0 {
		return n, nil
	}
	n.Cookie = 0
	n.Initial = isInitialNetNS(n.Inode)
	if !n.Initial {
		return n, ErrNoNetNSIdentity
	}
	return n, nil
}

// isInitialNetNS reports whether inode is the initial network namespace:
// the one PID 1 of the initial PID namespace (the host's init) is in. When
// that cannot be seen (no permission), the answer is no.
func isInitialNetNS(inode uint64) bool {
	if inode == initialNetNSInode {
		return true
	}
	pidNS, err := nsInode("/proc/self/ns/pid")
	if err != nil || pidNS != initialPIDNSInode {
		return false
	}
	initNet, err := nsInode("/proc/1/ns/net")
	return err == nil && initNet == inode
}
