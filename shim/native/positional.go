package native

import (
	"strings"

	"github.com/iptables-shim/iptables-shim/internal/nfnl"
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/nftread"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// Restore lines that act on the rules a chain already has (-I CHAIN N, -R,
// -D, -C, -Z, -E, and -X of a built-in chain) are carried out against the
// kernel's rules, with restore's error forms, exactly as the single commands
// are.
//
// Numbered lines (-I N, -R N, -D N) count the chain's rules as the earlier
// lines of the restore leave them, as iptables-nft-restore counts them in
// its cache: the planner keeps, per chain, the kernel's rules it read and
// where rules this restore added sit among them. A number that lands on a
// rule the kernel does not have yet (added by this restore) is refused
// (exit 2, before any batch is sent): iptables-nft refers to those by
// batch-local ids, which the backend does not model. So is any number in
// a chain this restore emptied or declared. The other lines (-C
// and -D by specification, -Z, -E, -X) need the chain exactly as the kernel
// has it: after any earlier line changed the chain they are refused. In a
// restore without --noflush every table section starts by emptying its
// table, so all of them are refused there.

// restoreKernel is what such lines need besides the plan: the socket and
// the kernel state the plan started from.
type restoreKernel struct {
	b    *Backend
	conn nfnl.Transport
	st   *nftread.KernelState
}

// chainModel is what a restore knows about one chain's rules.
type chainModel struct {
	// changed: some earlier line changed the chain's rules.
	changed bool
	// flushed: the kernel's rules are gone (flushed, declared, created).
	flushed bool
	// added: some earlier line added a rule the kernel does not have yet.
	added bool
	// opaque: the rules are no longer known (zeroed, renamed).
	opaque bool
	// head and tail count the rules added at the head and the end before
	// slots was loaded.
	head, tail int
	loaded     bool
	// slots are the chain's rules in order once loaded: the kernel's
	// handle, or 0 for a rule this restore added.
	slots []uint64
}

// ruleModels holds the chainModels of a restore.
type ruleModels struct {
	chains map[chainKey]*chainModel
	// flushed tables start new models flushed; opaque tables refuse
	// every line that needs rules.
	flushed, opaque map[string]bool
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

func (m *chainModel) add(head bool) {
	m.changed, m.added = true, true
	switch {
	case m.loaded && head:
		m.slots = append([]uint64{0}, m.slots...)
	case m.loaded:
		m.slots = append(m.slots, 0)
	case head:
		m.head++
	default:
		m.tail++
	}
}

func (m *chainModel) empty() {
	*m = chainModel{changed: true, flushed: true}
}

// note records what a line that is not carried out against the rules does
// to them (numbered lines update the models themselves; in Supports, which
// has no kernel, noteNumbered stands in).
func (s *ruleModels) note(l *syntax.Line, noflush bool) {
	switch l.Kind {
	case syntax.LineTable:
		if !noflush {
			s.reset(l.Table, true)
		}
	case syntax.LineChain:
		if t := nftread.LookupTable(l.Table); t != nil && t.Builtin(l.Chain.Name) == nil {
			// A declared user chain is emptied (or created).
			s.get(l.Table, l.Chain.Name).empty()
		}
	case syntax.LineCommand:
		c := l.Cmd
		switch c.Op {
		case syntax.OpAppend:
			s.get(c.Table, c.Chain).add(false)
		case syntax.OpInsert:
			if c.RuleNum <= 1 {
				s.get(c.Table, c.Chain).add(true)
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
			if c.Chain == "" {
				s.get(c.Table, "")
				s.opaque[strings.Clone(c.Table)] = true
			} else {
				s.get(c.Table, c.Chain).empty()
			}
		case syntax.OpRename:
			s.get(c.Table, c.Chain).empty()
			s.get(c.Table, c.NewName).opaque = true
		case syntax.OpZero:
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
	if p.models.blocked(c) {
		return refusePositional(c)
	}
	if numbered(c) {
		return p.planNumbered(l)
	}
	m := p.models.get(c.Table, c.Chain)
	if m.changed || m.flushed {
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
				if s == h {
					m.slots = append(m.slots[:i], m.slots[i+1:]...)
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
	var base []uint64
	if t := p.kernel.st.Tables[table]; !m.flushed && t != nil && t.Chains[chain] != nil {
		rules, err := dumpChainRules(p.kernel.conn, nftread.NFProto(p.fam), table, chain)
		if err != nil {
			return ipterr.Wrap(ipterr.Resource, err, err.Error())
		}
		for _, r := range rules {
			base = append(base, r.Handle)
		}
	}
	m.slots = make([]uint64, 0, m.head+len(base)+m.tail)
	m.slots = append(m.slots, make([]uint64, m.head)...)
	m.slots = append(m.slots, base...)
	m.slots = append(m.slots, make([]uint64, m.tail)...)
	m.loaded = true
	return nil
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
	if m.flushed {
		// iptables-nft-restore's cache keeps a redeclared chain's old
		// rules (and numbers them) although the batch flushes them.
		return refusePositional(c)
	}
	if err := p.loadModel(m, c.Table, c.Chain); err != nil {
		return err
	}
	i := c.RuleNum - 1
	pending := func(h uint64) error {
		if h == 0 {
			// Supports, without the kernel, cannot tell which
			// rule a number lands on: both say the chain changed.
			return refusePositional(c)
		}
		return nil
	}
	switch c.Op {
	case syntax.OpInsert:
		var place rulePlace
		switch {
		case i < len(m.slots):
			place = rulePlace{ref: m.slots[i]}
		case i == len(m.slots):
			place = rulePlace{appendIt: true, ref: m.slots[i-1]}
		default:
			return p.failed(l.Num, insertTooBig)
		}
		if err := pending(place.ref); err != nil {
			return err
		}
		p.at = &place
		err := p.planRule(l, vt)
		p.at = nil
		if err != nil {
			return err
		}
		m.slots = append(m.slots[:i], append([]uint64{0}, m.slots[i:]...)...)
		m.added = true
	case syntax.OpReplace:
		if i >= len(m.slots) {
			return p.failed(l.Num, replaceTooBig)
		}
		if err := pending(m.slots[i]); err != nil {
			return err
		}
		p.at = &rulePlace{replace: true, ref: m.slots[i]}
		err := p.planRule(l, vt)
		p.at = nil
		if err != nil {
			return err
		}
		m.slots[i] = 0
		m.added = true
	case syntax.OpDelete:
		if i >= len(m.slots) {
			return p.failed(l.Num, deleteTooBig)
		}
		if err := pending(m.slots[i]); err != nil {
			return err
		}
		p.txn.delRule(vt.spec.Name, c.Chain, m.slots[i], l.Num)
		m.slots = append(m.slots[:i], m.slots[i+1:]...)
	}
	m.changed = true
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
