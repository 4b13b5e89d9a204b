package fake

import (
	"encoding/binary"
	"slices"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/nfnl"
)

// Commit applies a batch as nfnetlink does: a generation id other than the
// current one refuses the whole batch (nfnl.ErrGenerationChanged, from the
// kernel's ERESTART); otherwise every message is applied in order to the
// ruleset the earlier ones leave, a refused message is reported and
// skipped, and the batch is committed only when none was refused.
func (c *Conn) Commit(b *nfnl.Batch) error {
	if c.closed {
		return kerr(unix.EBADF)
	}
	if b.Len() == 0 {
		return nil
	}
	k := c.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if gen, ok := b.Generation(); ok && gen != k.gen {
		k.Stale++
		return nfnl.ErrGenerationChanged
	}
	run := func(validateEach bool) (*txn, []nfnl.Failure) {
		tx := &txn{k: k, st: k.st.clone(), tableHandle: k.tableHandle, validateEach: validateEach}
		var fails []nfnl.Failure
		b.Each(func(index, tag int, m nfnl.Message) bool {
			if errno := tx.apply(m); errno != 0 {
				fails = append(fails, nfnl.Failure{Index: index, Tag: tag, Err: &nfnl.KernelError{Errno: errno}})
			}
			return true
		})
		// Handles are not given back on abort (nor on a replay).
		k.tableHandle = tx.tableHandle
		return tx, fails
	}
	tx, fails := run(false)
	if len(fails) == 0 && !tx.valid() {
		// The kernel validates the jumps at the commit; when that fails
		// it replays the batch checking the table after every rule, and
		// reports each rule that leaves it invalid.
		tx, fails = run(true)
		if len(fails) == 0 {
			fails = []nfnl.Failure{{Index: -1, Err: &nfnl.KernelError{Errno: unix.EMLINK}}}
		}
	}
	if len(fails) > 0 {
		sort.SliceStable(fails, func(i, j int) bool { return fails[i].Index < fails[j].Index })
		return &nfnl.BatchError{Failures: fails}
	}
	for ch, name := range tx.renames {
		ch.name = name
	}
	k.st = tx.st
	if tx.changed {
		k.gen++
		k.Commits++
	}
	return nil
}

// txn is a batch being applied to a copy of the ruleset.
type txn struct {
	k           *Kernel
	st          *state
	tableHandle uint64
	// changed is false while every message left the ruleset as it was
	// (the kernel then commits nothing and the generation stays).
	changed bool
	// validateEach checks the rule's table after every new rule, as the
	// kernel's replay of a batch that failed validation does.
	validateEach bool
	// renames are the new names of chains renamed in this batch: the
	// kernel gives a chain its new name at the commit, so until then it
	// is found by its old name only.
	renames map[*chain]string
	// ids are the rules this batch added with an NFTA_RULE_ID, which
	// later messages of the batch name them by (NFTA_RULE_POSITION_ID,
	// or NFTA_RULE_ID in a DELRULE).
	ids map[uint32]*rule
}

// nftaRulePositionID is NFTA_RULE_POSITION_ID, which x/sys/unix lacks:
// the transaction id of the rule a new rule is placed against.
const nftaRulePositionID = unix.NFTA_RULE_ID + 1

// ruleByID finds a rule this batch added to ch with transaction id id: -1
// when it is not (or no longer) in ch.
func (tx *txn) ruleByID(ch *chain, id uint32) int {
	r := tx.ids[id]
	if r == nil {
		return -1
	}
	return slices.Index(ch.rules, r)
}

func (tx *txn) apply(m nfnl.Message) unix.Errno {
	if m.Type>>8 != nfnl.SubsysNFTables {
		return unix.EINVAL
	}
	a := parse(m.Attrs)
	fam := m.Family
	switch int(m.Type & 0xff) {
	case unix.NFT_MSG_NEWTABLE:
		return tx.newTable(fam, m.Flags, a)
	case unix.NFT_MSG_DELTABLE:
		return tx.delTable(fam, m.Flags, a)
	case unix.NFT_MSG_NEWCHAIN:
		return tx.newChain(fam, m.Flags, a)
	case unix.NFT_MSG_DELCHAIN:
		return tx.delChain(fam, m.Flags, a)
	case unix.NFT_MSG_NEWRULE:
		return tx.newRule(fam, m.Flags, a)
	case unix.NFT_MSG_DELRULE:
		return tx.delRule(fam, a)
	}
	return unix.EOPNOTSUPP
}

func (tx *txn) newTable(fam uint8, flags uint16, a attrs) unix.Errno {
	name, ok := a.str(unix.NFTA_TABLE_NAME)
	if !ok {
		return unix.EINVAL
	}
	tflags, _ := a.u32(unix.NFTA_TABLE_FLAGS)
	if t := tx.st.table(fam, name); t != nil {
		switch {
		case flags&unix.NLM_F_EXCL != 0:
			return unix.EEXIST
		case flags&unix.NLM_F_REPLACE != 0:
			return unix.EOPNOTSUPP
		}
		if _, given := a[unix.NFTA_TABLE_FLAGS]; given && tflags != t.flags {
			t.flags = tflags
			tx.changed = true
		}
		return 0
	}
	if tflags&^unix.NFT_TABLE_F_DORMANT != 0 {
		return unix.EOPNOTSUPP
	}
	tx.tableHandle++
	tx.st.tables = append(tx.st.tables, &table{family: fam, name: name, handle: tx.tableHandle, flags: tflags, hgen: new(uint64)})
	tx.changed = true
	return 0
}

// lookupTable finds a message's table by handle or name.
func (tx *txn) lookupTable(fam uint8, a attrs, nameAttr, handleAttr uint16) (*table, unix.Errno) {
	if h, ok := a.u64(handleAttr); ok && handleAttr != 0 {
		for _, t := range tx.st.tables {
			if t.family == fam && t.handle == h {
				return t, 0
			}
		}
		return nil, unix.ENOENT
	}
	name, ok := a.str(nameAttr)
	if !ok {
		return nil, unix.EINVAL
	}
	if t := tx.st.table(fam, name); t != nil {
		return t, 0
	}
	return nil, unix.ENOENT
}

func (tx *txn) delTable(fam uint8, flags uint16, a attrs) unix.Errno {
	if _, named := a[unix.NFTA_TABLE_NAME]; !named {
		if _, byHandle := a[nftaTableHandle]; !byHandle {
			// No table named: every table of the family goes.
			for _, t := range slices.Clone(tx.st.tables) {
				if fam == unix.AF_UNSPEC || t.family == fam {
					tx.removeTable(t)
				}
			}
			return 0
		}
	}
	t, errno := tx.lookupTable(fam, a, unix.NFTA_TABLE_NAME, nftaTableHandle)
	if errno != 0 {
		return errno
	}
	if flags&unix.NLM_F_NONREC != 0 && len(t.chains) > 0 {
		return unix.EBUSY
	}
	tx.removeTable(t)
	return 0
}

func (tx *txn) removeTable(t *table) {
	tx.st.tables = slices.DeleteFunc(tx.st.tables, func(x *table) bool { return x == t })
	tx.changed = true
}

// Chain types and the hooks each may attach to (ip and ip6), with the
// lowest priority a nat chain may have.
var chainTypes = map[string]uint32{
	"filter": 1<<unix.NF_INET_PRE_ROUTING | 1<<unix.NF_INET_LOCAL_IN | 1<<unix.NF_INET_FORWARD | 1<<unix.NF_INET_LOCAL_OUT | 1<<unix.NF_INET_POST_ROUTING,
	"nat":    1<<unix.NF_INET_PRE_ROUTING | 1<<unix.NF_INET_LOCAL_IN | 1<<unix.NF_INET_LOCAL_OUT | 1<<unix.NF_INET_POST_ROUTING,
	"route":  1 << unix.NF_INET_LOCAL_OUT,
}

const natMinPriority = -200 // NF_IP_PRI_CONNTRACK: nat chains must come after it

type hookSpec struct {
	num, prio uint32
	typ       string
}

func parseHook(a attrs) (hookSpec, unix.Errno) {
	h := parse(a[unix.NFTA_CHAIN_HOOK])
	num, ok1 := h.u32(unix.NFTA_HOOK_HOOKNUM)
	prio, ok2 := h.u32(unix.NFTA_HOOK_PRIORITY)
	if !ok1 || !ok2 {
		return hookSpec{}, unix.EINVAL
	}
	typ := "filter"
	if s, ok := a.str(unix.NFTA_CHAIN_TYPE); ok {
		typ = s
	}
	mask, known := chainTypes[typ]
	if !known {
		return hookSpec{}, unix.ENOENT
	}
	if num >= 32 || mask&(1<<num) == 0 {
		return hookSpec{}, unix.EOPNOTSUPP
	}
	if typ == "nat" && int32(prio) <= natMinPriority {
		return hookSpec{}, unix.EOPNOTSUPP
	}
	return hookSpec{num, prio, typ}, 0
}

func (tx *txn) newChain(fam uint8, flags uint16, a attrs) unix.Errno {
	t, errno := tx.lookupTable(fam, a, unix.NFTA_CHAIN_TABLE, 0)
	if errno != 0 {
		return errno
	}
	var ch *chain
	handle, byHandle := a.u64(unix.NFTA_CHAIN_HANDLE)
	name, named := a.str(unix.NFTA_CHAIN_NAME)
	switch {
	case byHandle:
		if ch = t.chainByHandle(handle); ch == nil {
			return unix.ENOENT
		}
	case named:
		ch = t.chain(name)
	default:
		return unix.EINVAL
	}
	_, hasHook := a[unix.NFTA_CHAIN_HOOK]
	policy, hasPolicy := a.u32(unix.NFTA_CHAIN_POLICY)
	if hasPolicy {
		if ch != nil && !ch.base || ch == nil && !hasHook {
			return unix.EOPNOTSUPP
		}
		if policy != nfDrop && policy != nfAccept {
			return unix.EINVAL
		}
	}
	counters, hasCounters := parseCounters(a)
	if ch == nil {
		if len(name) >= 256 {
			return unix.ENAMETOOLONG
		}
		ch = &chain{name: name, policy: nfAccept}
		if hasHook {
			h, errno := parseHook(a)
			if errno != 0 {
				return errno
			}
			ch.base, ch.hook, ch.prio, ch.typ = true, h.num, h.prio, h.typ
			if hasPolicy {
				ch.policy = policy
			}
			if hasCounters {
				ch.counters = &counters
			}
		}
		ch.handle = t.nextHandle()
		t.chains = append(t.chains, ch)
		tx.changed = true
		return 0
	}
	switch {
	case flags&unix.NLM_F_EXCL != 0:
		return unix.EEXIST
	case flags&unix.NLM_F_REPLACE != 0:
		return unix.EOPNOTSUPP
	}
	if hasHook {
		if !ch.base {
			return unix.EEXIST
		}
		h, errno := parseHook(a)
		if errno != 0 {
			return errno
		}
		if h.typ != ch.typ {
			return unix.EEXIST
		}
		if h.num != ch.hook || h.prio != ch.prio {
			return unix.EOPNOTSUPP
		}
	}
	if hasCounters && !ch.base {
		return unix.EOPNOTSUPP
	}
	if byHandle && named {
		if t.chain(name) != nil || tx.renamedTo(name) {
			return unix.EEXIST
		}
		if tx.renames == nil {
			tx.renames = map[*chain]string{}
		}
		tx.renames[ch] = name
	}
	if hasPolicy {
		ch.policy = policy
	}
	if hasCounters {
		ch.counters = &counters
	}
	tx.changed = true
	return 0
}

// renamedTo says whether a chain of the batch is being renamed to name.
func (tx *txn) renamedTo(name string) bool {
	for _, n := range tx.renames {
		if n == name {
			return true
		}
	}
	return false
}

func parseCounters(a attrs) ([2]uint64, bool) {
	d, ok := a[unix.NFTA_CHAIN_COUNTERS]
	if !ok {
		return [2]uint64{}, false
	}
	c := parse(d)
	p, _ := c.u64(unix.NFTA_COUNTER_PACKETS)
	b, _ := c.u64(unix.NFTA_COUNTER_BYTES)
	return [2]uint64{p, b}, true
}

// lookupChain finds a message's chain by handle or name in t.
func lookupChain(t *table, a attrs, nameAttr, handleAttr uint16) (*chain, unix.Errno) {
	if h, ok := a.u64(handleAttr); ok {
		if ch := t.chainByHandle(h); ch != nil {
			return ch, 0
		}
		return nil, unix.ENOENT
	}
	name, ok := a.str(nameAttr)
	if !ok {
		return nil, unix.EINVAL
	}
	if ch := t.chain(name); ch != nil {
		return ch, 0
	}
	return nil, unix.ENOENT
}

func (tx *txn) delChain(fam uint8, flags uint16, a attrs) unix.Errno {
	t, errno := tx.lookupTable(fam, a, unix.NFTA_CHAIN_TABLE, 0)
	if errno != 0 {
		return errno
	}
	ch, errno := lookupChain(t, a, unix.NFTA_CHAIN_NAME, unix.NFTA_CHAIN_HANDLE)
	if errno != 0 {
		return errno
	}
	if flags&unix.NLM_F_NONREC != 0 && ch.use() > 0 {
		return unix.EBUSY
	}
	if ch.refs > 0 {
		// The kernel deletes the chain's rules first, then finds the
		// references left: the batch aborts, so the rules stay.
		return unix.EBUSY
	}
	tx.flush(t, ch)
	t.chains = slices.DeleteFunc(t.chains, func(x *chain) bool { return x == ch })
	tx.changed = true
	return 0
}

// flush deletes every rule of ch.
func (tx *txn) flush(t *table, ch *chain) {
	for _, r := range ch.rules {
		tx.release(t, r)
	}
	if len(ch.rules) > 0 {
		tx.changed = true
	}
	ch.rules = nil
}

// release drops the references a rule's jumps hold.
func (tx *txn) release(t *table, r *rule) {
	for _, h := range r.jumps {
		if target := t.chainByHandle(h); target != nil {
			target.refs--
		}
	}
}

// maxExprs is NFT_RULE_MAXEXPRS.
const maxExprs = 128

func (tx *txn) newRule(fam uint8, flags uint16, a attrs) unix.Errno {
	t, errno := tx.lookupTable(fam, a, unix.NFTA_RULE_TABLE, 0)
	if errno != 0 {
		return errno
	}
	ch, errno := lookupChain(t, a, unix.NFTA_RULE_CHAIN, 0)
	if errno != 0 {
		return errno
	}
	old := -1 // index of the rule replaced, or placed against
	var handle uint64
	if h, ok := a.u64(unix.NFTA_RULE_HANDLE); ok {
		i := ruleIndex(ch, h)
		switch {
		case i < 0:
			return unix.ENOENT
		case flags&unix.NLM_F_EXCL != 0:
			return unix.EEXIST
		case flags&unix.NLM_F_REPLACE == 0:
			return unix.EOPNOTSUPP
		}
		old, handle = i, h
	} else {
		if flags&unix.NLM_F_CREATE == 0 || flags&unix.NLM_F_REPLACE != 0 {
			return unix.EINVAL
		}
		handle = t.nextHandle()
		if pos, ok := a.u64(unix.NFTA_RULE_POSITION); ok {
			if old = ruleIndex(ch, pos); old < 0 {
				return unix.ENOENT
			}
		} else if id, ok := a.u32(nftaRulePositionID); ok {
			// Placed against a rule of this batch.
			if old = tx.ruleByID(ch, id); old < 0 {
				return unix.ENOENT
			}
		}
	}
	r := &rule{handle: handle, exprs: a[unix.NFTA_RULE_EXPRESSIONS]}
	if r.exprs != nil {
		r.exprs = asDumped(clearNested(slices.Clone(r.exprs)))
	}
	if u, ok := a[unix.NFTA_RULE_USERDATA]; ok {
		r.userdata = slices.Clone(u)
	}
	jumps, errno := tx.checkExprs(fam, t, ch, r.exprs)
	if errno != 0 {
		return errno
	}
	r.jumps = jumps
	for _, h := range jumps {
		t.chainByHandle(h).refs++
	}
	if id, ok := a.u32(unix.NFTA_RULE_ID); ok {
		if tx.ids == nil {
			tx.ids = map[uint32]*rule{}
		}
		tx.ids[id] = r
	}
	switch {
	case flags&unix.NLM_F_REPLACE != 0:
		tx.release(t, ch.rules[old])
		ch.rules[old] = r
	case flags&unix.NLM_F_APPEND != 0 && old >= 0:
		ch.rules = slices.Insert(ch.rules, old+1, r)
	case flags&unix.NLM_F_APPEND != 0:
		ch.rules = append(ch.rules, r)
	case old >= 0:
		ch.rules = slices.Insert(ch.rules, old, r)
	default:
		ch.rules = slices.Insert(ch.rules, 0, r)
	}
	tx.changed = true
	if tx.validateEach {
		// The rule stays in the (doomed) batch either way, so the
		// rules after it are judged with it, as the kernel does.
		return validate(t)
	}
	return 0
}

// jumpStackSize is NFT_JUMP_STACK_SIZE: how deep jumps and gotos may nest
// below a base chain; a loop reached from one runs into it.
const jumpStackSize = 16

// valid says whether every table of the batch's ruleset validates.
func (tx *txn) valid() bool {
	for _, t := range tx.st.tables {
		if validate(t) != 0 {
			return false
		}
	}
	return true
}

// validate walks the jumps and gotos from each base chain of t, as the
// kernel's table validation does: EMLINK when they nest deeper than the
// kernel's jump stack (which every loop a base chain reaches does). Chains
// no base chain reaches are not looked at.
func validate(t *table) unix.Errno {
	byHandle := make(map[uint64]*chain, len(t.chains))
	for _, c := range t.chains {
		byHandle[c.handle] = c
	}
	// okFrom[c] is the deepest level c was found valid from: from any
	// shallower one it is valid too.
	okFrom := map[*chain]int{}
	var walk func(c *chain, level int) unix.Errno
	walk = func(c *chain, level int) unix.Errno {
		if level == jumpStackSize {
			return unix.EMLINK
		}
		if l, ok := okFrom[c]; ok && level <= l {
			return 0
		}
		for _, r := range c.rules {
			for _, h := range r.jumps {
				if target := byHandle[h]; target != nil {
					if errno := walk(target, level+1); errno != 0 {
						return errno
					}
				}
			}
		}
		okFrom[c] = max(okFrom[c], level)
		return 0
	}
	for _, c := range t.chains {
		if c.base {
			if errno := walk(c, 0); errno != 0 {
				return errno
			}
		}
	}
	return 0
}

func ruleIndex(ch *chain, handle uint64) int {
	return slices.IndexFunc(ch.rules, func(r *rule) bool { return r.handle == handle })
}

// knownExprs are the expression types the fake accepts (those of
// nf_tables' core and the modules iptables-nft uses).
var knownExprs = map[string]bool{
	"immediate": true, "cmp": true, "payload": true, "meta": true, "bitwise": true,
	"counter": true, "match": true, "target": true, "lookup": true, "ct": true,
	"range": true, "byteorder": true, "limit": true, "log": true, "reject": true,
	"nat": true, "masq": true, "redir": true, "exthdr": true, "quota": true,
}

// targetRestrictions are the x_tables targets that name the one table
// they work in ("" for any) and the hooks they may run at: x_tables
// refuses them elsewhere (EINVAL), the hooks checked only in base chains,
// as nft_compat does when a rule is added.
var targetRestrictions = map[string]struct {
	table string
	hooks uint32
}{
	"DNAT":       {"nat", 1<<unix.NF_INET_PRE_ROUTING | 1<<unix.NF_INET_LOCAL_OUT},
	"SNAT":       {"nat", 1<<unix.NF_INET_POST_ROUTING | 1<<unix.NF_INET_LOCAL_IN},
	"MASQUERADE": {"nat", 1 << unix.NF_INET_POST_ROUTING},
	"REDIRECT":   {"nat", 1<<unix.NF_INET_PRE_ROUTING | 1<<unix.NF_INET_LOCAL_OUT},
	"NETMAP":     {"nat", 1<<unix.NF_INET_PRE_ROUTING | 1<<unix.NF_INET_POST_ROUTING | 1<<unix.NF_INET_LOCAL_OUT | 1<<unix.NF_INET_LOCAL_IN},
	"REJECT":     {"filter", 1<<unix.NF_INET_LOCAL_IN | 1<<unix.NF_INET_FORWARD | 1<<unix.NF_INET_LOCAL_OUT},
	"CT":         {"raw", 1<<unix.NF_INET_PRE_ROUTING | 1<<unix.NF_INET_LOCAL_OUT},
	"NOTRACK":    {"raw", 1<<unix.NF_INET_PRE_ROUTING | 1<<unix.NF_INET_LOCAL_OUT},
	"TPROXY":     {"mangle", 1 << unix.NF_INET_PRE_ROUTING},
	"TCPOPTSTRIP": {"mangle", 1<<unix.NF_INET_PRE_ROUTING | 1<<unix.NF_INET_LOCAL_IN | 1<<unix.NF_INET_FORWARD |
		1<<unix.NF_INET_LOCAL_OUT | 1<<unix.NF_INET_POST_ROUTING},
	"DNPT":     {"mangle", 1<<unix.NF_INET_PRE_ROUTING | 1<<unix.NF_INET_LOCAL_OUT},
	"SNPT":     {"mangle", 1<<unix.NF_INET_LOCAL_IN | 1<<unix.NF_INET_POST_ROUTING},
	"SYNPROXY": {"", 1<<unix.NF_INET_LOCAL_IN | 1<<unix.NF_INET_FORWARD},
}

// targetInfoChecks are the checkentry tests of x_tables targets on their
// info that the fake models (EINVAL when they fail).
var targetInfoChecks = map[string]func(info []byte) bool{
	// xt_HMARK: a modulus, and SPI tests not mixed with port tests.
	"HMARK": func(info []byte) bool {
		if len(info) < 56 {
			return false
		}
		const spi, spiMask, sport, dport, sportMask, dportMask = 1 << 2, 1 << 3, 1 << 4, 1 << 5, 1 << 6, 1 << 7
		flags := binary.NativeEndian.Uint32(info[40:])
		return binary.NativeEndian.Uint32(info[52:]) != 0 &&
			!(flags&spiMask != 0 && flags&(sportMask|dportMask) != 0) &&
			!(flags&spi != 0 && flags&(sport|dport) != 0)
	},
}

// checkExprs checks an expression list's shape and returns the chains its
// verdicts jump or go to: an unknown expression or extension and a jump to
// a missing chain are ENOENT, a jump to a base chain EOPNOTSUPP.
func (tx *txn) checkExprs(fam uint8, t *table, ch *chain, b []byte) ([]uint64, unix.Errno) {
	var jumps []uint64
	n := 0
	for el := nfnl.Scan(b); el.Next(); {
		if el.Type != unix.NFTA_LIST_ELEM {
			return nil, unix.EINVAL
		}
		if n++; n > maxExprs {
			return nil, unix.EINVAL
		}
		e := parse(el.Data)
		name, ok := e.str(unix.NFTA_EXPR_NAME)
		if !ok {
			return nil, unix.EINVAL
		}
		if !knownExprs[name] {
			return nil, unix.ENOENT
		}
		data := parse(e[unix.NFTA_EXPR_DATA])
		switch name {
		case "match", "target":
			ext, ok1 := data.str(unix.NFTA_MATCH_NAME)
			rev, ok2 := data.u32(unix.NFTA_MATCH_REV)
			if _, ok3 := data[unix.NFTA_MATCH_INFO]; !ok1 || !ok2 || !ok3 {
				return nil, unix.EINVAL
			}
			if !tx.k.hasExtension(fam, ext, rev, name == "target") {
				return nil, unix.ENOENT
			}
			if name == "match" && ext == "nfacct" {
				// The info starts with the object's name, char[32].
				info := data[unix.NFTA_MATCH_INFO]
				acct := nfnl.Attr{Data: info[:min(len(info), 32)]}.String()
				if !tx.k.NFAcct[acct] {
					return nil, unix.ENOENT
				}
			}
			if r, ok := targetRestrictions[ext]; ok && name == "target" {
				if r.table != "" && r.table != t.name || ch.base && r.hooks&(1<<ch.hook) == 0 {
					return nil, unix.EINVAL
				}
			}
			if check, ok := targetInfoChecks[ext]; ok && name == "target" && !check(data[unix.NFTA_MATCH_INFO]) {
				return nil, unix.EINVAL
			}
		case "immediate":
			v := parse(parse(data[unix.NFTA_IMMEDIATE_DATA])[unix.NFTA_DATA_VERDICT])
			code, ok := v.u32(unix.NFTA_VERDICT_CODE)
			if !ok || (int32(code) != unix.NFT_JUMP && int32(code) != unix.NFT_GOTO) {
				continue
			}
			target, ok := v.str(unix.NFTA_VERDICT_CHAIN)
			if !ok {
				return nil, unix.EINVAL
			}
			ch := t.chain(target)
			switch {
			case ch == nil:
				return nil, unix.ENOENT
			case ch.base:
				return nil, unix.EOPNOTSUPP
			}
			jumps = append(jumps, ch.handle)
		}
	}
	return jumps, 0
}

func (tx *txn) delRule(fam uint8, a attrs) unix.Errno {
	t, errno := tx.lookupTable(fam, a, unix.NFTA_RULE_TABLE, 0)
	if errno != 0 {
		return errno
	}
	if _, ok := a[unix.NFTA_RULE_CHAIN]; !ok {
		for _, ch := range t.chains {
			tx.flush(t, ch)
		}
		return 0
	}
	ch, errno := lookupChain(t, a, unix.NFTA_RULE_CHAIN, 0)
	if errno != 0 {
		return errno
	}
	h, ok := a.u64(unix.NFTA_RULE_HANDLE)
	id, byID := a.u32(unix.NFTA_RULE_ID)
	if !ok && !byID {
		tx.flush(t, ch)
		return 0
	}
	i := ruleIndex(ch, h)
	if !ok {
		i = tx.ruleByID(ch, id)
	}
	if i < 0 {
		return unix.ENOENT
	}
	tx.release(t, ch.rules[i])
	ch.rules = slices.Delete(ch.rules, i, i+1)
	tx.changed = true
	return 0
}

// asDumped re-encodes an expression list as the kernel dumps it: without
// NLA_F_NESTED, and with the attributes a 6.x kernel adds to what
// iptables-nft sends (a bitwise expression's operation).
func asDumped(exprs []byte) []byte {
	var out nfnl.Attrs
	for el := nfnl.Scan(exprs); el.Next(); {
		var name string
		for e := nfnl.Scan(el.Data); e.Next(); {
			if e.Type == unix.NFTA_EXPR_NAME {
				name = e.String()
			}
		}
		if name == "log" {
			out.Bytes(unix.NFTA_LIST_ELEM, logAsDumped(el.Data))
			continue
		}
		if name != "bitwise" {
			out.Bytes(unix.NFTA_LIST_ELEM, el.Data)
			continue
		}
		elem := out.Nest(unix.NFTA_LIST_ELEM)
		for e := nfnl.Scan(el.Data); e.Next(); {
			if e.Type != unix.NFTA_EXPR_DATA {
				out.Bytes(e.Type, e.Data)
				continue
			}
			d := out.Nest(unix.NFTA_EXPR_DATA)
			hasOp := false
			for f := nfnl.Scan(e.Data); f.Next(); {
				hasOp = hasOp || f.Type == nftaBitwiseOp
			}
			for f := nfnl.Scan(e.Data); f.Next(); {
				if f.Type == nftaBitwiseMask && !hasOp {
					out.U32(nftaBitwiseOp, 0) // NFT_BITWISE_BOOL
				}
				out.Bytes(f.Type, f.Data)
			}
			out.End(d)
		}
		out.End(elem)
	}
	return clearNested(out.B)
}

// logDumpRank is the order nft_log's dump writes its attributes in:
// the prefix, then the group, snaplen and queue threshold (nflog) or the
// level and flags (syslog), whatever order they were sent in.
var logDumpRank = map[uint16]int{
	unix.NFTA_LOG_PREFIX: 0, unix.NFTA_LOG_GROUP: 1, unix.NFTA_LOG_SNAPLEN: 2,
	unix.NFTA_LOG_QTHRESHOLD: 3, unix.NFTA_LOG_LEVEL: 4, unix.NFTA_LOG_FLAGS: 5,
}

// logAsDumped re-encodes one log expression (its list element's content)
// with its data attributes in the kernel's dump order.
func logAsDumped(elem []byte) []byte {
	var out nfnl.Attrs
	for e := nfnl.Scan(elem); e.Next(); {
		if e.Type&^unix.NLA_F_NESTED != unix.NFTA_EXPR_DATA {
			out.Bytes(e.Type, e.Data)
			continue
		}
		type attr struct {
			typ  uint16
			data []byte
		}
		var attrs []attr
		for f := nfnl.Scan(e.Data); f.Next(); {
			attrs = append(attrs, attr{f.Type, f.Data})
		}
		slices.SortStableFunc(attrs, func(a, b attr) int { return logDumpRank[a.typ] - logDumpRank[b.typ] })
		d := out.Nest(unix.NFTA_EXPR_DATA)
		for _, a := range attrs {
			out.Bytes(a.typ, a.data)
		}
		out.End(d)
	}
	return clearNested(out.B)
}

// clearNested clears NLA_F_NESTED in an attribute stream, recursively, as
// the kernel's dump leaves it out (nla_nest_start_noflag): the stored
// expressions then read back byte for byte as the kernel's do.
func clearNested(b []byte) []byte {
	for rest := b; len(rest) >= 4; {
		l := int(binary.NativeEndian.Uint16(rest))
		typ := binary.NativeEndian.Uint16(rest[2:])
		if l < 4 || l > len(rest) {
			break
		}
		if typ&unix.NLA_F_NESTED != 0 {
			binary.NativeEndian.PutUint16(rest[2:], typ&^unix.NLA_F_NESTED)
			clearNested(rest[4:l])
		}
		l = (l + 3) &^ 3
		if l > len(rest) {
			break
		}
		rest = rest[l:]
	}
	return b
}
