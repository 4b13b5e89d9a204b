package nfnl

import (
	"bytes"
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

// msgs splits assembled buffers back into (type, flags, seq) triples.
func headers(t *testing.T, iov [][]byte) [][3]uint32 {
	t.Helper()
	var out [][3]uint32
	for _, m := range splitAll(t, bytes.Join(iov, nil)) {
		out = append(out, [3]uint32{uint32(m.typ), uint32(m.flags), m.seq})
	}
	return out
}

func splitAll(t *testing.T, b []byte) []rawMsg {
	t.Helper()
	ms, err := splitMsgs(b)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestBatchAssembleDropsAndRenumbers(t *testing.T) {
	b := NewBatch(7, true)
	for i := 0; i < 5; i++ {
		b.Add(unix.NFT_MSG_NEWRULE, unix.NLM_F_CREATE, unix.NFPROTO_IPV4, []byte{1, 2, 3, 4}, 100+i)
	}
	b.Drop(1)
	b.Drop(3)
	b.Drop(3) // twice is once
	if b.Len() != 3 {
		t.Fatalf("Len = %d, want 3", b.Len())
	}
	iov, seqTag, endSeq := b.assemble()
	if want := []int{0, 2, 4}; len(seqTag) != 3 || seqTag[0] != want[0] || seqTag[1] != want[1] || seqTag[2] != want[2] {
		t.Fatalf("seqTag = %v, want %v", seqTag, want)
	}
	h := headers(t, iov)
	newRule := uint32(SubsysNFTables<<8 | unix.NFT_MSG_NEWRULE)
	want := [][3]uint32{
		{unix.NFNL_MSG_BATCH_BEGIN, unix.NLM_F_REQUEST, batchSeqBase},
		{newRule, unix.NLM_F_REQUEST | unix.NLM_F_CREATE, batchSeqBase + 1},
		{newRule, unix.NLM_F_REQUEST | unix.NLM_F_CREATE, batchSeqBase + 2},
		// Only the last message asks for an ACK.
		{newRule, unix.NLM_F_REQUEST | unix.NLM_F_CREATE | unix.NLM_F_ACK, batchSeqBase + 3},
		{unix.NFNL_MSG_BATCH_END, unix.NLM_F_REQUEST, endSeq},
	}
	if len(h) != len(want) {
		t.Fatalf("got %d messages, want %d: %v", len(h), len(want), h)
	}
	for i := range want {
		if h[i] != want[i] {
			t.Errorf("message %d: got %v, want %v", i, h[i], want[i])
		}
	}
	// BATCH_BEGIN carries the generation id and the nf_tables subsystem.
	begin := splitAll(t, iov[0])[0]
	if resID := binary.BigEndian.Uint16(begin.data[2:]); resID != SubsysNFTables {
		t.Errorf("BATCH_BEGIN res_id = %d", resID)
	}
	attrs := ParseAttrs(begin.data[4:])
	if len(attrs) != 1 || attrs[0].Type != unix.NFNL_BATCH_GENID || attrs[0].U32() != 7 {
		t.Errorf("BATCH_BEGIN attributes = %+v", attrs)
	}
	// Re-assembling after more drops moves the ACK.
	b.Drop(4)
	iov, _, _ = b.assemble()
	h = headers(t, iov)
	if h[2][1]&unix.NLM_F_ACK == 0 || h[1][1]&unix.NLM_F_ACK != 0 {
		t.Errorf("ACK not on the new last message: %v", h)
	}
}

func TestAttrsRoundTrip(t *testing.T) {
	var a Attrs
	a.String(1, "filter")
	n := a.Nest(2)
	a.U32(1, 0xdeadbeef)
	a.U64(2, 1<<40)
	a.End(n)
	a.Bytes(3, []byte{9})
	got := ParseAttrs(a.B)
	if len(got) != 3 || got[0].String() != "filter" || got[2].Data[0] != 9 {
		t.Fatalf("parsed %+v", got)
	}
	inner := ParseAttrs(got[1].Data)
	if len(inner) != 2 || inner[0].U32() != 0xdeadbeef || inner[1].U64() != 1<<40 {
		t.Fatalf("nested %+v", inner)
	}
	if len(a.B)%4 != 0 {
		t.Errorf("attribute stream not 4-byte aligned: %d", len(a.B))
	}
}

func TestErrnoOfCappedAck(t *testing.T) {
	// An NLMSG_ERROR with NETLINK_CAP_ACK: errno, then the failing
	// message's header only.
	var b []byte
	code := -int32(unix.EBUSY)
	b = binary.NativeEndian.AppendUint32(b, uint32(code))
	b = append(b, make([]byte, 8)...)
	b = binary.NativeEndian.AppendUint32(b, 42) // seq
	b = append(b, make([]byte, 4)...)
	errno, seq, _ := errnoOf(rawMsg{typ: unix.NLMSG_ERROR, flags: unix.NLM_F_CAPPED, data: b})
	if errno != unix.EBUSY || seq != 42 {
		t.Errorf("errnoOf = %v, %d", errno, seq)
	}
}

// TestBatchAppendAttrs: attributes added to a message in the middle land
// at its end, its length grows, and the messages after it are intact.
func TestBatchAppendAttrs(t *testing.T) {
	b := NewBatch(1, false)
	for i := 0; i < 3; i++ {
		var a Attrs
		a.U32(unix.NFTA_RULE_HANDLE, uint32(10+i))
		b.Add(unix.NFT_MSG_NEWRULE, 0, unix.NFPROTO_IPV4, a.B, i)
	}
	var extra Attrs
	extra.U32(unix.NFTA_RULE_ID, 42)
	b.AppendAttrs(1, extra.B)
	b.AppendAttrs(2, extra.B)
	var got [][]Attr
	b.Each(func(_, _ int, m Message) bool {
		got = append(got, ParseAttrs(m.Attrs))
		return true
	})
	if len(got) != 3 || len(got[0]) != 1 || len(got[1]) != 2 || len(got[2]) != 2 {
		t.Fatalf("attributes after AppendAttrs: %+v", got)
	}
	for i, as := range got {
		if as[0].U32() != uint32(10+i) {
			t.Errorf("message %d: first attribute %+v", i, as[0])
		}
		if i > 0 && (as[1].Type != unix.NFTA_RULE_ID || as[1].U32() != 42) {
			t.Errorf("message %d: appended attribute %+v", i, as[1])
		}
	}
	if a := ParseAttrs(b.MessageAttrs(1)); len(a) != 2 {
		t.Errorf("MessageAttrs(1) = %+v", a)
	}
	iov, _, _ := b.assemble()
	if ms := splitAll(t, bytes.Join(iov, nil)); len(ms) != 5 {
		t.Errorf("assembled %d messages, want 5", len(ms))
	}
}
