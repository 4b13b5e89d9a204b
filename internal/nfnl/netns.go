package nfnl

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// OpenIn opens a connection in the network namespace at nsPath (such as
// /run/netns/NAME) from a process in another one: the socket is created
// on a thread switched into that namespace for the moment, and keeps it.
func OpenIn(nsPath string) (*Conn, error) {
	target, err := os.Open(nsPath)
	if err != nil {
		return nil, err
	}
	defer target.Close()
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer orig.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return nil, os.NewSyscallError("setns", err)
	}
	c, openErr := Open()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread stays locked, so it ends with its goroutine
		// instead of serving others from the wrong namespace.
		if c != nil {
			c.Close()
		}
		return nil, fmt.Errorf("returning to the caller's namespace: %w", os.NewSyscallError("setns", err))
	}
	runtime.UnlockOSThread()
	return c, openErr
}
