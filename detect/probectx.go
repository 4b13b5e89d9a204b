package detect

import (
	"context"
	"time"
)

// probeContext is parent with a deadline timeout from now, set without a
// timer, for the probes of a call's hot path (re-validating a cached
// decision, the guard's chain lookups). Those probes only read the
// deadline, which nfnl.Dial turns into the socket's receive timeout. A
// context.WithTimeout would arm a runtime timer, and the first timer of a
// process starts the Go runtime's network poller and wakes another
// thread: more than the probe itself costs a call that lives for a few
// milliseconds.
//
// Done is the parent's, so the context cannot be waited on for its own
// deadline: Err reports the deadline once it has passed, but nothing
// closes a channel then. Use it only where no one selects on Done.
func probeContext(parent context.Context, timeout time.Duration) context.Context {
	d := time.Now().Add(timeout)
	if pd, ok := parent.Deadline(); ok && pd.Before(d) {
		return parent
	}
	return deadlineOnly{Context: parent, deadline: d}
}

type deadlineOnly struct {
	context.Context
	deadline time.Time
}

func (c deadlineOnly) Deadline() (time.Time, bool) { return c.deadline, true }

func (c deadlineOnly) Err() error {
	if err := c.Context.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}
