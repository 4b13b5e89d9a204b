package native

import (
	"errors"
	"slices"
	"strings"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/nfnl"
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/nftread"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// Restore lines that act on the rules a chain already has (-I CHAIN N, -R,
// -D, -C, -Z, -E, and -X of a built-in chain) are carried out against the
// kernel's rules, with restore's error forms, exactly as the single commands
// are.
//
// The planner keeps, per chain, the rules as iptables-nft-restore's cache
// holds them after the earlier lines: the kernel's rules it read (by
// handle) and the rules this restore added (by the message that adds
// them). A line naming a rule the kernel does not have yet names it as
// iptables-nft does, by a transaction id given to that rule's message
// (NFTA_RULE_POSITION_ID for -I N, NFTA_RULE_ID for -D); a rule -R
// replaced keeps its handle, as in iptables-nft's cache. -D and -C by
// specification search the same list. -Z resends the kernel's base chains
// and the kernel's rules that are still there, as iptables-nft's cache
// walk does. Refused (exit 2, before any batch is sent): -R of a rule the
// kernel does not have yet (iptables-nft 1.8.9 crashes on it), numbered
// lines in a chain a --noflush restore re-declared while the kernel has
// rules in it (iptables-nft's cache keeps and numbers the old rules,
// which the batch flushes), -E after changes, and lines on a chain renamed
// earlier.

// restoreKernel is what such lines need besides the plan: the socket and
// the kernel state the plan started from.
type restoreKernel struct {
	b    *Backend
	conn nfnl.Transport
	st   *nftread.KernelState
}

// ruleSlot is one rule of a chain as the earlier lines of a restore leave
// it.
type ruleSlot struct {
	// handle is the kernel's handle of the rule, or of the rule a -R
	// line replaced with this one; 0 for a rule this restore added.
	handle uint64
	// msg is 1 + the index of the message that adds the rule in the
	// transaction; 0 for a rule the kernel has.
	msg int
}

// chainModel is what a restore knows about one chain's rules.
type chainModel struct {
	// changed: some earlier line changed the chain's rules.
	changed bool
	// flushed: the kernel's rules are gone (flushed, declared, created).
	flushed bool
	// stale: a --noflush restore re-declared the chain; iptables-nft's
	// cache still holds (and numbers) the kernel's rules.
	stale bool
	// added: some earlier line added a rule the kernel does not have yet.
	added bool
	// opaque: the rules are no longer known (renamed).
	opaque bool
	// counted: a rule this restore added has counters of its own (-c,
	// or [p:b] with --counters), which -Z would have to zero.
	counted bool
	// head and tail are the rules added at the head (in chain order) and
	// the end before slots was loaded.
	head, tail []ruleSlot
	loaded     bool
	// slots are the chain's rules in order once loaded.
	slots []ruleSlot
}

// ruleModels holds the chainModels of a restore.
type ruleModels struct {
	chains map[chainKey]*chainModel
	// flushed tables start new models flushed; opaque tables refuse
	// every line that needs rules.
	flushed, opaque map[string]bool
	// xed are the tables a -X without a chain emptied of chains in
	// iptables-nft-restore's cache: it forgets the built-in chains too
	// (the kernel keeps those it did not delete), so a later -Z of the
	// table zeroes nothing and lines naming a chain's rules are refused.
	xed map[string]bool
	// xedKept are the built-in chains the kernel kept through such a -X.
	xedKept map[chainKey]bool
	// planned is set when the planner, which knows the messages, keeps
	// the models (Supports keeps them without a kernel or messages):
	// rules added are then recorded by addedRules, and -X and -Z
	// leave the models usable.
	planned bool
}

func (s *ruleModels) get(table, chain string) *chainModel {
	if s.chains == nil {
		s.chains, s.flushed, s.opaque = map[chainKey]*chainModel{}, map[string]bool{}, map[string]bool{}
	}
	k := chainKey{table, chain}
	m := s.chains[k]
	if m == nil {
		f := s.flushed[table]
		m = &chainModel{flushed: f, changed: f}
		s.chains[chainKey{strings.Clone(table), strings.Clone(chain)}] = m
	}
	return m
}

// reset forgets a table's models: every chain starts over, flushed or not.
func (s *ruleModels) reset(table string, flushed bool) {
	s.get(table, "")
	for k := range s.chains {
		if k.table == table {
			delete(s.chains, k)
		}
	}
	s.flushed[strings.Clone(table)] = flushed
}

func (m *chainModel) add(head bool, r ruleSlot) {
	m.changed, m.added = true, true
	switch {
	case m.loaded && head:
		m.slots = slices.Insert(m.slots, 0, r)
	case m.loaded:
		m.slots = append(m.slots, r)
	case head:
		m.head = slices.Insert(m.head, 0, r)
	default:
		m.tail = append(m.tail, r)
	}
}

func (m *chainModel) empty() {
	*m = chainModel{changed: true, flushed: true}
}

// addedRules records the rules a line appending or inserting at the head
// added (msgs, the indexes of their messages): one per address when -s or
// -d expanded to several.
func (s *ruleModels) addedRules(c *syntax.Command, msgs []int, counters bool) {
	m := s.get(c.Table, c.Chain)
	for _, i := range msgs {
		m.add(c.Op == syntax.OpInsert, ruleSlot{msg: i + 1})
	}
	if counters && len(msgs) > 0 && c.Rule != nil && c.Rule.Counters != nil &&
		(c.Rule.Counters.Packets != 0 || c.Rule.Counters.Bytes != 0) {
		m.counted = true
	}
}

// refuseXedBuiltin refuses a rule for a built-in chain the kernel kept
// through an earlier -X without a chain of the same restore: iptables-nft
// 1.8.9 puts the chain back in its cache as new and sends it again, with an
// ACCEPT policy whatever the kernel's, and places rules against the rules
// it forgot in ways the backend does not model.
func (p *planner) refuseXedBuiltin(c *syntax.Command) error {
	if !p.models.xedKept[chainKey{c.Table, c.Chain}] {
		return nil
	}
	return refuseXedBuiltin.err(c.Chain)
}

// builtinsAdded reports whether a line after a -X without a chain added
// rules to a built-in chain of table (which puts the chain back in
// iptables-nft's cache).
func (s *ruleModels) builtinsAdded(table string) bool {
	for k, m := range s.chains {
		if k.table == table && m.added && nftread.LookupTable(table).Builtin(k.chain) != nil {
			return true
		}
	}
	return false
}

// sectionEnded is a COMMIT: the rules the section added are in the
// kernel from now on, by handles the plan does not know, so a chain
// holding any is no longer known (its later positional lines are
// refused).
func (s *ruleModels) sectionEnded() {
	for _, m := range s.chains {
		if m.added {
			m.opaque = true
		}
	}
	for t := range s.xed {
		s.get(t, "")
		s.opaque[t] = true
	}
	s.xed, s.xedKept = nil, nil
}

// addsRules reports whether c appends or inserts at the head (the lines
// whose rules addedRules records).
func addsRules(c *syntax.Command) bool {
	return c.Op == syntax.OpAppend || c.Op == syntax.OpInsert && c.RuleNum <= 1
}

// note records what a line that is not carried out against the rules does
// to them (numbered lines update the models themselves; in Supports, which
// has no kernel, noteNumbered stands in).
func (s *ruleModels) note(l *syntax.Line, noflush bool) {
	switch l.Kind {
	case syntax.LineTable:
		if !s.planned {
			// A new section reads a fresh cache (the planner's own
			// models know the end of a section: sectionEnded).
			delete(s.xed, l.Table)
		}
		if !noflush {
			s.reset(l.Table, true)
		}
	case syntax.LineChain:
		if t := nftread.LookupTable(l.Table); t != nil && t.Builtin(l.Chain.Name) == nil {
			// A declared user chain is emptied (or created).
			m := s.get(l.Table, l.Chain.Name)
			m.empty()
			m.stale = noflush
		}
	case syntax.LineCommand:
		c := l.Cmd
		switch c.Op {
		case syntax.OpAppend, syntax.OpInsert:
			if !s.planned && addsRules(c) {
				s.get(c.Table, c.Chain).add(c.Op == syntax.OpInsert, ruleSlot{})
			}
		case syntax.OpNewChain:
			s.get(c.Table, c.Chain).empty()
		case syntax.OpPolicy:
			// -X of a built-in chain depends on its policy.
			s.get(c.Table, c.Chain).changed = true
		case syntax.OpFlush:
			if c.Chain == "" {
				s.reset(c.Table, true)
			} else {
				s.get(c.Table, c.Chain).empty()
			}
		case syntax.OpDeleteChain:
			switch {
			case c.Chain != "":
				s.get(c.Table, c.Chain).empty()
			case !s.planned:
				s.get(c.Table, "")
				s.opaque[strings.Clone(c.Table)] = true
				if s.xed == nil {
					s.xed = map[string]bool{}
				}
				s.xed[strings.Clone(c.Table)] = true
			}
			// The planner empties the models of the chains it
			// deletes (planDeleteChain).
		case syntax.OpRename:
			s.get(c.Table, c.Chain).empty()
			s.get(c.Table, c.NewName).opaque = true
		case syntax.OpZero:
			if s.planned {
				// The planner's -Z keeps the models (zeroChanged).
				break
			}
			if c.Chain == "" {
				s.get(c.Table, "")
				s.opaque[strings.Clone(c.Table)] = true
			} else {
				m := s.get(c.Table, c.Chain)
				m.opaque, m.changed = true, true
			}
		case syntax.OpDelete:
			if c.Rule != nil {
				// By specification: the model was loaded to
				// check the chain; see planPositional.
				s.get(c.Table, c.Chain).changed = true
			}
		}
	}
}

// numbered reports whether c names a rule by its number.
func numbered(c *syntax.Command) bool {
	switch c.Op {
	case syntax.OpInsert:
		return c.RuleNum > 1
	case syntax.OpReplace:
		return true
	case syntax.OpDelete:
		return c.Rule == nil
	}
	return false
}

// positional reports whether c acts on the rules its chain already has.
func positional(c *syntax.Command) bool {
	if numbered(c) {
		return true
	}
	switch c.Op {
	case syntax.OpDelete, syntax.OpCheck, syntax.OpZero, syntax.OpRename:
		return true
	case syntax.OpDeleteChain:
		t := nftread.LookupTable(c.Table)
		return c.Chain != "" && t != nil && t.Builtin(c.Chain) != nil
	}
	return false
}

func refusePositional(c *syntax.Command) error {
	what := "chain " + c.Chain
	if c.Chain == "" {
		what = "table " + c.Table
	}
	return refuseChanged.err(opFlag(c), what)
}

// checkStatic is Supports' check of a positional line, without the
// kernel: numbered lines are refused once rules were added to the chain
// (or it was emptied), the others once it was changed at all. It is
// stricter than the planner, so what it lets through the planner never
// refuses.
func (s *ruleModels) checkStatic(c *syntax.Command) error {
	if s.xed[c.Table] {
		// Which built-in chains the -X deleted depends on the kernel:
		// a rule for any of them is refused, as the planner refuses
		// one for a chain the kernel kept.
		if addsRules(c) || c.Op == syntax.OpInsert {
			if t := nftread.LookupTable(c.Table); t != nil && t.Builtin(c.Chain) != nil {
				return refuseXedBuiltin.err(c.Chain)
			}
		}
		if c.Op == syntax.OpDeleteChain && c.Chain == "" {
			return refuseXedAgain.err(c.Table)
		}
	}
	if !positional(c) {
		return nil
	}
	if s.blocked(c) {
		return refusePositional(c)
	}
	if numbered(c) {
		m := s.get(c.Table, c.Chain)
		if m.added || m.flushed {
			return refusePositional(c)
		}
		m.changed = true
		if c.Op != syntax.OpDelete {
			m.added = true
		}
		return nil
	}
	if m := s.get(c.Table, c.Chain); m.changed || m.flushed {
		return refusePositional(c)
	}
	return nil
}

// blocked reports what no positional line can act on: an opaque table or
// chain, a renamed-to name, or (for a line on the whole table, -Z) a table
// any line changed.
func (s *ruleModels) blocked(c *syntax.Command) bool {
	s.get(c.Table, "")
	if s.opaque[c.Table] {
		return true
	}
	if c.Chain == "" {
		for k, m := range s.chains {
			if k.table == c.Table && (m.changed || m.opaque) {
				return true
			}
		}
		return s.flushed[c.Table]
	}
	if s.get(c.Table, c.Chain).opaque {
		return true
	}
	if c.NewName != "" {
		if m := s.get(c.Table, c.NewName); m.changed || m.opaque || m.flushed {
			return true
		}
	}
	return false
}

func opFlag(c *syntax.Command) string {
	switch c.Op {
	case syntax.OpInsert:
		return "-I with a rule number"
	case syntax.OpDeleteChain:
		return "-X of a built-in chain"
	}
	return opName(c.Op)
}

// planPositional carries out a positional restore line.
func (p *planner) planPositional(l *syntax.Line) error {
	c := l.Cmd
	if p.models.xed[c.Table] {
		switch {
		case c.Op == syntax.OpZero && c.Chain == "":
			// The cache has no chains, unless later lines put
			// built-in ones back (with an ACCEPT policy, which -Z
			// would then send).
			if p.models.builtinsAdded(c.Table) {
				return refusePositional(c)
			}
			return nil
		case numbered(c) || c.Op == syntax.OpDelete || c.Op == syntax.OpCheck:
			if c.Op == syntax.OpInsert {
				if err := p.refuseXedBuiltin(c); err != nil {
					return err
				}
			}
			if nftread.LookupTable(c.Table).Builtin(c.Chain) != nil && !p.models.get(c.Table, c.Chain).added &&
				c.Op != syntax.OpInsert {
				// Not in the cache: iptables-nft says so.
				return p.failed(l.Num, noChain)
			}
		default:
			return refusePositional(c)
		}
	}
	if c.Op == syntax.OpZero && c.RuleNum == 0 && p.zeroNeedsModel(c) {
		return p.zeroChanged(l)
	}
	if p.models.blocked(c) {
		return refusePositional(c)
	}
	if numbered(c) {
		return p.planNumbered(l)
	}
	m := p.models.get(c.Table, c.Chain)
	if m.changed || m.flushed {
		if (c.Op == syntax.OpDelete || c.Op == syntax.OpCheck) && c.Rule != nil && !m.stale {
			return p.planSpecChanged(l, m)
		}
		return refusePositional(c)
	}
	k := p.kernel
	r := &cmdRun{b: k.b, conn: k.conn, call: &backend.Call{Family: p.fam}, cmd: c, st: k.st,
		fam: nftread.NFProto(p.fam), protos: p.protos, p: p, line: l.Num}
	if err := r.run(); err != nil {
		return p.restoreForm(err, l.Num)
	}
	switch c.Op {
	case syntax.OpRename:
		vt := p.table(c.Table)
		delete(vt.chains, c.Chain)
		vt.chains[p.txn.intern(c.NewName)] = false
	case syntax.OpDelete:
		// The rule deleted is the first the kernel has that matches
		// (none was changed before): drop it from the model.
		if err := p.loadModel(m, c.Table, c.Chain); err != nil {
			return err
		}
		if h, ok := r.deleted(); ok {
			for i, s := range m.slots {
				if s.handle == h && s.msg == 0 {
					m.slots = slices.Delete(m.slots, i, i+1)
					break
				}
			}
		}
	}
	p.models.note(l, p.opts.NoFlush)
	return nil
}

// loadModel reads the chain's rules from the kernel into m, once.
func (p *planner) loadModel(m *chainModel, table, chain string) error {
	if m.loaded {
		return nil
	}
	var base []nftread.DumpedRule
	if t := p.kernel.st.Tables[table]; !m.flushed && t != nil && t.Chains[chain] != nil {
		rules, err := dumpChainRules(p.kernel.conn, nftread.NFProto(p.fam), table, chain)
		if err != nil {
			return ipterr.Wrap(ipterr.Resource, err, err.Error())
		}
		base = rules
	}
	m.slots = make([]ruleSlot, 0, len(m.head)+len(base)+len(m.tail))
	m.slots = append(m.slots, m.head...)
	for _, r := range base {
		m.slots = append(m.slots, ruleSlot{handle: r.Handle})
	}
	m.slots = append(m.slots, m.tail...)
	m.head, m.tail = nil, nil
	m.loaded = true
	return nil
}

// staleRules reports whether a chain a --noflush restore re-declared has
// rules in the kernel, which iptables-nft-restore's cache keeps numbering
// although the batch flushes them.
func (p *planner) staleRules(m *chainModel, table, chain string) (bool, error) {
	if !m.stale {
		return false, nil
	}
	t := p.kernel.st.Tables[table]
	if t == nil || t.Chains[chain] == nil {
		return false, nil
	}
	rules, err := dumpChainRules(p.kernel.conn, nftread.NFProto(p.fam), table, chain)
	if err != nil {
		return false, ipterr.Wrap(ipterr.Resource, err, err.Error())
	}
	return len(rules) > 0, nil
}

// place is where a new rule goes against slot r: before it, or after it
// with appendIt; by handle when it has one, else by its transaction id.
func (p *planner) place(r ruleSlot, appendIt bool) rulePlace {
	if r.handle != 0 {
		return rulePlace{appendIt: appendIt, ref: r.handle}
	}
	return rulePlace{appendIt: appendIt, refID: p.txn.ruleID(r.msg - 1)}
}

// planNumbered carries out -I CHAIN N, -R CHAIN N or -D CHAIN N against
// the chain's rules as the earlier lines leave them.
func (p *planner) planNumbered(l *syntax.Line) error {
	c := l.Cmd
	vt := p.table(c.Table)
	if _, ok := vt.chains[c.Chain]; !ok && (c.Op != syntax.OpInsert || vt.spec.Builtin(c.Chain) == nil) {
		return p.failed(l.Num, noChain)
	}
	m := p.models.get(c.Table, c.Chain)
	if stale, err := p.staleRules(m, c.Table, c.Chain); err != nil {
		return err
	} else if stale {
		return refusePositional(c)
	}
	if err := p.loadModel(m, c.Table, c.Chain); err != nil {
		return err
	}
	i := c.RuleNum - 1
	k := chainKey{c.Table, c.Chain}
	switch c.Op {
	case syntax.OpInsert:
		var place rulePlace
		switch {
		case i < len(m.slots):
			place = p.place(m.slots[i], false)
		case i == len(m.slots):
			// One past the end: iptables-nft appends the rule, with
			// no reference to the rule before it.
			place = rulePlace{appendIt: true}
		default:
			return p.failed(l.Num, insertTooBig)
		}
		n0 := len(p.txn.pending[k])
		p.at = &place
		err := p.planRule(l, vt)
		p.at = nil
		if err != nil {
			return err
		}
		for _, msg := range p.txn.pending[k][n0:] {
			m.slots = slices.Insert(m.slots, i, ruleSlot{msg: msg + 1})
		}
		m.added = true
	case syntax.OpReplace:
		if i >= len(m.slots) {
			return p.failed(l.Num, replaceTooBig)
		}
		old := m.slots[i]
		if old.handle == 0 {
			// iptables-nft 1.8.9 crashes on it.
			return refusePositional(c)
		}
		p.at = &rulePlace{replace: true, ref: old.handle}
		err := p.planRule(l, vt)
		p.at = nil
		if err != nil {
			return err
		}
		// iptables-nft's cache gives the replacement the handle of the
		// rule it replaces.
		m.slots[i] = ruleSlot{handle: old.handle, msg: p.txn.lastRule + 1}
		m.added = true
	case syntax.OpDelete:
		if i >= len(m.slots) {
			return p.failed(l.Num, deleteTooBig)
		}
		p.deleteSlot(vt, c.Chain, m, i, l.Num)
	}
	m.changed = true
	return nil
}

// deleteSlot deletes the rule at slot i of chain's model, as iptables-nft
// does: by handle when it has one, else by transaction id.
func (p *planner) deleteSlot(vt *viewTable, chain string, m *chainModel, i, line int) {
	r := m.slots[i]
	if r.handle != 0 {
		p.txn.delRule(vt.spec.Name, chain, r.handle, line)
	} else {
		// 1.8.9 gives the rule a new id to delete it by; 1.8.11 keeps
		// the one a rule placed against it already uses.
		p.txn.delRuleByID(vt.spec.Name, chain, r.msg-1, line, p.opts.Dialect.Or() != dialect.V1811)
	}
	m.slots = slices.Delete(m.slots, i, i+1)
}

// slotExprs returns the expressions of the rule in slot r: from this
// transaction's message when the restore added (or replaced) it, else
// from the kernel's rules (kernel, by handle).
func (p *planner) slotExprs(r ruleSlot, kernel map[uint64][]expr.Any) ([]expr.Any, bool) {
	if r.msg == 0 {
		es, ok := kernel[r.handle]
		return es, ok
	}
	for a := nfnl.Scan(p.txn.ruleMessage(r.msg - 1)); a.Next(); {
		if a.Type == unix.NFTA_RULE_EXPRESSIONS {
			es, err := nftread.DecodeExprs(nftread.NFProto(p.fam), a.Data)
			return es, err == nil
		}
	}
	return nil, false
}

// planSpecChanged carries out -D or -C by specification on a chain earlier
// lines changed: the first rule of the chain as they left it that equals
// the line's rule (iptables-nft searches its cache, which holds the rules
// of the batch too).
func (p *planner) planSpecChanged(l *syntax.Line, m *chainModel) error {
	c := l.Cmd
	vt := p.table(c.Table)
	if _, ok := vt.chains[c.Chain]; !ok {
		return p.restoreForm(shortError(notFoundRule), l.Num)
	}
	if err := p.loadModel(m, c.Table, c.Chain); err != nil {
		return err
	}
	isChain := func(name string) bool { base, ok := vt.chains[name]; return ok && !base }
	matcher, err := p.kernel.b.newRuleMatcher(p.fam, c, isChain, p.protos)
	if err != nil {
		var mc *missingChainError
		if errors.As(err, &mc) {
			return p.restoreForm(mc.error, l.Num)
		}
		return err
	}
	kernel := map[uint64][]expr.Any{}
	comments := map[uint64]string{}
	for _, r := range m.slots {
		if r.msg == 0 {
			rules, err := dumpChainRules(p.kernel.conn, nftread.NFProto(p.fam), c.Table, c.Chain)
			if err != nil {
				return ipterr.Wrap(ipterr.Resource, err, err.Error())
			}
			for _, d := range rules {
				kernel[d.Handle] = d.Exprs
				comments[d.Handle] = d.Comment
			}
			break
		}
	}
	for i, r := range m.slots {
		es, ok := p.slotExprs(r, kernel)
		if !ok || !matcher.matches(es, comments[r.handle]) {
			continue
		}
		if c.Op == syntax.OpDelete {
			p.deleteSlot(vt, c.Chain, m, i, l.Num)
			m.changed = true
		}
		return nil
	}
	return p.restoreForm(shortError(notFoundRule), l.Num)
}

// zeroNeedsModel reports whether -Z c comes after lines that changed what
// it zeroes, so the kernel's state alone does not say what to resend.
func (p *planner) zeroNeedsModel(c *syntax.Command) bool {
	if p.models.blocked(c) {
		return true
	}
	m := p.models.get(c.Table, c.Chain)
	return c.Chain != "" && (m.changed || m.flushed)
}

// zeroChanged is -Z (of a table or a chain) in a restore, as iptables-nft
// carries it out against its cache: every base chain the kernel has and
// the batch kept is resent with zero counters (with the kernel's policy:
// the cache does not see a -P of the same batch), and every rule the
// kernel has and the batch kept is replaced by itself with a zero
// counter. Rules the batch added have zero counters already, unless they
// came with counters of their own (refused: iptables-nft resends them
// without a handle, which the kernel refuses).
func (p *planner) zeroChanged(l *syntax.Line) error {
	c := l.Cmd
	vt := p.table(c.Table)
	if c.Chain != "" {
		if _, ok := vt.chains[c.Chain]; !ok {
			return p.failed(l.Num, noChain)
		}
	}
	kt := p.kernel.st.Tables[c.Table]
	if kt == nil {
		return nil
	}
	for _, lc := range nftread.ListedChains(kt, c.Chain) {
		ch := lc.Info
		if ch == nil {
			continue
		}
		if _, ok := vt.chains[ch.Name]; !ok {
			continue
		}
		m := p.models.get(c.Table, ch.Name)
		if m.opaque || p.models.opaque[c.Table] || m.stale && !m.flushed {
			return refusePositional(c)
		}
		if m.counted {
			// iptables-nft resends such a rule without a handle,
			// which the kernel refuses.
			return refusePositional(c)
		}
		if ch.Base {
			p.txn.zeroBaseChain(kt.Name, ch, l.Num)
		}
		if m.flushed {
			continue
		}
		if err := p.loadModel(m, c.Table, ch.Name); err != nil {
			return err
		}
		rules, err := dumpChainRules(p.kernel.conn, nftread.NFProto(p.fam), c.Table, ch.Name)
		if err != nil {
			return ipterr.Wrap(ipterr.Resource, err, err.Error())
		}
		byHandle := map[uint64]*nftread.DumpedRule{}
		for i := range rules {
			byHandle[rules[i].Handle] = &rules[i]
		}
		r := &cmdRun{b: p.kernel.b, conn: p.kernel.conn, call: &backend.Call{Family: p.fam}, cmd: c, st: p.kernel.st,
			fam: nftread.NFProto(p.fam), protos: p.protos, p: p, line: l.Num}
		for _, s := range m.slots {
			if s.msg != 0 {
				continue
			}
			if d := byHandle[s.handle]; d != nil {
				if err := r.resendZeroed(ch.Name, d, false); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// restoreForm gives an error the single-command form takes ("iptables:
// MSG.") its restore form ("line N failed: MSG.").
func (p *planner) restoreForm(err error, line int) error {
	d := syntax.DiagnosticOf(err)
	if d == nil || d.Form != syntax.FormShort {
		return err
	}
	return nftread.LineFailed(line, strings.TrimSuffix(d.Template, "."))
}
