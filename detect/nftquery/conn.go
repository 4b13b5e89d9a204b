// Package nftquery asks nf_tables about tables, chains and rules. It only
// reads: nothing here can create a table or chain. Requests are small and
// targeted (one named chain, one table's rules, a rule count that stops at
// a limit), so what detection pays does not grow with the ruleset.
//
// It speaks nfnetlink through package nfnl, the transport the native
// backend uses, with nfnl's one timeout policy: the deadline of the context
// a connection is dialled with bounds every receive on it.
package nftquery

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/nfnl"
	"github.com/iptables-shim/iptables-shim/shim/netfilter"
)

// ErrUnavailable means nf_tables cannot be asked at all here (no
// nfnetlink, no nf_tables module, no permission).
var ErrUnavailable = errors.New("nf_tables unavailable")

// Conn is one connection to the nf_tables subsystem. Not safe for
// concurrent use.
type Conn struct {
	tr nfnl.Transport
}

// Dial opens a connection in the calling thread's network namespace. The
// context's deadline bounds every later receive on it: a kernel that never
// answers (iptables-nft 1.8.0-1.8.3 era modules could hang) becomes a
// timeout error, not a stuck caller.
func Dial(ctx context.Context) (*Conn, error) {
	c, err := nfnl.Dial(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("nf_tables probe: %w", context.DeadlineExceeded)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return &Conn{tr: c}, nil
}

// New asks over an open transport (tests give internal/nfnl/fake's).
func New(tr nfnl.Transport) *Conn { return &Conn{tr: tr} }

// Close releases the connection.
func (c *Conn) Close() error { return c.tr.Close() }

// nfproto is the nfgenmsg family byte of an iptables family.
func nfproto(f netfilter.Family) uint8 {
	if f == netfilter.IPv6 {
		return unix.NFPROTO_IPV6
	}
	return unix.NFPROTO_IPV4
}

// FamilyName is the nft family name of an iptables family ("ip", "ip6").
func FamilyName(f netfilter.Family) string {
	if f == netfilter.IPv6 {
		return "ip6"
	}
	return "ip"
}

func msgType(msg int) uint16 { return nfnl.MsgType(nfnl.SubsysNFTables, msg) }

// dump runs a dump and calls fn for every object until fn returns false
// (then the rest of the dump stays queued: the caller must close the
// Conn) or the dump ends.
func (c *Conn) dump(f netfilter.Family, msg int, attrs []byte, fn func(data []byte) bool) error {
	err := c.tr.Dump(msgType(msg), nfproto(f), attrs, func(m nfnl.Message) error {
		if !fn(m.Attrs) {
			return nfnl.ErrStopDump
		}
		return nil
	})
	return timeout(err)
}

// timeout gives a receive timeout the form detection reports.
func timeout(err error) error {
	if errors.Is(err, nfnl.ErrTimeout) {
		return fmt.Errorf("nf_tables probe: no answer: %w", context.DeadlineExceeded)
	}
	return err
}
