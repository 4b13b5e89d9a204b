package nfnl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sort"

	"golang.org/x/sys/unix"
)

// batchSeqBase keeps batch sequence numbers apart from Request/Dump ones.
const batchSeqBase = 1 << 31

// maxIOV stays below the kernel's UIO_MAXIOV (1024).
const maxIOV = 1000

// ErrGenerationChanged means the ruleset changed after the generation id the
// batch carries was read; nothing was applied and the caller should rebuild
// its view of the ruleset and try again.
var ErrGenerationChanged = errors.New("nf_tables: ruleset changed by another writer")

// Batch is one nf_tables transaction: the messages between BATCH_BEGIN and
// BATCH_END, committed by the kernel all together or not at all. Each message
// carries a tag (an index into the caller's own records, say) so a kernel
// error can be mapped back to what the caller asked for. Messages can be
// dropped again before the commit (iptables-nft drops the pending rules of a
// chain that is flushed later in the same batch, which decides the handles
// the kernel hands out).
type Batch struct {
	begin []byte
	buf   []byte
	// offs[i] is where message i starts in buf.
	offs    []int
	tags    []int
	dropped []bool
	live    int
	withG   bool
	// mapped is the mapping buf lives in (nil while buf is on the heap).
	mapped []byte
}

// NewBatch starts a batch. When withGen is set, BATCH_BEGIN carries genID
// and the kernel refuses the batch if the ruleset generation moved on.
func NewBatch(genID uint32, withGen bool) *Batch {
	b := &Batch{withG: withGen}
	var a Attrs
	if withGen {
		a.U32(unix.NFNL_BATCH_GENID, genID)
	}
	b.begin = appendMsg(nil, unix.NFNL_MSG_BATCH_BEGIN, unix.NLM_F_REQUEST, batchSeqBase, unix.AF_UNSPEC, SubsysNFTables, a.B)
	return b
}

// SetGenID changes the generation id BATCH_BEGIN carries. A restore plans
// every table section against one read of the ruleset and commits them one
// after the other; each commit of its own moves the generation on by one,
// so a later section's batch carries the id the kernel will have by then.
func (b *Batch) SetGenID(genID uint32) {
	if b.withG {
		binary.BigEndian.PutUint32(b.begin[nlmsgHdrLen+nfgenLen+4:], genID)
	}
}

// Add appends one nf_tables message (msg is NFT_MSG_*) and returns its
// index. flags are added to NLM_F_REQUEST.
func (b *Batch) Add(msg int, flags uint16, family uint8, attrs []byte, tag int) int {
	if need := nlmsgHdrLen + nfgenLen + len(attrs) + 4; cap(b.buf)-len(b.buf) < need {
		b.Grow(max(need, cap(b.buf)))
	}
	b.offs = append(b.offs, len(b.buf))
	b.buf = appendMsg(b.buf, MsgType(SubsysNFTables, msg), unix.NLM_F_REQUEST|flags, 0, family, 0, attrs)
	b.tags = append(b.tags, tag)
	b.dropped = append(b.dropped, false)
	b.live++
	return len(b.tags) - 1
}

// Drop removes message i from the batch.
func (b *Batch) Drop(i int) {
	if !b.dropped[i] {
		b.dropped[i] = true
		b.live--
	}
}

// AppendAttrs adds attributes at the end of message i, after those it was
// added with. iptables-nft gives a rule of the batch its transaction id
// (NFTA_RULE_ID) only when a later message of the same batch refers to
// it, and libnftnl writes that attribute last; this does the same to a
// message already in the batch. Later messages move up.
func (b *Batch) AppendAttrs(i int, attrs []byte) {
	if len(attrs)%4 != 0 {
		panic("nfnl: AppendAttrs needs whole, padded attributes")
	}
	if cap(b.buf)-len(b.buf) < len(attrs) {
		b.Grow(max(len(attrs), cap(b.buf)))
	}
	end := len(b.buf)
	if i+1 < len(b.offs) {
		end = b.offs[i+1]
	}
	n := len(b.buf)
	b.buf = b.buf[:n+len(attrs)]
	copy(b.buf[end+len(attrs):], b.buf[end:n])
	copy(b.buf[end:], attrs)
	for j := i + 1; j < len(b.offs); j++ {
		b.offs[j] += len(attrs)
	}
	hdr := b.buf[b.offs[i]:]
	binary.NativeEndian.PutUint32(hdr, binary.NativeEndian.Uint32(hdr)+uint32(len(attrs)))
}

// MessageAttrs returns the attributes of message i (aliasing the batch:
// valid until the batch changes).
func (b *Batch) MessageAttrs(i int) []byte {
	raw := b.msg(i)
	return raw[nlmsgHdrLen+nfgenLen : binary.NativeEndian.Uint32(raw)]
}

// Len is the number of messages that will be sent.
func (b *Batch) Len() int { return b.live }

// Generation returns the generation id BATCH_BEGIN carries and whether it
// carries one.
func (b *Batch) Generation() (uint32, bool) {
	if !b.withG {
		return 0, false
	}
	return binary.BigEndian.Uint32(b.begin[nlmsgHdrLen+nfgenLen+4:]), true
}

// Each calls fn for every message that will be sent, in order, with its
// index (as Add returned it), its tag and the message (Seq is 0; Attrs
// aliases the batch). It stops when fn returns false. A Transport other
// than Conn reads a batch with it.
func (b *Batch) Each(fn func(index, tag int, m Message) bool) {
	for i := range b.offs {
		if b.dropped[i] {
			continue
		}
		raw := b.msg(i)
		m := toMessage(rawMsg{
			typ:   binary.NativeEndian.Uint16(raw[4:]),
			flags: binary.NativeEndian.Uint16(raw[6:]),
			data:  raw[nlmsgHdrLen:binary.NativeEndian.Uint32(raw)],
		}, false)
		if !fn(i, b.tags[i], m) {
			return
		}
	}
}

// Grow makes room for n more bytes of messages.
//
// The buffer is an anonymous mapping outside the Go heap: a large batch
// on the heap would let the garbage collector's target grow by as much
// again before it collects the encoder's garbage, doubling peak memory.
// Pages of the mapping that are never written are never faulted in, so an
// over-estimate costs address space only. Release unmaps it.
func (b *Batch) Grow(n int) {
	if n <= 0 || cap(b.buf)-len(b.buf) >= n {
		return
	}
	page := unix.Getpagesize()
	size := (len(b.buf) + n + page - 1) &^ (page - 1)
	if b.mapped != nil {
		// Growing a mapping moves its pages, not their bytes: a copy into
		// a new mapping would hold the old and the new pages at once (at
		// 160k rules an 83 MiB batch growing past its estimate peaked at
		// twice that).
		if m, err := unix.Mremap(b.mapped, size, unix.MREMAP_MAYMOVE); err == nil {
			b.buf, b.mapped = m[:len(b.buf)], m
			return
		}
	}
	m, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		// Out of address space is out of memory either way; the heap
		// gives the same answer.
		nb := make([]byte, len(b.buf), len(b.buf)+n)
		copy(nb, b.buf)
		b.release()
		b.buf = nb
		return
	}
	nb := m[:len(b.buf)]
	copy(nb, b.buf)
	b.release()
	b.buf, b.mapped = nb, m
}

func (b *Batch) release() {
	if b.mapped != nil {
		_ = unix.Munmap(b.mapped)
		b.mapped = nil
	}
	b.buf = nil
}

// Release frees the batch's buffer; the batch must not be used afterwards.
func (b *Batch) Release() { b.release() }

// Size is the encoded size in bytes so far, dropped messages included.
func (b *Batch) Size() int { return len(b.buf) }

func (b *Batch) msg(i int) []byte {
	end := len(b.buf)
	if i+1 < len(b.offs) {
		end = b.offs[i+1]
	}
	return b.buf[b.offs[i]:end]
}

// Failure is the kernel's refusal of one message of a batch.
type Failure struct {
	// Index is the message's index as Add returned it, -1 when the error
	// concerns the batch as a whole (the commit phase).
	Index int
	// Tag is what Add was given for it (0 for the batch as a whole).
	Tag int
	Err *KernelError
}

// BatchError says the kernel aborted a batch, with every refusal it
// reported, in message order (iptables-nft prints them all).
type BatchError struct {
	Failures []Failure
}

func (e *BatchError) Error() string {
	f := e.Failures[0]
	if f.Index < 0 {
		return fmt.Sprintf("nf_tables commit: %v", f.Err)
	}
	return fmt.Sprintf("nf_tables message %d: %v", f.Index, f.Err)
}

// Unwrap returns the first kernel error.
func (e *BatchError) Unwrap() error { return e.Failures[0].Err }

// Commit sends the batch in one sendmsg (nfnetlink processes a batch within
// the skb it arrived in, so a batch cannot be split over several sends) and
// tells for sure whether the kernel committed it: nil when it did, a
// *BatchError naming the first refused message, ErrGenerationChanged, or
// another error; in every non-nil case nothing was applied.
//
// Only the last message asks for an ACK. The kernel reports errors for every
// refused message regardless, and delivers all reports only after the
// batch was processed and committed or aborted, synchronously within the
// send; so once the send returns, the replies are all queued: an error means
// aborted, the lone ACK means committed. A receive-queue overflow can only
// happen with many error reports, so it too means aborted.
func (c *Conn) Commit(b *Batch) error {
	if b.live == 0 {
		return nil
	}
	iov, seqTag, endSeq := b.assemble()
	total := 0
	for _, v := range iov {
		total += len(v)
	}
	if len(iov) > maxIOV {
		// sendmsg takes at most UIO_MAXIOV buffers: gather into one.
		one := make([]byte, 0, total)
		for _, v := range iov {
			one = append(one, v...)
		}
		iov = [][]byte{one}
	}
	if err := c.growSndbuf(total); err != nil {
		return err
	}
	if err := c.sendBuffers(iov); err != nil {
		return err
	}
	lastSeq := endSeq - 1
	var fails []Failure
	acked, overflow := false, false
	for {
		msgs, err := c.recv(true)
		if errors.Is(err, unix.ENOBUFS) {
			overflow = true
			continue
		}
		if err != nil {
			return err
		}
		if msgs == nil {
			break
		}
		for _, m := range msgs {
			if m.typ != unix.NLMSG_ERROR {
				continue
			}
			errno, seq, text := errnoOf(m)
			if seq < batchSeqBase || seq > endSeq {
				continue
			}
			if errno == 0 {
				if seq == lastSeq {
					acked = true
				}
				continue
			}
			f := Failure{Index: -1, Err: &KernelError{Errno: errno, Text: text}}
			if seq == batchSeqBase {
				if errno == unix.ERESTART && b.withG {
					return ErrGenerationChanged
				}
			} else if k := int(seq) - batchSeqBase - 1; k < len(seqTag) {
				f.Index = seqTag[k]
				f.Tag = b.tags[f.Index]
			}
			fails = append(fails, f)
		}
	}
	switch {
	case len(fails) > 0:
		sort.SliceStable(fails, func(i, j int) bool { return fails[i].Index < fails[j].Index })
		return &BatchError{Failures: fails}
	case overflow:
		return &BatchError{Failures: []Failure{{Index: -1, Err: &KernelError{Errno: unix.ENOBUFS, Text: "error reports overflowed the receive queue"}}}}
	case !acked:
		return &BatchError{Failures: []Failure{{Index: -1, Err: &KernelError{Errno: unix.EPROTO, Text: "no acknowledgement for the batch"}}}}
	}
	return nil
}

// assemble numbers the live messages, gathers them into as few buffers as
// possible between BATCH_BEGIN and BATCH_END, and asks for an ACK on the
// last one. seqTag maps a message's position in the sent batch to its
// index; endSeq is BATCH_END's sequence number.
func (b *Batch) assemble() (iov [][]byte, seqTag []int, endSeq uint32) {
	seqTag = make([]int, 0, b.live)
	iov = append(iov, b.begin)
	runStart, last := -1, -1
	for i := range b.offs {
		if b.dropped[i] {
			if runStart >= 0 {
				iov = append(iov, b.buf[runStart:b.offs[i]])
				runStart = -1
			}
			continue
		}
		m := b.msg(i)
		binary.NativeEndian.PutUint32(m[8:], uint32(batchSeqBase+1+len(seqTag)))
		clearFlag(m, unix.NLM_F_ACK)
		seqTag = append(seqTag, i)
		if runStart < 0 {
			runStart = b.offs[i]
		}
		last = i
	}
	if runStart >= 0 {
		iov = append(iov, b.buf[runStart:])
	}
	setFlag(b.msg(last), unix.NLM_F_ACK)
	endSeq = uint32(batchSeqBase + 1 + len(seqTag))
	iov = append(iov, appendMsg(nil, unix.NFNL_MSG_BATCH_END, unix.NLM_F_REQUEST, endSeq, unix.AF_UNSPEC, SubsysNFTables, nil))
	return iov, seqTag, endSeq
}

func setFlag(msg []byte, f uint16) {
	binary.NativeEndian.PutUint16(msg[6:], binary.NativeEndian.Uint16(msg[6:])|f)
}

func clearFlag(msg []byte, f uint16) {
	binary.NativeEndian.PutUint16(msg[6:], binary.NativeEndian.Uint16(msg[6:])&^f)
}

// growSndbuf makes the socket accept a datagram of n bytes: netlink refuses
// a send larger than the send buffer with EMSGSIZE.
func (c *Conn) growSndbuf(n int) error {
	want := n + 64<<10
	cur, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_SNDBUF)
	if err == nil && cur >= want {
		return nil
	}
	if err := unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, want); err != nil {
		return os.NewSyscallError("setsockopt SO_SNDBUFFORCE", err)
	}
	return nil
}
