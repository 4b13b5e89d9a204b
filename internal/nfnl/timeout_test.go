package nfnl

import (
	"context"
	"errors"
	"os"
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

// TestDialDeadline checks Dial's side of the timeout policy: a context
// already past its deadline opens nothing, and a context's deadline
// bounds the receives. No root needed: an unprivileged process may open
// the socket, just not change nf_tables.
func TestDialDeadline(t *testing.T) {
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if c, err := Dial(expired); !errors.Is(err, context.DeadlineExceeded) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("Dial past the deadline: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	c, err := Dial(ctx)
	if err != nil {
		t.Skipf("no netfilter netlink socket here: %v", err)
	}
	defer c.Close()
	// Nothing was asked, so nothing comes.
	if _, err := c.recv(false); !errors.Is(err, ErrTimeout) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("recv with nothing queued: %v, want ErrTimeout", err)
	}
}
