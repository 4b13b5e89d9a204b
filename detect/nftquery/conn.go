// Package nftquery asks nf_tables about tables, chains and rules over a raw
// netfilter netlink socket. It only reads: nothing here can create a table or
// chain. Requests are small and targeted (one named chain, one table's
// rules, a rule count that stops at a limit), so what detection pays does not
// grow with the ruleset.
package nftquery

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// ErrUnavailable means nf_tables cannot be asked at all here (no
// nfnetlink, no nf_tables module, no permission).
var ErrUnavailable = errors.New("nf_tables unavailable")

// Conn is one netlink socket to the nf_tables subsystem. Not safe for
// concurrent use.
type Conn struct {
	fd  int
	seq uint32
	buf []byte
}

// Dial opens the socket. The context's deadline bounds every later receive
// on it: a kernel that never answers (iptables-nft 1.8.0-1.8.3 era modules
// could hang) becomes a timeout error, not a stuck caller.
func Dial(ctx context.Context) (*Conn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	if err != nil {
		return nil, fmt.Errorf("%w: netlink socket: %w", ErrUnavailable, err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("%w: netlink bind: %w", ErrUnavailable, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		d := time.Until(dl)
		if d <= 0 {
			unix.Close(fd)
			return nil, fmt.Errorf("nf_tables probe: %w", context.DeadlineExceeded)
		}
		tv := unix.NsecToTimeval(d.Nanoseconds())
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("netlink SO_RCVTIMEO: %w", err)
		}
	}
	return &Conn{fd: fd, seq: uint32(time.Now().UnixNano()), buf: make([]byte, 64<<10)}, nil
}

// Close releases the socket.
func (c *Conn) Close() error { return unix.Close(c.fd) }

// nfproto is the nfgenmsg family byte of an iptables family.
func nfproto(f syntax.Family) uint8 {
	if f == syntax.IPv6 {
		return unix.NFPROTO_IPV6
	}
	return unix.NFPROTO_IPV4
}

// FamilyName is the nft family name of an iptables family ("ip", "ip6").
func FamilyName(f syntax.Family) string {
	if f == syntax.IPv6 {
		return "ip6"
	}
	return "ip"
}

// attr is one netlink attribute to send.
type attr struct {
	typ  uint16
	data []byte
}

func strAttr(typ uint16, s string) attr { return attr{typ, append([]byte(s), 0)} }

// request sends one nf_tables request and calls fn for every object the
// kernel answers with, until fn returns false, the dump ends, or an error.
// Stopping early closes nothing: the caller drops the Conn when it stopped a
// dump midway, because the rest of the dump would still arrive on it.
func (c *Conn) request(f syntax.Family, msgType uint16, dump bool, attrs []attr, fn func(data []byte) bool) error {
	c.seq++
	flags := uint16(unix.NLM_F_REQUEST)
	if dump {
		flags |= unix.NLM_F_DUMP
	}
	body := []byte{nfproto(f), unix.NFNETLINK_V0, 0, 0}
	for _, a := range attrs {
		var h [4]byte
		binary.NativeEndian.PutUint16(h[0:], uint16(4+len(a.data)))
		binary.NativeEndian.PutUint16(h[2:], a.typ)
		body = append(body, h[:]...)
		body = append(body, a.data...)
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
	}
	msg := make([]byte, unix.NLMSG_HDRLEN, unix.NLMSG_HDRLEN+len(body))
	binary.NativeEndian.PutUint32(msg[0:], uint32(unix.NLMSG_HDRLEN+len(body)))
	binary.NativeEndian.PutUint16(msg[4:], uint16(unix.NFNL_SUBSYS_NFTABLES)<<8|msgType)
	binary.NativeEndian.PutUint16(msg[6:], flags)
	binary.NativeEndian.PutUint32(msg[8:], c.seq)
	msg = append(msg, body...)
	if err := unix.Sendto(c.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("netlink send: %w", err)
	}
	for {
		n, _, err := unix.Recvfrom(c.fd, c.buf, 0)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) {
				return fmt.Errorf("nf_tables probe: no answer: %w", context.DeadlineExceeded)
			}
			return fmt.Errorf("netlink receive: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(c.buf[:n])
		if err != nil {
			return fmt.Errorf("netlink parse: %w", err)
		}
		for _, m := range msgs {
			if m.Header.Seq != c.seq {
				continue
			}
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return nil
			case unix.NLMSG_ERROR:
				if len(m.Data) < 4 {
					return errors.New("netlink: short error message")
				}
				if code := int32(binary.NativeEndian.Uint32(m.Data)); code != 0 {
					return syscall.Errno(-code)
				}
				return nil
			}
			if len(m.Data) < 4 {
				continue
			}
			if !fn(m.Data[4:]) {
				return nil
			}
			if !dump {
				return nil
			}
		}
	}
}
