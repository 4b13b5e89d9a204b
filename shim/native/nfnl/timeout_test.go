package nfnl

import (
	"errors"
	"testing"
	"time"
)

// TestReceiveTimesOut checks that a receive the kernel never answers ends
// with ErrTimeout instead of blocking for good (before, nfnl set no
// receive timeout). Nothing is sent, so nothing touches netfilter.
func TestReceiveTimesOut(t *testing.T) {
	c, err := Open()
	if err != nil {
		t.Skipf("no netfilter netlink socket: %v", err)
	}
	defer c.Close()
	if err := c.SetRecvTimeout(20 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, err := c.recv(false); !errors.Is(err, ErrTimeout) {
		t.Fatalf("recv with nothing to read: %v, want ErrTimeout", err)
	}
	if msgs, err := c.recv(true); msgs != nil || err != nil {
		t.Fatalf("non-blocking recv with nothing to read: %v, %v", msgs, err)
	}
}

// TestSetGenID checks that the generation id can be changed after the
// batch was started, in BATCH_BEGIN's big-endian attribute.
func TestSetGenID(t *testing.T) {
	b := NewBatch(7, true)
	b.SetGenID(0x01020304)
	got := b.begin[nlmsgHdrLen+nfgenLen+4:]
	if got[0] != 1 || got[1] != 2 || got[2] != 3 || got[3] != 4 {
		t.Fatalf("BATCH_BEGIN generation bytes % x", got[:4])
	}
	withoutGen := NewBatch(7, false)
	before := append([]byte(nil), withoutGen.begin...)
	withoutGen.SetGenID(9)
	if string(before) != string(withoutGen.begin) {
		t.Fatal("SetGenID changed a batch without a generation id")
	}
}
