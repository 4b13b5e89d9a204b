package detect

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestProbeContextCarriesTheDeadline(t *testing.T) {
	ctx := probeContext(context.Background(), time.Hour)
	dl, ok := ctx.Deadline()
	if !ok || time.Until(dl) < 59*time.Minute {
		t.Fatalf("deadline %v, %v; want about an hour from now", dl, ok)
	}
	if ctx.Err() != nil {
		t.Fatalf("Err before the deadline: %v", ctx.Err())
	}
	past := probeContext(context.Background(), -time.Second)
	if !errors.Is(past.Err(), context.DeadlineExceeded) {
		t.Fatalf("Err past the deadline: %v", past.Err())
	}
	// An earlier deadline of the parent stays the one that counts.
	parent, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pd, _ := parent.Deadline()
	if dl, _ := probeContext(parent, time.Hour).Deadline(); !dl.Equal(pd) {
		t.Fatalf("deadline %v, want the parent's %v", dl, pd)
	}
	// The parent's cancellation shows through.
	cancel()
	if !errors.Is(probeContext(parent, time.Hour).Err(), context.Canceled) {
		t.Fatal("a cancelled parent's probe context reports no error")
	}
}
