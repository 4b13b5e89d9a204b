package native

import (
	"strings"

	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/native/nfnl"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// Restore lines that act on the rules a chain already has (-I CHAIN N,
// -R, -D, -C, -Z, -E, and -X of a built-in chain) are carried out against
// the kernel's rules, exactly as the single commands are, as long as no
// earlier line of the same restore changed that chain: iptables-nft-restore
// then counts the rules this restore added but has not yet committed, which
// the backend does not model, so such a line is refused (exit 2, before any
// batch is sent) rather than applied at a guessed position. In a restore
// without --noflush every table section starts by emptying its table, so
// all of them are refused there.

// restoreKernel is what such lines need besides the plan: the socket and
// the kernel state the plan started from.
type restoreKernel struct {
	b    *Backend
	conn *nfnl.Conn
	st   *kernelState
}

// touchSet records which chains earlier lines of a restore changed; chain
// "" stands for the whole table.
type touchSet struct {
	chains map[chainKey]bool
	tables map[string]bool
}

func (s *touchSet) mark(table, chain string) {
	if s.chains == nil {
		s.chains, s.tables = map[chainKey]bool{}, map[string]bool{}
	}
	s.chains[chainKey{strings.Clone(table), strings.Clone(chain)}] = true
	s.tables[strings.Clone(table)] = true
}

// has reports whether the chain (or, for "", any chain of the table) was
// changed.
func (s *touchSet) has(table, chain string) bool {
	if chain == "" {
		return s.tables[table]
	}
	return s.chains[chainKey{table, ""}] || s.chains[chainKey{table, chain}]
}

// note records what line l changes.
func (s *touchSet) note(l *syntax.Line, noflush bool) {
	switch l.Kind {
	case syntax.LineTable:
		if !noflush {
			s.mark(l.Table, "")
		}
	case syntax.LineChain:
		s.mark(l.Table, l.Chain.Name)
	case syntax.LineCommand:
		c := l.Cmd
		switch c.Op {
		case syntax.OpCheck, syntax.OpList, syntax.OpListRules:
			return
		}
		s.mark(c.Table, c.Chain)
		if c.NewName != "" {
			s.mark(c.Table, c.NewName)
		}
	}
}

// positional reports whether c acts on the rules its chain already has.
func positional(c *syntax.Command) bool {
	switch c.Op {
	case syntax.OpInsert:
		return c.RuleNum > 1
	case syntax.OpReplace, syntax.OpDelete, syntax.OpCheck, syntax.OpZero, syntax.OpRename:
		return true
	case syntax.OpDeleteChain:
		t := lookupTable(c.Table)
		return c.Chain != "" && t != nil && t.builtin(c.Chain) != nil
	}
	return false
}

// checkPositional refuses a positional line on a chain earlier lines
// changed.
func (s *touchSet) checkPositional(c *syntax.Command) error {
	if !positional(c) {
		return nil
	}
	if s.has(c.Table, c.Chain) || (c.NewName != "" && s.has(c.Table, c.NewName)) {
		what := "chain " + c.Chain
		if c.Chain == "" {
			what = "table " + c.Table
		}
		return unsupportedf("%s on %s after earlier lines of the restore changed it", opFlag(c), what)
	}
	return nil
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

// planPositional carries out a positional restore line against the kernel
// state, with restore's error forms.
func (p *planner) planPositional(l *syntax.Line) error {
	k := p.kernel
	r := &cmdRun{b: k.b, conn: k.conn, call: &backend.Call{Family: p.fam}, cmd: l.Cmd, st: k.st,
		fam: nfproto(p.fam), protos: p.protos, p: p, line: l.Num}
	err := r.run()
	if err != nil {
		return p.restoreForm(err, l.Num)
	}
	if l.Cmd.Op == syntax.OpRename {
		vt := p.table(l.Cmd.Table)
		delete(vt.chains, l.Cmd.Chain)
		vt.chains[p.txn.intern(l.Cmd.NewName)] = false
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
	return lineFailed(line, strings.TrimSuffix(d.Template, "."))
}
