package nfnl

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

// TestReceiveTimeout checks the transport's one timeout policy: a blocking
// receive gives up with ErrTimeout once the receive deadline passes, and a
// context already past its deadline opens nothing. No root needed: an
// unprivileged process may open the socket, just not change nf_tables.
func TestReceiveTimeout(t *testing.T) {
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
	_, err = c.recv(false)
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("recv with nothing queued: %v, want ErrTimeout", err)
	}
}
