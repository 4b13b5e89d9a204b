// Package fake is an in-memory nf_tables behind nfnl.Transport, so the
// native backend's planner, save, -C/-D and the guard run in tests without
// root or network namespaces.
//
// It keeps what the native backend sends and reads back: tables, chains
// (base chains with hook, priority, type, policy and counters), rules as
// the NFTA_RULE_EXPRESSIONS bytes they were sent with (in the form a 6.x
// kernel dumps them: without NLA_F_NESTED, a bitwise expression with its
// operation), handles from a per-table generator that aborted batches do
// not rewind, positions, reference counts, the ruleset generation id, and
// batches that apply completely or not at all. Its refusals carry the
// errno the kernel gives for the same message (ENOENT, EEXIST, EBUSY,
// EOPNOTSUPP, EINVAL, ERESTART for a stale generation), and a failed batch
// reports every refused message, as nfnetlink does. Jumps are validated
// at the commit as the kernel validates them (EMLINK past its jump stack,
// which any loop a base chain reaches runs into), and x_tables targets
// bound to a table and hooks (DNAT, REJECT, ...) are refused elsewhere.
// Revision probes answer from a table of a 6.x kernel's x_tables
// extensions.
//
// shim/native's TestFakeKernelMatches keeps it true: it sends the same
// hand-built batches and the same native backend calls to a namespace's
// kernel and to the fake and compares outcomes and dumps, byte for byte.
// What it does not model: what expressions mean (it checks a list's shape,
// expression and extension names and jump targets, not each extension's
// checkentry: a REJECT --reject-with tcp-reset without -p tcp is
// accepted), rule counters (dumped as sent, as a kernel that saw no packet
// would), nfacct objects other than by name (NFAcct), dumps interrupted by
// a concurrent commit (a dump is taken at once; InterruptDumps simulates
// them), sets, other objects and flowtables, families other than ip and
// ip6, and the new name of a renamed chain inside the rules that jump to
// it.
package fake

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/nfnl"
)

// Kernel is one network namespace's nf_tables. It is safe for concurrent
// use by several connections (Open), as the kernel is.
type Kernel struct {
	mu sync.Mutex
	st *state
	// gen is the ruleset generation: it moves with every committed batch.
	gen uint32
	// tableHandle is the last table handle handed out; like the kernel's,
	// it is not given back when a batch aborts.
	tableHandle uint64
	// Extensions says whether the kernel has revision rev of the
	// x_tables match (or target) name for family; nil means the table
	// Extensions returns. It answers revision probes and decides which match and target
	// expressions a rule may carry.
	Extensions func(family uint8, name string, rev uint32, target bool) bool
	// Commits counts the batches the kernel committed; Stale those it
	// refused for carrying an old generation id.
	Commits, Stale int
	// NFAcct are the names of the nfacct objects that exist: x_tables'
	// nfacct match refuses a name that is not one (ENOENT).
	NFAcct map[string]bool
	// InterruptDumps makes that many of the next dumps end with
	// nfnl.ErrDumpInterrupted after their messages, as the kernel's do
	// when another writer commits during a dump (the fake's own dumps are
	// taken at once and never are otherwise).
	InterruptDumps int
}

// New returns an empty nf_tables, at generation 1 like a fresh namespace.
func New() *Kernel { return &Kernel{st: &state{}, gen: 1} }

// Open returns a new connection to k.
func (k *Kernel) Open() (nfnl.Transport, error) { return &Conn{k: k}, nil }

// Opener returns an nfnl.Opener of connections to k (the context is not
// used: the fake always answers at once).
func (k *Kernel) Opener() nfnl.Opener {
	return func(context.Context) (nfnl.Transport, error) { return k.Open() }
}

// state is the ruleset; a batch works on a copy of it.
type state struct {
	tables []*table
}

type table struct {
	family uint8
	name   string
	handle uint64
	flags  uint32
	chains []*chain
	// hgen is the generator of chain and rule handles, shared with the
	// table's copies: handles used by an aborted batch stay used.
	hgen *uint64
}

type chain struct {
	name   string
	handle uint64
	base   bool
	hook   uint32
	prio   uint32
	typ    string
	policy uint32
	// counters is nil until a message gives the base chain counters.
	counters *[2]uint64
	rules    []*rule
	// refs counts the jumps and gotos to the chain.
	refs uint32
}

type rule struct {
	handle   uint64
	exprs    []byte // NFTA_RULE_EXPRESSIONS' payload, as the kernel dumps it
	userdata []byte
	// jumps are the handles of the chains the rule's verdicts jump or
	// go to.
	jumps []uint64
}

func (c *chain) use() uint32 { return uint32(len(c.rules)) + c.refs }

func (t *table) chain(name string) *chain {
	for _, c := range t.chains {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (t *table) chainByHandle(h uint64) *chain {
	for _, c := range t.chains {
		if c.handle == h {
			return c
		}
	}
	return nil
}

func (t *table) nextHandle() uint64 {
	*t.hgen++
	return *t.hgen
}

func (s *state) table(family uint8, name string) *table {
	for _, t := range s.tables {
		if t.family == family && t.name == name {
			return t
		}
	}
	return nil
}

// clone copies the ruleset deep enough for a batch to change the copy:
// rules are replaced, never changed in place, so they are shared.
func (s *state) clone() *state {
	n := &state{tables: make([]*table, len(s.tables))}
	for i, t := range s.tables {
		nt := *t
		nt.chains = make([]*chain, len(t.chains))
		for j, c := range t.chains {
			nc := *c
			nc.rules = slices.Clone(c.rules)
			if c.counters != nil {
				cnt := *c.counters
				nc.counters = &cnt
			}
			nt.chains[j] = &nc
		}
		n.tables[i] = &nt
	}
	return n
}

// Conn is one connection to a Kernel.
type Conn struct {
	k      *Kernel
	closed bool
}

var _ nfnl.Transport = (*Conn)(nil)

// Close ends the connection.
func (c *Conn) Close() error {
	c.closed = true
	return nil
}

func kerr(errno unix.Errno) error { return &nfnl.KernelError{Errno: errno} }

// GenID returns the ruleset generation.
func (c *Conn) GenID() (uint32, error) {
	msgs, err := c.Request(nfnl.MsgType(nfnl.SubsysNFTables, unix.NFT_MSG_GETGEN), 0, unix.AF_UNSPEC, nil)
	if err != nil {
		return 0, err
	}
	for a := nfnl.Scan(msgs[0].Attrs); a.Next(); {
		if a.Type == unix.NFTA_GEN_ID {
			return a.U32(), nil
		}
	}
	return 0, fmt.Errorf("fake: no generation id")
}

// HasExtension answers a revision probe as nfnetlink_compat would.
func (c *Conn) HasExtension(family uint8, name string, rev uint32, target bool) (bool, error) {
	if c.closed {
		return false, kerr(unix.EBADF)
	}
	return c.k.hasExtension(family, name, rev, target), nil
}

func (k *Kernel) hasExtension(family uint8, name string, rev uint32, target bool) bool {
	if k.Extensions == nil {
		return defaultExtension(family, name, rev, target)
	}
	return k.Extensions(family, name, rev, target)
}

// Request answers GETGEN, GETTABLE and GETCHAIN for one object, as the
// kernel does (ENOENT for what does not exist).
func (c *Conn) Request(typ uint16, flags uint16, family uint8, attrs []byte) ([]nfnl.Message, error) {
	if c.closed {
		return nil, kerr(unix.EBADF)
	}
	k := c.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if typ>>8 != nfnl.SubsysNFTables {
		return nil, kerr(unix.EOPNOTSUPP)
	}
	a := parse(attrs)
	switch int(typ & 0xff) {
	case unix.NFT_MSG_GETGEN:
		var b nfnl.Attrs
		b.U32(unix.NFTA_GEN_ID, k.gen)
		return []nfnl.Message{{Type: nfnl.MsgType(nfnl.SubsysNFTables, unix.NFT_MSG_NEWGEN), Attrs: b.B}}, nil
	case unix.NFT_MSG_GETTABLE:
		name, ok := a.str(unix.NFTA_TABLE_NAME)
		if !ok {
			return nil, kerr(unix.EINVAL)
		}
		t := k.st.table(family, name)
		if t == nil {
			return nil, kerr(unix.ENOENT)
		}
		return []nfnl.Message{tableMsg(t)}, nil
	case unix.NFT_MSG_GETCHAIN:
		tn, ok1 := a.str(unix.NFTA_CHAIN_TABLE)
		cn, ok2 := a.str(unix.NFTA_CHAIN_NAME)
		if !ok1 || !ok2 {
			return nil, kerr(unix.EINVAL)
		}
		t := k.st.table(family, tn)
		if t == nil {
			return nil, kerr(unix.ENOENT)
		}
		ch := t.chain(cn)
		if ch == nil {
			return nil, kerr(unix.ENOENT)
		}
		return []nfnl.Message{chainMsg(t, ch)}, nil
	}
	return nil, kerr(unix.EOPNOTSUPP)
}

// Dump lists tables, chains or rules of a family (every family for
// AF_UNSPEC), in the kernel's order: tables and chains as they were
// created, rules in chain order. Chain dumps may be limited to a table,
// rule dumps to a table and a chain.
func (c *Conn) Dump(typ uint16, family uint8, attrs []byte, fn func(nfnl.Message) error) error {
	if c.closed {
		return kerr(unix.EBADF)
	}
	k := c.k
	k.mu.Lock()
	var msgs []nfnl.Message
	a := parse(attrs)
	match := func(t *table, attr uint16) bool {
		if family != unix.AF_UNSPEC && t.family != family {
			return false
		}
		n, ok := a.str(attr)
		return !ok || n == t.name
	}
	switch int(typ & 0xff) {
	case unix.NFT_MSG_GETTABLE:
		for _, t := range k.st.tables {
			if family == unix.AF_UNSPEC || t.family == family {
				msgs = append(msgs, tableMsg(t))
			}
		}
	case unix.NFT_MSG_GETCHAIN:
		for _, t := range k.st.tables {
			if match(t, unix.NFTA_CHAIN_TABLE) {
				for _, ch := range t.chains {
					msgs = append(msgs, chainMsg(t, ch))
				}
			}
		}
	case unix.NFT_MSG_GETRULE:
		cn, byChain := a.str(unix.NFTA_RULE_CHAIN)
		for _, t := range k.st.tables {
			if !match(t, unix.NFTA_RULE_TABLE) {
				continue
			}
			for _, ch := range t.chains {
				if byChain && ch.name != cn {
					continue
				}
				for i, r := range ch.rules {
					var prev *rule
					if i > 0 {
						prev = ch.rules[i-1]
					}
					msgs = append(msgs, ruleMsg(t, ch, r, prev))
				}
			}
		}
	default:
		k.mu.Unlock()
		return kerr(unix.EOPNOTSUPP)
	}
	interrupted := k.InterruptDumps > 0
	if interrupted {
		k.InterruptDumps--
	}
	k.mu.Unlock()
	for _, m := range msgs {
		m.Flags = unix.NLM_F_MULTI
		if err := fn(m); err != nil {
			if err == nfnl.ErrStopDump {
				return nil
			}
			return err
		}
	}
	if interrupted {
		return nfnl.ErrDumpInterrupted
	}
	return nil
}

func tableMsg(t *table) nfnl.Message {
	var b nfnl.Attrs
	b.String(unix.NFTA_TABLE_NAME, t.name)
	b.U32(unix.NFTA_TABLE_USE, uint32(len(t.chains)))
	b.U64(nftaTableHandle, t.handle)
	b.U32(unix.NFTA_TABLE_FLAGS, t.flags)
	return nfnl.Message{Type: nfnl.MsgType(nfnl.SubsysNFTables, unix.NFT_MSG_NEWTABLE), Family: t.family, Attrs: clearNested(b.B)}
}

func chainMsg(t *table, ch *chain) nfnl.Message {
	var b nfnl.Attrs
	b.String(unix.NFTA_CHAIN_TABLE, t.name)
	b.String(unix.NFTA_CHAIN_NAME, ch.name)
	b.U64(unix.NFTA_CHAIN_HANDLE, ch.handle)
	if ch.base {
		h := b.Nest(unix.NFTA_CHAIN_HOOK)
		b.U32(unix.NFTA_HOOK_HOOKNUM, ch.hook)
		b.U32(unix.NFTA_HOOK_PRIORITY, ch.prio)
		b.End(h)
		b.U32(unix.NFTA_CHAIN_POLICY, ch.policy)
		b.String(unix.NFTA_CHAIN_TYPE, ch.typ)
		if ch.counters != nil {
			n := b.Nest(unix.NFTA_CHAIN_COUNTERS)
			b.U64(unix.NFTA_COUNTER_PACKETS, ch.counters[0])
			b.U64(unix.NFTA_COUNTER_BYTES, ch.counters[1])
			b.End(n)
		}
		b.U32(nftaChainFlags, nftChainBase)
	}
	b.U32(unix.NFTA_CHAIN_USE, ch.use())
	return nfnl.Message{Type: nfnl.MsgType(nfnl.SubsysNFTables, unix.NFT_MSG_NEWCHAIN), Family: t.family, Attrs: clearNested(b.B)}
}

func ruleMsg(t *table, ch *chain, r, prev *rule) nfnl.Message {
	var b nfnl.Attrs
	b.String(unix.NFTA_RULE_TABLE, t.name)
	b.String(unix.NFTA_RULE_CHAIN, ch.name)
	b.U64(unix.NFTA_RULE_HANDLE, r.handle)
	if prev != nil {
		b.U64(unix.NFTA_RULE_POSITION, prev.handle)
	}
	// The kernel nests without NLA_F_NESTED; r.exprs has none already.
	b.Bytes(unix.NFTA_RULE_EXPRESSIONS, r.exprs)
	if r.userdata != nil {
		b.Bytes(unix.NFTA_RULE_USERDATA, r.userdata)
	}
	return nfnl.Message{Type: nfnl.MsgType(nfnl.SubsysNFTables, unix.NFT_MSG_NEWRULE), Family: t.family, Attrs: b.B}
}

// attrs is a message's top-level attributes by type.
type attrs map[uint16][]byte

func parse(b []byte) attrs {
	m := attrs{}
	for a := nfnl.Scan(b); a.Next(); {
		if _, dup := m[a.Type]; !dup {
			m[a.Type] = a.Data
		}
	}
	return m
}

func (a attrs) str(typ uint16) (string, bool) {
	d, ok := a[typ]
	if !ok {
		return "", false
	}
	return nfnl.Attr{Data: d}.String(), true
}

func (a attrs) u32(typ uint16) (uint32, bool) {
	d, ok := a[typ]
	if !ok || len(d) != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(d), true
}

func (a attrs) u64(typ uint16) (uint64, bool) {
	d, ok := a[typ]
	if !ok || len(d) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(d), true
}

// Attributes and flags of nf_tables.h that x/sys does not define.
const (
	nftaTableHandle = 4   // NFTA_TABLE_HANDLE
	nftaChainFlags  = 10  // NFTA_CHAIN_FLAGS
	nftChainBase    = 0x1 // NFT_CHAIN_BASE
)

// Bitwise attributes x/sys does not define (NFTA_BITWISE_OP, _MASK).
const (
	nftaBitwiseOp   = 6
	nftaBitwiseMask = 4
)

// Netfilter verdicts a base chain's policy may be.
const (
	nfDrop   = 0 // NF_DROP
	nfAccept = 1 // NF_ACCEPT
)
