// Package nfnl is the shim's one nfnetlink transport, for the native
// backend and for detection's queries alike: one socket that sends
// nf_tables batches as a single atomic transaction, runs dumps and simple
// requests, and maps every kernel error back to the message (and so the
// caller's tag, e.g. a restore line) that caused it. Every blocking
// receive is bounded (Dial, DefaultRecvTimeout); Scan is its one attribute
// decoder. It lives under internal/ because detection must not import the
// native backend's packages; package fake is an in-memory nf_tables behind
// the same Transport.
//
// It exists because google/nftables' Conn asks for an ACK and an echo per
// message (a large batch then overflows the receive queue and the caller
// cannot tell whether the commit happened) and carries no generation id.
package nfnl

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Subsystem ids (nfnetlink.h), the high byte of a message type.
const (
	SubsysNFTables = unix.NFNL_SUBSYS_NFTABLES
	// SubsysNFTCompat is nfnetlink_compat, which answers revision probes.
	SubsysNFTCompat = unix.NFNL_SUBSYS_NFT_COMPAT
)

const (
	nlmsgHdrLen = unix.SizeofNlMsghdr
	nfgenLen    = 4
	// recvBufSize is the buffer of one recvmsg. The kernel sizes a dump's
	// buffers by the reads it has seen but caps them at 32 KiB, and every
	// buffer of a rule dump makes it walk the chain from its first rule
	// again: reading less than the cap makes large saves dearer, more
	// changes nothing for dumps. Error reports of a large failed batch
	// use the room.
	recvBufSize = 1 << 20
	// rcvQueue is the socket receive queue asked for. Successful batches
	// produce one reply, so this only has to hold error reports, and an
	// overflow is itself proof that the batch failed (see Commit).
	rcvQueue = 8 << 20
	// DefaultRecvTimeout bounds every blocking receive of a Conn from
	// Open: a request or one datagram of a dump the kernel never answers
	// becomes ErrTimeout instead of a caller stuck for good. The kernel
	// answers within microseconds; each datagram of a large dump is
	// waited for separately, so the bound never cuts a healthy dump.
	DefaultRecvTimeout = 30 * time.Second
)

// ErrTimeout means the kernel did not answer within the receive timeout.
// It wraps os.ErrDeadlineExceeded.
var ErrTimeout error = timeoutError{}

// timeoutError is ErrTimeout's type: a plain value rather than one built
// by fmt when the package starts, which every call of the shim would pay
// for (a call lives for milliseconds).
type timeoutError struct{}

func (timeoutError) Error() string {
	return "netlink: no answer from the kernel within the receive timeout: " + os.ErrDeadlineExceeded.Error()
}

func (timeoutError) Unwrap() error { return os.ErrDeadlineExceeded }

// Conn is one NETLINK_NETFILTER socket. It is not safe for concurrent use.
type Conn struct {
	fd   int
	seq  uint32
	buf  []byte
	msgs []rawMsg // reused by recv
	// req is reused by Dump: a save sends one request per chain.
	req []byte
}

// Dial opens a connection as Open does, with the transport's one timeout
// policy: every blocking receive is bounded, by ctx's deadline when it has
// one (detection's probes), else by DefaultRecvTimeout. A kernel that never
// answers (some iptables-nft 1.8.0-1.8.3 era modules could hang) becomes
// ErrTimeout, not a stuck caller. ctx is not watched otherwise.
func Dial(ctx context.Context) (*Conn, error) {
	dl, ok := ctx.Deadline()
	if ok && !time.Now().Before(dl) {
		return nil, fmt.Errorf("netlink: %w", context.DeadlineExceeded)
	}
	c, err := Open()
	if err != nil || !ok {
		return c, err
	}
	// At least a microsecond: a zero timeout would mean none.
	if err := c.SetRecvTimeout(max(time.Until(dl), time.Microsecond)); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Open opens a netfilter netlink socket in the calling thread's network
// namespace; its receives are bounded by DefaultRecvTimeout.
func Open() (*Conn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	c := &Conn{fd: fd, buf: recvBuf()}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		c.Close()
		return nil, os.NewSyscallError("bind", err)
	}
	// Error replies then carry only the failing message's header, not a
	// copy of it: the reports of a large failing batch stay small.
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_EXT_ACK, 1)
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvQueue); err != nil {
		// Without CAP_NET_ADMIN the plain option still gets what rmem_max allows.
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvQueue)
	}
	if err := c.SetRecvTimeout(DefaultRecvTimeout); err != nil {
		c.Close()
		return nil, err
	}
	c.seq = uint32(os.Getpid()) << 8
	return c, nil
}

// SetRecvTimeout bounds each blocking receive (requests and dumps); zero
// waits without bound. A receive that times out fails with ErrTimeout.
func (c *Conn) SetRecvTimeout(d time.Duration) error {
	tv := unix.NsecToTimeval(d.Nanoseconds())
	if err := unix.SetsockoptTimeval(c.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return os.NewSyscallError("setsockopt SO_RCVTIMEO", err)
	}
	return nil
}

// Close releases the socket. Its receive buffer goes to the next Open:
// nothing received may be used after Close (Request copies its replies,
// Dump's callbacks must not keep theirs).
func (c *Conn) Close() error {
	if c.fd < 0 {
		return nil
	}
	err := unix.Close(c.fd)
	c.fd = -1
	if c.buf != nil {
		releaseRecvBuf(c.buf)
		c.buf, c.msgs = nil, nil
	}
	return err
}

// sharedRecvBuf is the receive buffer of one open connection at a time:
// a call of the shim opens its connections one after the other (detection,
// the dialect check, the native backend), and a fresh 1 MiB heap
// allocation costs the allocator more than the request it serves. It is
// an anonymous mapping made on first use (not a 1 MiB array in the
// binary's bss, which every process of the shim carried whether or not it
// opened a connection): its pages cost nothing until the kernel writes a
// reply into them. Connections opened while it is taken (or when the
// mapping fails) get heap buffers.
var (
	sharedRecvBuf   []byte
	sharedRecvTaken atomic.Bool
)

func recvBuf() []byte {
	if !sharedRecvTaken.CompareAndSwap(false, true) {
		return make([]byte, recvBufSize)
	}
	if sharedRecvBuf == nil {
		b, err := unix.Mmap(-1, 0, recvBufSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err != nil {
			sharedRecvTaken.Store(false)
			return make([]byte, recvBufSize)
		}
		sharedRecvBuf = b
	}
	return sharedRecvBuf
}

func releaseRecvBuf(b []byte) {
	if len(b) > 0 && len(sharedRecvBuf) > 0 && unsafe.SliceData(b) == unsafe.SliceData(sharedRecvBuf) {
		sharedRecvTaken.Store(false)
	}
}

func (c *Conn) nextSeq() uint32 {
	c.seq++
	if c.seq == 0 {
		c.seq = 1
	}
	return c.seq
}

// appendMsg appends one nfnetlink message (header, nfgenmsg, attributes) to b.
func appendMsg(b []byte, typ uint16, flags uint16, seq uint32, family uint8, resID uint16, attrs []byte) []byte {
	n := nlmsgHdrLen + nfgenLen + len(attrs)
	b = binary.NativeEndian.AppendUint32(b, uint32(n))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = binary.NativeEndian.AppendUint16(b, flags)
	b = binary.NativeEndian.AppendUint32(b, seq)
	b = binary.NativeEndian.AppendUint32(b, 0) // port id: the kernel fills it
	b = append(b, family, unix.NFNETLINK_V0)
	b = binary.BigEndian.AppendUint16(b, resID)
	b = append(b, attrs...)
	return pad4(b)
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// MsgType combines a subsystem and a message number.
func MsgType(subsys, msg int) uint16 { return uint16(subsys<<8 | msg) }

// Message is one received nfnetlink message.
type Message struct {
	Type   uint16
	Flags  uint16
	Seq    uint32
	Family uint8
	// Attrs is the payload after the nfgenmsg header.
	Attrs []byte
}

// errNoReply is returned when a request got no answer at all.
var errNoReply = errors.New("netlink: no reply")

// send writes one datagram. A netlink socket that was never connected
// sends to port 0, the kernel, so plain write(2) does what sendto(2) with
// the kernel's address would, without building a sockaddr each time.
func (c *Conn) send(b []byte) error {
	for {
		_, err := unix.Write(c.fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("write", err)
		}
		return nil
	}
}

// recv reads one datagram and splits it into netlink messages. With
// nonblock, it returns (nil, nil) when nothing is queued.
func (c *Conn) recv(nonblock bool) ([]rawMsg, error) {
	flags := 0
	if nonblock {
		flags = unix.MSG_DONTWAIT
	}
	for {
		n, err := c.recvfrom(flags)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN || err == unix.EWOULDBLOCK {
			if nonblock {
				return nil, nil
			}
			return nil, fmt.Errorf("%w: %w", ErrTimeout, err)
		}
		if err != nil {
			return nil, os.NewSyscallError("recvfrom", err)
		}
		c.msgs, err = appendMsgs(c.msgs[:0], c.buf[:n])
		return c.msgs, err
	}
}

// recvfrom reads one datagram into c.buf without asking for the sender's
// address: only the kernel talks to this socket, and unix.Recvfrom would
// allocate a Sockaddr for each of the hundred thousand reads of a large
// save.
func (c *Conn) recvfrom(flags int) (int, error) {
	n, _, errno := unix.Syscall6(unix.SYS_RECVFROM, uintptr(c.fd), uintptr(unsafe.Pointer(unsafe.SliceData(c.buf))), uintptr(len(c.buf)), uintptr(flags), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// rawMsg is a netlink message as received; data aliases the receive buffer.
type rawMsg struct {
	typ, flags uint16
	seq        uint32
	data       []byte // after the netlink header
}

func splitMsgs(b []byte) ([]rawMsg, error) { return appendMsgs(nil, b) }

// appendMsgs splits a datagram into netlink messages appended to out.
func appendMsgs(out []rawMsg, b []byte) ([]rawMsg, error) {
	for len(b) >= nlmsgHdrLen {
		l := int(binary.NativeEndian.Uint32(b))
		if l < nlmsgHdrLen || l > len(b) {
			return nil, fmt.Errorf("netlink: malformed message length %d", l)
		}
		out = append(out, rawMsg{
			typ:   binary.NativeEndian.Uint16(b[4:]),
			flags: binary.NativeEndian.Uint16(b[6:]),
			seq:   binary.NativeEndian.Uint32(b[8:]),
			data:  b[nlmsgHdrLen:l],
		})
		l = (l + 3) &^ 3
		if l > len(b) {
			break
		}
		b = b[l:]
	}
	return out, nil
}

// errnoOf decodes an NLMSG_ERROR message: the errno (0 for an ACK), the
// sequence number of the message it answers and the extended-ack text.
func errnoOf(m rawMsg) (unix.Errno, uint32, string) {
	if len(m.data) < 4+nlmsgHdrLen {
		return unix.EINVAL, m.seq, ""
	}
	code := int32(binary.NativeEndian.Uint32(m.data))
	origSeq := binary.NativeEndian.Uint32(m.data[4+8:])
	var text string
	if m.flags&unix.NLM_F_ACK_TLVS != 0 {
		off := 4 + nlmsgHdrLen
		if m.flags&unix.NLM_F_CAPPED == 0 {
			off = 4 + int(binary.NativeEndian.Uint32(m.data[4:]))
		}
		if off <= len(m.data) {
			for _, a := range ParseAttrs(m.data[off:]) {
				if a.Type == unix.NLMSGERR_ATTR_MSG {
					text = a.String()
				}
			}
		}
	}
	return unix.Errno(-code), origSeq, text
}

// Request sends one message with NLM_F_ACK and returns the replies that
// precede the ACK (for a GET, the object). A kernel error is returned as a
// syscall.Errno wrapped with the message type.
func (c *Conn) Request(typ uint16, flags uint16, family uint8, attrs []byte) ([]Message, error) {
	seq := c.nextSeq()
	b := appendMsg(nil, typ, flags|unix.NLM_F_REQUEST|unix.NLM_F_ACK, seq, family, 0, attrs)
	if err := c.send(b); err != nil {
		return nil, err
	}
	var out []Message
	for {
		msgs, err := c.recv(false)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if m.seq != seq {
				continue
			}
			if m.typ == unix.NLMSG_ERROR {
				errno, _, text := errnoOf(m)
				if errno != 0 {
					return out, &KernelError{Errno: errno, Text: text}
				}
				return out, nil
			}
			out = append(out, toMessage(m, true))
		}
	}
}

func toMessage(m rawMsg, copyData bool) Message {
	msg := Message{Type: m.typ, Flags: m.flags, Seq: m.seq}
	if len(m.data) >= nfgenLen {
		msg.Family = m.data[0]
		msg.Attrs = m.data[nfgenLen:]
		if copyData {
			msg.Attrs = append([]byte(nil), msg.Attrs...)
		}
	}
	return msg
}

// ErrDumpInterrupted means the ruleset changed during a dump; the caller
// should dump again.
var ErrDumpInterrupted = errors.New("netlink: dump interrupted by a concurrent change")

// ErrStopDump, returned by a Dump callback, ends the dump early: Dump
// returns nil at once without reading the rest, which stays queued on the
// connection (close it rather than reuse it: its next replies would come
// after the rest of the dump). A capped count costs the same however large
// the ruleset is.
var ErrStopDump = errors.New("netlink: dump stopped by the caller")

// Dump runs a dump request and calls fn for every message; fn must not keep
// msg.Attrs beyond the call (it aliases the receive buffer). A callback
// error other than ErrStopDump is returned once the dump is read to its
// end.
func (c *Conn) Dump(typ uint16, family uint8, attrs []byte, fn func(Message) error) error {
	seq := c.nextSeq()
	c.req = appendMsg(c.req[:0], typ, unix.NLM_F_REQUEST|unix.NLM_F_DUMP, seq, family, 0, attrs)
	if err := c.send(c.req); err != nil {
		return err
	}
	var fnErr error
	interrupted := false
	for {
		msgs, err := c.recv(false)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.seq != seq {
				continue
			}
			if m.flags&unix.NLM_F_DUMP_INTR != 0 {
				interrupted = true
			}
			switch m.typ {
			case unix.NLMSG_DONE:
				if fnErr != nil {
					return fnErr
				}
				if interrupted {
					return ErrDumpInterrupted
				}
				return nil
			case unix.NLMSG_ERROR:
				errno, _, text := errnoOf(m)
				if errno == 0 {
					continue
				}
				return &KernelError{Errno: errno, Text: text}
			}
			if fnErr == nil {
				fnErr = fn(toMessage(m, false))
				if fnErr == ErrStopDump {
					return nil
				}
			}
		}
	}
}

// KernelError is an error the kernel reported for one message.
type KernelError struct {
	Errno unix.Errno
	// Text is the kernel's extended-ack message, if any.
	Text string
}

func (e *KernelError) Error() string {
	if e.Text != "" {
		return e.Errno.Error() + ": " + e.Text
	}
	return e.Errno.Error()
}

// Unwrap lets errors.Is match the errno.
func (e *KernelError) Unwrap() error { return e.Errno }

// sendBuffers sends one datagram gathered from several buffers.
func (c *Conn) sendBuffers(iov [][]byte) error {
	for {
		_, err := unix.SendmsgBuffers(c.fd, iov, nil, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("sendmsg", err)
		}
		return nil
	}
}
