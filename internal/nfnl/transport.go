package nfnl

import "context"

// Transport is what the native backend asks of an nf_tables connection:
// requests, dumps, atomic batches, the generation id and extension
// revision probes. *Conn is the kernel's; package fake has an
// in-memory one for tests that cannot create network namespaces.
type Transport interface {
	// Request sends one message and returns the replies before its ACK;
	// a refusal is a *KernelError.
	Request(typ uint16, flags uint16, family uint8, attrs []byte) ([]Message, error)
	// Dump runs a dump request, calling fn for every object; msg.Attrs is
	// only valid during the call. fn returning ErrStopDump ends the dump
	// early (Dump returns nil).
	Dump(typ uint16, family uint8, attrs []byte, fn func(Message) error) error
	// Commit applies a batch completely or not at all (see Conn.Commit
	// for the errors).
	Commit(b *Batch) error
	// GenID is the current ruleset generation.
	GenID() (uint32, error)
	// HasExtension says whether the x_tables match or target name exists
	// at revision rev or newer.
	HasExtension(family uint8, name string, rev uint32, target bool) (bool, error)
	// Close releases the connection.
	Close() error
}

// Opener opens a Transport in the calling thread's network namespace; the
// kernel's bounds its receives by ctx's deadline (see Dial).
type Opener func(ctx context.Context) (Transport, error)

// DialTransport is the Opener of the kernel's nf_tables: Dial, as a
// Transport.
func DialTransport(ctx context.Context) (Transport, error) {
	c, err := Dial(ctx)
	if err != nil {
		return nil, err
	}
	return c, nil
}

var _ Transport = (*Conn)(nil)
