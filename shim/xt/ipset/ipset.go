// Package ipset resolves ipset names to the kernel's set indexes and back,
// the way libxt_set does (getsockopt SO_IP_SET on a raw socket): the set
// match's info blob holds the index, never the name.
package ipset

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// Kernel interface constants (linux/netfilter/ipset/ip_set.h).
const (
	soIPSet        = 83
	opGetByName    = 0x6
	opGetByIndex   = 0x7
	opGetFName     = 0x8
	opVersion      = 0x100
	maxNameLen     = 32
	invalidIndex   = 65535
	protocolMin    = 6
	nfprotoUnspec  = 0
	reqHeaderBytes = 8 // op, version
)

// Resolver answers name/index questions for one family in the network
// namespace its socket was opened in.
type Resolver struct {
	fd      int
	family  syntax.Family
	version uint32
}

// Open opens a resolver in the calling thread's network namespace.
// It needs CAP_NET_ADMIN there, as iptables does.
func Open(fam syntax.Family) (*Resolver, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
	if err != nil {
		return nil, fmt.Errorf("ipset: opening raw socket: %w", err)
	}
	r := &Resolver{fd: fd, family: fam}
	req := make([]byte, reqHeaderBytes)
	put32(req, 0, opVersion)
	if err := r.getsockopt(req); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("ipset: asking the kernel's protocol version: %w", err)
	}
	r.version = get32(req, 4)
	if r.version < protocolMin {
		unix.Close(fd)
		return nil, fmt.Errorf("ipset: kernel protocol version %d is too old", r.version)
	}
	return r, nil
}

// OpenIn opens a resolver in the network namespace at nsPath (such as
// /run/netns/NAME). The socket stays in that namespace after the thread
// that made it leaves.
func OpenIn(nsPath string, fam syntax.Family) (*Resolver, error) {
	ns, err := os.Open(nsPath)
	if err != nil {
		return nil, fmt.Errorf("ipset: %w", err)
	}
	defer ns.Close()
	type result struct {
		r   *Resolver
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// The thread is left locked (and so discarded when the goroutine
		// ends) because it is in another namespace.
		runtime.LockOSThread()
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{nil, fmt.Errorf("ipset: setns %s: %w", nsPath, err)}
			return
		}
		r, err := Open(fam)
		ch <- result{r, err}
	}()
	res := <-ch
	return res.r, res.err
}

// Close releases the socket.
func (r *Resolver) Close() error { return unix.Close(r.fd) }

func (r *Resolver) getsockopt(buf []byte) error {
	size := uint32(len(buf))
	_, _, errno := syscall.Syscall6(syscall.SYS_GETSOCKOPT, uintptr(r.fd), unix.SOL_IP, soIPSet,
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&size)), 0)
	if errno != 0 {
		return errno
	}
	return nil
}

func nfproto(f syntax.Family) uint32 {
	if f == syntax.IPv6 {
		return unix.NFPROTO_IPV6
	}
	return unix.NFPROTO_IPV4
}

func familyName(f uint32) string {
	switch f {
	case unix.NFPROTO_IPV4:
		return "IPv4"
	case unix.NFPROTO_IPV6:
		return "IPv6"
	}
	return "unspec"
}

// Index returns the index of the named set, refusing a set of the other
// family with libxt_set's messages.
func (r *Resolver) Index(name string) (uint16, error) {
	if len(name) >= maxNameLen {
		return 0, ipterr.New(ipterr.Parameter, "Setname '%s' is too long, must be max %d characters.", name, maxNameLen-1)
	}
	// struct ip_set_req_get_set_family: op, version, family, name[32].
	req := make([]byte, reqHeaderBytes+4+maxNameLen)
	put32(req, 0, opGetFName)
	put32(req, 4, r.version)
	put32(req, 8, nfproto(r.family))
	copy(req[12:], name)
	err := r.getsockopt(req)
	if errors.Is(err, unix.EBADMSG) {
		// Kernels before GET_FNAME: name only, no family check.
		req = make([]byte, reqHeaderBytes+maxNameLen)
		put32(req, 0, opGetByName)
		put32(req, 4, r.version)
		copy(req[8:], name)
		if err := r.getsockopt(req); err != nil {
			return 0, fmt.Errorf("ipset: looking up set %s: %w", name, err)
		}
		return r.checkIndex(name, get16(req, 8))
	}
	if err != nil {
		return 0, fmt.Errorf("ipset: looking up set %s: %w", name, err)
	}
	idx, err := r.checkIndex(name, get16(req, 12))
	if err != nil {
		return 0, err
	}
	if fam := get32(req, 8); fam != nfproto(r.family) && fam != nfprotoUnspec {
		return 0, ipterr.New(ipterr.Parameter, "The protocol family of set %s is %s, which is not applicable.\n", name, familyName(fam))
	}
	return idx, nil
}

func (r *Resolver) checkIndex(name string, idx uint16) (uint16, error) {
	if idx == invalidIndex {
		return 0, ipterr.New(ipterr.Parameter, "Set %s doesn't exist.\n", name)
	}
	return idx, nil
}

// Name returns the name of the set with the given index.
func (r *Resolver) Name(index uint16) (string, error) {
	req := make([]byte, reqHeaderBytes+maxNameLen)
	put32(req, 0, opGetByIndex)
	put32(req, 4, r.version)
	put16(req, 8, index)
	if err := r.getsockopt(req); err != nil {
		return "", fmt.Errorf("ipset: looking up set index %d: %w", index, err)
	}
	n := req[8:]
	for i, c := range n {
		if c == 0 {
			n = n[:i]
			break
		}
	}
	if len(n) == 0 {
		return "", fmt.Errorf("ipset: no set has index %d", index)
	}
	return string(n), nil
}
