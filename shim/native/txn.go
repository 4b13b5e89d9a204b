package native

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/nfnl"
	"github.com/iptables-shim/iptables-shim/shim/nftread"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// action is what iptables-nft calls a batch object in its error messages
// ("line 3: RULE_APPEND failed (Invalid argument): rule in chain FOO").
type action string

const (
	actTableAdd   action = "TABLE_ADD"
	actTableFlush action = "TABLE_FLUSH"
	actChainAdd   action = "CHAIN_ADD"
	actChainUser  action = "CHAIN_USER_ADD"
	actChainDel   action = "CHAIN_DEL"
	// actChainUserDel is 1.8.7's name for deleting a user chain.
	actChainUserDel action = "CHAIN_USER_DEL"
	actChainFlush   action = "CHAIN_USER_FLUSH"
	actChainUpdate  action = "CHAIN_UPDATE"
	actRuleAppend   action = "RULE_APPEND"
	actRuleInsert   action = "RULE_INSERT"
	actRuleFlush    action = "RULE_FLUSH"
	actRuleDelete   action = "RULE_DELETE"
	actRuleReplace  action = "RULE_REPLACE"
	actChainRename  action = "CHAIN_RENAME"
	actChainZero    action = "CHAIN_ZERO"
)

// op is one message of a transaction as the caller would describe it.
type op struct {
	line int
	act  action
	// name is the table or chain the message is about; what kind of
	// object it is follows from act.
	name string
}

// object describes the message's object as iptables-nft's errors do:
// "chain FOO", "table filter", "rule in chain FOO".
func (o op) object() string {
	switch o.act {
	case actTableAdd, actTableFlush:
		return "table " + o.name
	case actRuleAppend, actRuleInsert, actRuleDelete, actRuleReplace:
		return "rule in chain " + o.name
	}
	return "chain " + o.name
}

// chainKey names a chain of a table without allocating.
type chainKey struct{ table, chain string }

// Txn is one nf_tables transaction: the messages of one batch, committed
// together or not at all, each remembering which input line asked for it.
// A restore builds one Txn per table section (committed at its COMMIT); a
// single iptables command builds one with a few messages. The generation
// id the Txn was planned against goes into BATCH_BEGIN, so a concurrent
// writer makes the kernel refuse the batch instead of mixing the two.
type Txn struct {
	fam   uint8
	genID uint32
	// userDelNamed names chain deletions CHAIN_USER_DEL in refusals, as
	// iptables-nft 1.8.7 does (it deletes user chains only).
	userDelNamed bool
	batch        *nfnl.Batch
	ops          []op
	// attrs is reused between messages to spare allocations.
	attrs nfnl.Attrs
	// pending holds, per "table\x00chain", the rules added in this
	// transaction, so a later flush can drop them as iptables-nft does.
	pending map[chainKey][]int
	// names holds one copy of every table and chain name kept: names
	// from the parser share their line's memory, which would keep every
	// parsed piece of a large payload alive.
	names map[string]string
	// ids are the transaction ids (NFTA_RULE_ID) given to rules of this
	// transaction, by message index; lastID is the last one given.
	ids    map[int]uint32
	lastID uint32
	// idAt is where in its message's attributes a rule's id value is.
	idAt map[int]int
	// lastRule is the index of the last rule message added.
	lastRule int
}

// nftaRulePositionID is NFTA_RULE_POSITION_ID, which x/sys/unix lacks: the
// transaction id of the rule of the same batch a new rule is placed
// against.
const nftaRulePositionID = unix.NFTA_RULE_ID + 1

// ruleID returns the transaction id of the rule that message msg adds,
// giving it one first. iptables-nft does the same when a later command of
// the batch refers to a rule the kernel does not have yet (-I N, -D N):
// the id goes last in that rule's message.
func (t *Txn) ruleID(msg int) uint32 {
	if id, ok := t.ids[msg]; ok {
		return id
	}
	if t.ids == nil {
		t.ids, t.idAt = map[int]uint32{}, map[int]int{}
	}
	t.lastID++
	id := t.lastID
	t.ids[msg] = id
	var a nfnl.Attrs
	a.U32(unix.NFTA_RULE_ID, id)
	// The value's place in the message, past its header and the
	// attribute's own.
	t.idAt[msg] = len(t.batch.MessageAttrs(msg)) + 4
	t.batch.AppendAttrs(msg, a.B)
	return id
}

// freshRuleID gives the rule message msg adds a new transaction id, as
// iptables-nft 1.8.9 does to a rule of the batch it deletes: a rule placed
// against the rule by its old id then names no rule, and the kernel
// refuses that insert (ENOENT).
func (t *Txn) freshRuleID(msg int) uint32 {
	if _, ok := t.ids[msg]; !ok {
		return t.ruleID(msg)
	}
	t.lastID++
	t.ids[msg] = t.lastID
	binary.BigEndian.PutUint32(t.batch.MessageAttrs(msg)[t.idAt[msg]:], t.lastID)
	return t.lastID
}

// delRuleByID deletes the rule message msg of this transaction adds, as
// iptables-nft deletes a rule the kernel does not have yet: by its
// transaction id.
func (t *Txn) delRuleByID(table, chain string, msg, line int, fresh bool) {
	id := t.ruleID(msg)
	if fresh {
		id = t.freshRuleID(msg)
	}
	t.attrs.String(unix.NFTA_RULE_TABLE, table)
	t.attrs.String(unix.NFTA_RULE_CHAIN, chain)
	t.attrs.U32(unix.NFTA_RULE_ID, id)
	t.add(unix.NFT_MSG_DELRULE, 0, op{line, actRuleDelete, chain})
}

// ruleMessage returns the attributes of message msg (a rule of this
// transaction).
func (t *Txn) ruleMessage(msg int) []byte { return t.batch.MessageAttrs(msg) }

// intern returns the kept copy of name.
func (t *Txn) intern(name string) string {
	if v, ok := t.names[name]; ok {
		return v
	}
	name = strings.Clone(name)
	t.names[name] = name
	return name
}

// newTxn starts a transaction for family fam planned at generation genID.
func newTxn(fam uint8, genID uint32) *Txn {
	return &Txn{fam: fam, genID: genID, batch: nfnl.NewBatch(genID, true), pending: map[chainKey][]int{}, names: map[string]string{}}
}

func (t *Txn) add(msg int, flags uint16, o op) int {
	o.name = t.intern(o.name)
	t.ops = append(t.ops, o)
	i := t.batch.Add(msg, flags, t.fam, t.attrs.B, len(t.ops)-1)
	t.attrs.B = t.attrs.B[:0]
	return i
}

// Len is the number of messages that will be sent.
func (t *Txn) Len() int { return t.batch.Len() }

// dropPending removes the rules this transaction added to chain so far:
// they would be flushed anyway, and not sending them keeps the kernel's
// handle numbering identical to iptables-nft-restore's.
func (t *Txn) dropPending(table, chain string) {
	k := chainKey{table, chain}
	for _, i := range t.pending[k] {
		t.batch.Drop(i)
	}
	delete(t.pending, k)
}

func (t *Txn) addTable(name string, line int) {
	t.attrs.String(unix.NFTA_TABLE_NAME, name)
	t.attrs.U32(unix.NFTA_TABLE_FLAGS, 0)
	t.add(unix.NFT_MSG_NEWTABLE, unix.NLM_F_CREATE, op{line, actTableAdd, name})
}

func (t *Txn) delTable(name string, line int) {
	t.attrs.String(unix.NFTA_TABLE_NAME, name)
	t.add(unix.NFT_MSG_DELTABLE, 0, op{line, actTableFlush, name})
}

// setBaseChain creates a base chain or updates its policy (and counters,
// when given: iptables-nft-restore always passes them for a declared
// built-in chain, which resets them to [0:0] without --counters).
func (t *Txn) setBaseChain(table string, bc *nftread.BuiltinChain, policy uint32, counters *syntax.Counters, line int, act action) {
	a := &t.attrs
	a.String(unix.NFTA_CHAIN_TABLE, table)
	a.String(unix.NFTA_CHAIN_NAME, bc.Name)
	h := a.Nest(unix.NFTA_CHAIN_HOOK)
	a.U32(unix.NFTA_HOOK_HOOKNUM, bc.Hook)
	a.U32(unix.NFTA_HOOK_PRIORITY, uint32(bc.Prio))
	a.End(h)
	if policy != nftread.PolicyNone {
		a.U32(unix.NFTA_CHAIN_POLICY, policy)
	}
	a.String(unix.NFTA_CHAIN_TYPE, bc.Type)
	if counters != nil {
		c := a.Nest(unix.NFTA_CHAIN_COUNTERS)
		a.U64(unix.NFTA_COUNTER_PACKETS, counters.Packets)
		a.U64(unix.NFTA_COUNTER_BYTES, counters.Bytes)
		a.End(c)
	}
	t.add(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, op{line, act, bc.Name})
}

func (t *Txn) addUserChain(table, name string, line int) {
	t.attrs.String(unix.NFTA_CHAIN_TABLE, table)
	t.attrs.String(unix.NFTA_CHAIN_NAME, name)
	t.add(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE|unix.NLM_F_EXCL, op{line, actChainUser, name})
}

func (t *Txn) delChain(table, name string, line int) {
	t.attrs.String(unix.NFTA_CHAIN_TABLE, table)
	t.attrs.String(unix.NFTA_CHAIN_NAME, name)
	act := actChainDel
	if t.userDelNamed {
		act = actChainUserDel
	}
	// Non-recursive, as iptables-nft sends it: a chain that still has
	// rules or references is refused (EBUSY), like legacy's ENOTEMPTY.
	t.add(unix.NFT_MSG_DELCHAIN, unix.NLM_F_NONREC, op{line, act, name})
}

// flushChain deletes every rule of chain.
func (t *Txn) flushChain(table, chain string, line int, act action) {
	t.attrs.String(unix.NFTA_RULE_TABLE, table)
	t.attrs.String(unix.NFTA_RULE_CHAIN, chain)
	t.add(unix.NFT_MSG_DELRULE, 0, op{line, act, chain})
}

// flushTable deletes every rule of every chain of table.
func (t *Txn) flushTable(table string) {
	t.attrs.String(unix.NFTA_RULE_TABLE, table)
	t.add(unix.NFT_MSG_DELRULE, 0, op{0, actRuleFlush, table})
}

// delRule deletes the rule with handle in chain.
func (t *Txn) delRule(table, chain string, handle uint64, line int) {
	t.attrs.String(unix.NFTA_RULE_TABLE, table)
	t.attrs.String(unix.NFTA_RULE_CHAIN, chain)
	t.attrs.U64(unix.NFTA_RULE_HANDLE, handle)
	t.add(unix.NFT_MSG_DELRULE, 0, op{line, actRuleDelete, chain})
}

// addRule appends (or, with appendIt false, prepends) a rule.
func (t *Txn) addRule(table, chain string, r *encodedRule, appendIt bool, line int) error {
	return t.addRuleAt(table, chain, r, rulePlace{appendIt: appendIt}, line)
}

// rulePlace says where a new rule goes: with a reference handle, after
// (appendIt) or before the rule with that handle; without one, at the end
// (appendIt) or the head of the chain. replace replaces the rule with the
// handle instead. refID, when set, names the reference rule by its
// transaction id instead (a rule of the same batch).
type rulePlace struct {
	appendIt bool
	ref      uint64
	refID    uint32
	replace  bool
}

// addRuleAt adds a rule at place, as iptables-nft's RULE_APPEND,
// RULE_INSERT and RULE_REPLACE messages do.
func (t *Txn) addRuleAt(table, chain string, r *encodedRule, place rulePlace, line int) error {
	a := &t.attrs
	a.String(unix.NFTA_RULE_TABLE, table)
	a.String(unix.NFTA_RULE_CHAIN, chain)
	switch {
	case place.replace:
		a.U64(unix.NFTA_RULE_HANDLE, place.ref)
	case place.ref != 0:
		a.U64(unix.NFTA_RULE_POSITION, place.ref)
	}
	l := a.Nest(unix.NFTA_RULE_EXPRESSIONS)
	for _, e := range r.exprs {
		if err := nftread.AppendExpr(a, t.fam, e); err != nil {
			a.B = a.B[:0]
			return err
		}
	}
	a.End(l)
	c := a.Nest(unix.NFTA_RULE_COMPAT)
	a.U32(unix.NFTA_RULE_COMPAT_PROTO, r.proto)
	flags := uint32(0)
	if r.invProto {
		flags = unix.NFT_RULE_COMPAT_F_INV
	}
	a.U32(unix.NFTA_RULE_COMPAT_FLAGS, flags)
	a.End(c)
	if place.refID != 0 && !place.replace {
		a.U32(nftaRulePositionID, place.refID)
	}
	flagsMsg, act := uint16(unix.NLM_F_CREATE|unix.NLM_F_APPEND), actRuleAppend
	switch {
	case place.replace:
		flagsMsg, act = unix.NLM_F_REPLACE, actRuleReplace
	case !place.appendIt:
		flagsMsg, act = unix.NLM_F_CREATE, actRuleInsert
	}
	i := t.add(unix.NFT_MSG_NEWRULE, flagsMsg, op{line, act, chain})
	t.lastRule = i
	k := chainKey{t.intern(table), t.intern(chain)}
	t.pending[k] = append(t.pending[k], i)
	return nil
}

// renameChain gives the chain with handle a new name (iptables -E).
func (t *Txn) renameChain(table string, handle uint64, newName string, line int) {
	t.attrs.String(unix.NFTA_CHAIN_TABLE, table)
	t.attrs.U64(unix.NFTA_CHAIN_HANDLE, handle)
	t.attrs.String(unix.NFTA_CHAIN_NAME, newName)
	t.add(unix.NFT_MSG_NEWCHAIN, 0, op{line, actChainRename, newName})
}

// zeroBaseChain sends a base chain with zero counters, as iptables-nft -Z
// does (it resends the cached chain: hook, policy, type and counters).
func (t *Txn) zeroBaseChain(table string, ch *nftread.ChainInfo, line int) {
	a := &t.attrs
	a.String(unix.NFTA_CHAIN_TABLE, table)
	a.String(unix.NFTA_CHAIN_NAME, ch.Name)
	h := a.Nest(unix.NFTA_CHAIN_HOOK)
	a.U32(unix.NFTA_HOOK_HOOKNUM, ch.Hook)
	a.U32(unix.NFTA_HOOK_PRIORITY, uint32(ch.Prio))
	a.End(h)
	a.U32(unix.NFTA_CHAIN_POLICY, ch.Policy)
	a.String(unix.NFTA_CHAIN_TYPE, ch.Type)
	c := a.Nest(unix.NFTA_CHAIN_COUNTERS)
	a.U64(unix.NFTA_COUNTER_PACKETS, 0)
	a.U64(unix.NFTA_COUNTER_BYTES, 0)
	a.End(c)
	t.add(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, op{line, actChainZero, ch.Name})
}

// commit sends the batch. Kernel refusals become iptables-nft's message
// (an *nftFailure, exit 4): a restore lists every refused message as
// "\nline N: ACTION failed (strerror): object"; a single command prints
// only the first, as " ACTION failed (strerror): object" (iptables-nft
// collects every report but keeps one when it has no line numbers).
func (t *Txn) commit(c nfnl.Transport, single bool) error {
	err := c.Commit(t.batch)
	if err == nil || errors.Is(err, nfnl.ErrGenerationChanged) {
		return err
	}
	var be *nfnl.BatchError
	if !errors.As(err, &be) {
		return &nftread.NFTFailure{Msg: nftread.NFTStrerror(err), Err: err}
	}
	nf := &nftread.NFTFailure{Err: be}
	var b strings.Builder
	for _, f := range be.Failures {
		if single && b.Len() > 0 {
			break
		}
		if f.Index < 0 || f.Tag >= len(t.ops) {
			b.WriteString(" " + nftread.Strerror(f.Err.Errno))
			continue
		}
		o := t.ops[f.Tag]
		if o.line > 0 {
			if nf.Line == 0 {
				nf.Line = o.line
			}
			fmt.Fprintf(&b, "\nline %d:", o.line)
		}
		fmt.Fprintf(&b, " %s failed (%s): %s", o.act, nftread.Strerror(f.Err.Errno), o.object())
	}
	nf.Msg = b.String()
	return nf
}
