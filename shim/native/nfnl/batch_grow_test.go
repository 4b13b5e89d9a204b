package nfnl

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"
)

// TestBatchGrowKeepsMessages grows a batch's mapping many times over (by
// mremap) and checks every message is still there, byte for byte.
func TestBatchGrowKeepsMessages(t *testing.T) {
	b := NewBatch(1, false)
	defer b.Release()
	b.Grow(64)
	var want [][]byte
	for i := range 5000 {
		attrs := bytes.Repeat([]byte{byte(i)}, 4+i%64*4)
		j := b.Add(unix.NFT_MSG_NEWRULE, 0, unix.NFPROTO_IPV4, attrs, i)
		if j != i {
			t.Fatalf("Add returned %d, want %d", j, i)
		}
		want = append(want, append([]byte(nil), b.msg(i)...))
	}
	for i, w := range want {
		if !bytes.Equal(b.msg(i), w) {
			t.Fatalf("message %d changed after growing", i)
		}
	}
	if b.mapped == nil {
		t.Error("the batch is not in a mapping")
	}
}
