// Package guard is the missing-chain guard: before a call reaches a backend
// it finds the chains the call jumps to that nobody created (kube-proxy 1.13
// jumps to KUBE-MARK-DROP and leaves it to kubelet, which may have written
// it into the other backend), and adds them, with the contents kubelet would
// have given them, to the same restore transaction.
//
// It never creates the backend-detection markers (KUBE-IPTABLES-HINT and the
// canaries), never touches a chain that exists, and never mistakes a target
// extension for a chain.
package guard

import (
	"fmt"
	"sort"
	"strings"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// Chains tells which chains exist in the backend and family a call goes to.
type Chains interface {
	// Existing returns the subset of names that exist in table.
	Existing(table string, names []string) (map[string]bool, error)
}

// Settings are the guard's knobs (see config: guard, unknown-chains,
// drop-bit, masquerade-bit, guard-companion-chains, guard-era).
type Settings struct {
	Catalog Catalog
	// CreateUnknown creates chains the catalog does not know, empty. When
	// false they are left missing and the call fails as iptables would.
	CreateUnknown bool
	// Companions also creates kubelet's companion chains (filter
	// KUBE-FIREWALL, which drops what KUBE-MARK-DROP marks, hooked into
	// INPUT and OUTPUT) when the guard creates KUBE-MARK-DROP.
	Companions bool
}

// Creation is one chain the guard adds.
type Creation struct {
	Table string
	Chain string
	// Line is the restore line that first jumps to the chain (0 for a
	// single command or a companion).
	Line int
	// Rules are the chain's contents as restore lines ("-A CHAIN ...").
	Rules []string
	// Known is false for a chain the catalog does not know (created empty).
	Known bool
	// Companion is set for a chain created because another one was.
	Companion bool
}

// Why says why the chain is created, for the log and doctor.
func (c Creation) Why() string {
	switch {
	case c.Companion:
		return "kubelet creates it with KUBE-MARK-DROP (companion chains are on)"
	case c.Line > 0:
		return fmt.Sprintf("the payload at line %d jumps to it", c.Line)
	}
	return "the command jumps to it"
}

// Skip is a referenced chain the guard chose not to create.
type Skip struct {
	Table, Chain string
	Line         int
	Reason       string
}

// Plan is what the guard adds to one call.
type Plan struct {
	Creations []Creation
	Skipped   []Skip
}

// Empty reports whether the plan creates nothing.
func (p Plan) Empty() bool { return len(p.Creations) == 0 }

// IsChainTarget reports whether a rule's target names a chain rather than a
// verdict or a target extension: a name iptables would look up as a chain.
// Besides the modules iptables 1.8.9 ships (syntax), every target Linux has
// had counts as an extension, so an image with an older or newer iptables
// never gets a chain named like one of its targets.
func IsChainTarget(t *syntax.Target, fam syntax.Family) bool {
	if t == nil || t.Known || len(t.Options) > 0 {
		return false
	}
	return t.ChainJump(fam) && !isKernelTarget(t.Name)
}

// reference is a jump to a chain that the input itself does not create.
type reference struct {
	table, chain string
	line         int
}

// PlanRestore finds the chains a restore payload jumps to that are neither
// built in, declared by the payload, nor (under --noflush) present in the
// backend, and plans their creation. Without --noflush every table the
// payload names is replaced, so what the backend holds does not count.
func PlanRestore(p *syntax.Payload, flags syntax.RestoreFlags, s Settings, chains Chains) (Plan, error) {
	declared := map[string]bool{} // table/chain
	var refs []reference
	seen := map[string]bool{}
	for _, l := range p.Lines {
		if flags.Table != "" && l.Table != flags.Table {
			continue
		}
		switch l.Kind {
		case syntax.LineChain:
			declared[l.Table+"/"+l.Chain.Name] = true
		case syntax.LineCommand:
			c := l.Cmd
			if c == nil || c.Ignored {
				continue
			}
			switch c.Op {
			case syntax.OpNewChain:
				declared[l.Table+"/"+c.Chain] = true
			case syntax.OpAppend, syntax.OpInsert, syntax.OpReplace:
				if c.Rule != nil && IsChainTarget(c.Rule.Target, p.Family) {
					key := l.Table + "/" + c.Rule.Target.Name
					if !seen[key] {
						seen[key] = true
						refs = append(refs, reference{l.Table, c.Rule.Target.Name, l.Num})
					}
				}
			}
		}
	}
	var undeclared []reference
	for _, r := range refs {
		if !declared[r.table+"/"+r.chain] && !isBuiltin(r.chain) {
			undeclared = append(undeclared, r)
		}
	}
	exists := func(string, string) bool { return false }
	if flags.NoFlush {
		var err error
		if exists, err = existence(chains, undeclared); err != nil {
			return Plan{}, err
		}
	}
	inPayload := map[string]bool{}
	for _, l := range p.Lines {
		if l.Kind == syntax.LineTable {
			inPayload[l.Table] = true
		}
	}
	return plan(undeclared, s, exists, companionCheck{
		present: func(table, chain string) bool {
			return declared[table+"/"+chain] || (flags.NoFlush && existsOne(chains, table, chain))
		},
		// A block for a table the payload does not name would, without
		// --noflush, replace that whole table; and -T skips other tables.
		canAdd: func(table string) bool {
			return (flags.Table == "" || flags.Table == table) && (flags.NoFlush || inPayload[table])
		},
	}), nil
}

// companionCheck says whether a companion chain is already there and whether
// the call may add to its table.
type companionCheck struct {
	present func(table, chain string) bool
	canAdd  func(table string) bool
}

// PlanCommand plans the chains a single command (-A, -I, -R) jumps to that
// do not exist in the backend.
func PlanCommand(c *syntax.Command, s Settings, chains Chains) (Plan, error) {
	if c == nil || c.Ignored || c.Rule == nil || !IsChainTarget(c.Rule.Target, c.Family) || isBuiltin(c.Rule.Target.Name) {
		return Plan{}, nil
	}
	switch c.Op {
	case syntax.OpAppend, syntax.OpInsert, syntax.OpReplace:
	default:
		return Plan{}, nil
	}
	refs := []reference{{c.Table, c.Rule.Target.Name, 0}}
	exists, err := existence(chains, refs)
	if err != nil {
		return Plan{}, err
	}
	return plan(refs, s, exists, companionCheck{
		present: func(table, chain string) bool { return existsOne(chains, table, chain) },
		canAdd:  func(string) bool { return true },
	}), nil
}

// existence asks the backend about all referenced chains, one question per
// table.
func existence(chains Chains, refs []reference) (func(table, chain string) bool, error) {
	byTable := map[string][]string{}
	for _, r := range refs {
		byTable[r.table] = append(byTable[r.table], r.chain)
	}
	found := map[string]bool{}
	for table, names := range byTable {
		got, err := chains.Existing(table, names)
		if err != nil {
			return nil, fmt.Errorf("guard: listing chains of table %s: %w", table, err)
		}
		for n := range got {
			found[table+"/"+n] = true
		}
	}
	return func(table, chain string) bool { return found[table+"/"+chain] }, nil
}

// existsOne asks about one chain; an error counts as "exists", so the guard
// never creates (and so flushes) a chain it could not check.
func existsOne(chains Chains, table, chain string) bool {
	got, err := chains.Existing(table, []string{chain})
	return err != nil || got[chain]
}

func plan(refs []reference, s Settings, exists func(table, chain string) bool, comp companionCheck) Plan {
	var p Plan
	for _, r := range refs {
		if exists(r.table, r.chain) {
			continue
		}
		if IsMarker(r.chain) {
			p.Skipped = append(p.Skipped, Skip{r.table, r.chain, r.line, "a detection marker: the guard never creates markers"})
			continue
		}
		e, known := s.Catalog.Lookup(r.table, r.chain)
		if !known && !s.CreateUnknown {
			p.Skipped = append(p.Skipped, Skip{r.table, r.chain, r.line, "not in the catalog and unknown-chains=refuse"})
			continue
		}
		p.Creations = append(p.Creations, creation(e, r, known, false))
		if !s.Companions || !known {
			continue
		}
		for _, c := range companions(r.table, r.chain) {
			if !comp.canAdd(c.table) || comp.present(c.table, c.chain) {
				continue
			}
			ce, _ := s.Catalog.Lookup(c.table, c.chain)
			p.Creations = append(p.Creations, creation(ce, reference{c.table, c.chain, 0}, true, true))
		}
	}
	return p
}

func creation(e Entry, r reference, known, companion bool) Creation {
	c := Creation{Table: r.table, Chain: r.chain, Line: r.line, Known: known, Companion: companion}
	for _, rule := range e.Rules {
		c.Rules = append(c.Rules, "-A "+r.chain+" "+rule)
	}
	c.Rules = append(c.Rules, e.Hooks...)
	return c
}

// Tables returns the tables the plan touches, sorted.
func (p Plan) Tables() []string {
	set := map[string]bool{}
	for _, c := range p.Creations {
		set[c.Table] = true
	}
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Lines renders the declarations and rules the plan adds to one table, as
// restore lines.
func (p Plan) Lines(table string) []string {
	var decls, rules []string
	for _, c := range p.Creations {
		if c.Table != table {
			continue
		}
		decls = append(decls, ":"+c.Chain+" - [0:0]")
		rules = append(rules, c.Rules...)
	}
	return append(decls, rules...)
}

// Payload renders the plan as a restore payload of its own (for a single
// command: run with --noflush before the command).
func (p Plan) Payload(fam syntax.Family) (*syntax.Payload, error) {
	var b strings.Builder
	for _, t := range p.Tables() {
		b.WriteString("*" + t + "\n")
		for _, l := range p.Lines(t) {
			b.WriteString(l + "\n")
		}
		b.WriteString("COMMIT\n")
	}
	return syntax.ParseRestore(strings.NewReader(b.String()), fam)
}

// Apply returns a copy of payload with the plan's chains declared and filled
// right after each table's "*table" line (before any rule can jump to
// them), and a function that maps a line number of the new payload back to
// the caller's (an added line maps to the line that made the guard add it).
// A table the payload does not name gets a block of its own at the end; that
// only happens for companions under --noflush.
func (p Plan) Apply(payload *syntax.Payload) (*syntax.Payload, func(int) int, error) {
	add, err := p.Payload(payload.Family)
	if err != nil {
		return nil, nil, fmt.Errorf("guard: building chain declarations: %w", err)
	}
	// Added lines by table, without their own *table and COMMIT lines.
	byTable := map[string][]syntax.Line{}
	var order []string
	for _, l := range add.Lines {
		if l.Kind == syntax.LineTable || l.Kind == syntax.LineCommit {
			continue
		}
		if _, ok := byTable[l.Table]; !ok {
			order = append(order, l.Table)
		}
		byTable[l.Table] = append(byTable[l.Table], l)
	}
	origin := map[string]int{} // table -> first referencing line
	for _, c := range p.Creations {
		if _, ok := origin[c.Table]; !ok || (c.Line > 0 && c.Line < origin[c.Table]) {
			origin[c.Table] = c.Line
		}
	}
	out := &syntax.Payload{Family: payload.Family, Lines: make([]syntax.Line, 0, len(payload.Lines)+len(add.Lines))}
	var back []int // new line index -> caller's line number
	emit := func(l syntax.Line, orig int) {
		l.Num = 0
		out.Lines = append(out.Lines, l)
		back = append(back, orig)
	}
	done := map[string]bool{}
	for _, l := range payload.Lines {
		num := l.Num
		out.Lines = append(out.Lines, l)
		back = append(back, num)
		if l.Kind == syntax.LineTable && !done[l.Table] {
			done[l.Table] = true
			for _, al := range byTable[l.Table] {
				emit(al, origin[l.Table])
			}
		}
	}
	for _, t := range order {
		if done[t] {
			continue
		}
		emit(syntax.Line{Kind: syntax.LineTable, Raw: "*" + t, Table: t}, 0)
		for _, al := range byTable[t] {
			emit(al, 0)
		}
		emit(syntax.Line{Kind: syntax.LineCommit, Raw: "COMMIT", Table: t}, 0)
	}
	lineMap := func(n int) int {
		if n < 1 || n > len(back) {
			return n
		}
		return back[n-1]
	}
	return out, lineMap, nil
}

// CommittedBefore returns the creations whose table's section in payload
// (the restore text the backend read, as Apply returned it) ended with a
// COMMIT before line: when a restore fails at line, the tables committed
// before it stay applied (both real restores commit table by table), and
// so do the chains the guard added to them. line 0 (the failure named no
// line) gives none.
func (p Plan) CommittedBefore(payload *syntax.Payload, line int) []Creation {
	committed := map[string]bool{}
	for i, l := range payload.Lines {
		if i+1 >= line {
			break
		}
		if l.Kind == syntax.LineCommit {
			committed[l.Table] = true
		}
	}
	var out []Creation
	for _, c := range p.Creations {
		if committed[c.Table] {
			out = append(out, c)
		}
	}
	return out
}
