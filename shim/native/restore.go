package native

import (
	"errors"
	"io"
	"sort"

	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/nftread"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
	"github.com/iptables-shim/iptables-shim/shim/xt"
)

// RestoreOptions are the iptables-restore flags the plan depends on.
type RestoreOptions struct {
	// NoFlush is --noflush: tables are not emptied first.
	NoFlush bool
	// Counters is --counters: [p:b] values are applied.
	Counters bool
	// Table is -T: only this table's sections are applied.
	Table string
	// Verbose is -v: what iptables-nft-restore -v prints goes to Out
	// (see verbose.go).
	Verbose bool
	Out     io.Writer
	// Warn gets the warnings iptables-nft prints while it reads the
	// payload (an extension the kernel lacks, see probeRevisions).
	Warn io.Writer
	// missing, when set, prints those warnings as the parser meets each
	// extension, as iptables-nft-restore does when it loads it (so
	// before a complaint about the same line), once per call; Warn then
	// gets none of them again.
	missing *missingWarner
	// Dialect is the encoding rules are written in (Options.Dialect).
	Dialect dialect.Dialect
	// ParseWarn, when set, is given what iptables-nft-restore warns
	// about on standard error while it parses a rule line
	// (xt.ParseWarnings), with the line's number; the planner may run
	// more than once over a line.
	ParseWarn func(line int, msg string)
	// declinable: the call is backend.Call.Declinable; what the planner
	// finds unsupported, or the parser rejects, before anything is
	// committed is returned as *backend.Declined instead.
	declinable bool
}

// viewTable is a table as it will be after the messages planned so far.
type viewTable struct {
	spec   *nftread.TableSpec
	exists bool
	// chains maps each existing chain to whether it is a base chain.
	chains map[string]bool
}

// planner turns a restore payload into one transaction against a known
// kernel state, checking every line against the state the earlier lines
// leave, as iptables-nft-restore checks against its cache.
type planner struct {
	fam    syntax.Family
	opts   RestoreOptions
	protos *nftread.Protocols
	ipsets xt.IPSetResolver
	tables map[string]*viewTable
	txn    *Txn
	// needs maps each compat extension revision to the first line using it.
	needs map[extRev]int
	// deferred is the first jump to a missing chain in the current table
	// section, reported at its COMMIT line as iptables-nft does.
	deferred error
	// skip is set inside a table section -T excludes.
	skip bool
	// single is set when the planner carries out one iptables command
	// rather than a restore payload (error texts differ).
	single bool
	// at, when set, places the rule of a single -I N or -R N.
	at *rulePlace
	// sections are the table sections planned to their COMMIT line, each
	// its own transaction; txn is the one being planned.
	sections []*section
	// skipSections is how many table sections at the start of the
	// payload an earlier attempt committed already; their lines are
	// passed over. sectionNo counts the sections met so far.
	skipSections, sectionNo int
	// kernel lets restore lines act on the kernel's rules; models keeps
	// what earlier lines did to them (see positional.go).
	kernel *restoreKernel
	models ruleModels
	// dryRun is restore --test: iptables-nft-restore then parses every
	// line but never checks commands against its cache (it does that
	// only when it commits), so those failures (exit 1) are not
	// reported.
	dryRun bool
	// verbose makes the planner note what -v prints into notes; comments
	// holds the comment lines restore -v echoes for the current section.
	verbose         bool
	notes, comments []byte
	// state is the kernel state planning started from.
	state *nftread.KernelState
}

// section is one table section of a restore, planned as the transaction
// its COMMIT line commits.
type section struct {
	txn        *Txn
	commitLine int
	// comments and notes are what restore -v prints for the section:
	// its comment lines, then (when it is committed) its notes.
	comments, notes []byte
}

// release frees the batches of every transaction planned.
func (p *planner) release() {
	for _, s := range p.sections {
		s.txn.batch.Release()
	}
	p.txn.batch.Release()
}

func newPlanner(fam syntax.Family, st *nftread.KernelState, o RestoreOptions, protos *nftread.Protocols, ipsets xt.IPSetResolver) *planner {
	p := &planner{fam: fam, opts: o, protos: protos, ipsets: ipsets, tables: map[string]*viewTable{},
		txn: newTxn(nftread.NFProto(fam), st.GenID), needs: map[extRev]int{}, state: st,
		verbose: o.Verbose && !o.NoFlush}
	p.txn.userDelNamed = o.Dialect == dialect.V187
	for name, t := range st.Tables {
		spec := nftread.LookupTable(name)
		if spec == nil {
			continue
		}
		vt := &viewTable{spec: spec, exists: true, chains: map[string]bool{}}
		for cn, c := range t.Chains {
			vt.chains[cn] = c.Base
		}
		p.tables[name] = vt
	}
	return p
}

func (p *planner) table(name string) *viewTable {
	vt := p.tables[name]
	if vt == nil {
		vt = &viewTable{spec: nftread.LookupTable(name), chains: map[string]bool{}}
		p.tables[name] = vt
	}
	return vt
}

func (p *planner) ensureTable(vt *viewTable, line int) {
	if !vt.exists {
		p.txn.addTable(vt.spec.Name, line)
		vt.exists = true
	}
}

// ensureBuiltin creates a base chain a rule needs, as iptables-nft does
// for a built-in chain that was not declared: policy ACCEPT, no counters.
func (p *planner) ensureBuiltin(vt *viewTable, bc *nftread.BuiltinChain, line int) {
	p.ensureTable(vt, line)
	if _, ok := vt.chains[bc.Name]; !ok {
		p.txn.setBaseChain(vt.spec.Name, bc, nftread.PolicyAccept, nil, line, actChainAdd)
		vt.chains[bc.Name] = true
	}
}

// plan adds the lines of a payload, or of the next piece of one, to the
// transaction.
func (p *planner) plan(pl *syntax.Payload) error {
	for i := range pl.Lines {
		l := &pl.Lines[i]
		if l.Kind == syntax.LineTable {
			p.skip = p.opts.Table != "" && l.Table != p.opts.Table
		}
		if l.Kind == syntax.LineComment && p.opts.Verbose && !p.single && p.sectionNo >= p.skipSections {
			p.comments = append(append(p.comments, l.Raw...), '\n')
		}
		if p.skip {
			continue
		}
		if p.sectionNo < p.skipSections {
			// Committed by an earlier attempt.
			if l.Kind == syntax.LineCommit {
				p.sectionNo++
			}
			continue
		}
		if p.dryRun && l.Kind == syntax.LineCommand && positional(l.Cmd) {
			// Parsed, and never checked against rules under --test.
			continue
		}
		var err error
		if !p.single && l.Kind == syntax.LineCommand && !l.Cmd.Ignored && positional(l.Cmd) && p.kernel != nil {
			err = p.planPositional(l)
		} else {
			if !p.single {
				p.models.note(l, p.opts.NoFlush)
			}
			var k chainKey
			n0 := -1
			if p.models.planned && !p.single && l.Kind == syntax.LineCommand && !l.Cmd.Ignored && addsRules(l.Cmd) {
				k = chainKey{l.Cmd.Table, l.Cmd.Chain}
				n0 = len(p.txn.pending[k])
				err = p.refuseXedBuiltin(l.Cmd)
			}
			if err == nil {
				err = p.planLine(l)
			}
			if n0 >= 0 && err == nil {
				p.models.addedRules(l.Cmd, p.txn.pending[k][n0:], p.opts.Counters || l.Cmd.SetCounters)
			}
		}
		if err != nil && p.dryRun && ipterr.ClassOf(err) == ipterr.Other {
			err = nil
		}
		if err != nil {
			return nftread.AtLine(err, l.Num)
		}
	}
	return nil
}

// planLine adds one line that does not depend on the kernel's rules.
func (p *planner) planLine(l *syntax.Line) error {
	var err error
	switch l.Kind {
	case syntax.LineTable:
		p.planTable(l)
	case syntax.LineChain:
		err = p.planChainDecl(l)
	case syntax.LineCommand:
		err = p.planCommand(l)
		var mc *missingChainError
		if errors.As(err, &mc) {
			if p.deferred == nil {
				p.deferred = mc.error
			}
			err = nil
		}
	case syntax.LineCommit:
		err, p.deferred = p.deferred, nil
		if err == nil {
			p.endSection(l.Num)
		}
	}
	return err
}

// endSection closes the transaction of the table section that ends at a
// COMMIT line and starts the next one.
func (p *planner) endSection(line int) {
	p.models.sectionEnded()
	p.sections = append(p.sections, &section{txn: p.txn, commitLine: line, comments: p.comments, notes: p.notes})
	p.comments, p.notes = nil, nil
	p.sectionNo++
	p.txn = newTxn(p.txn.fam, p.txn.genID)
}

func (p *planner) planTable(l *syntax.Line) {
	vt := p.table(l.Table)
	if p.opts.NoFlush {
		return
	}
	if p.opts.Verbose && !p.single {
		p.verboseTableFlush(vt, l.Num)
		return
	}
	if !vt.exists {
		return
	}
	p.txn.delTable(vt.spec.Name, l.Num)
	vt.exists = false
	vt.chains = map[string]bool{}
}

func (p *planner) planChainDecl(l *syntax.Line) error {
	vt := p.table(l.Table)
	d := l.Chain
	if len(d.Name) > nftread.MaxChainName {
		return nftread.Paramf("Invalid chain name `%s' (%d chars max)", d.Name, nftread.MaxChainName)
	}
	if bc := vt.spec.Builtin(d.Name); bc != nil {
		pol, err := policyValue(d.Policy)
		if d.Policy == "-" {
			// iptables-nft-restore sends the chain without a policy:
			// one the kernel has keeps its own (nft_chain_set).
			pol, err = nftread.PolicyNone, nil
		}
		if err != nil {
			// iptables-nft-restore meets it when it prepares the
			// batch: nft_chain_set's EINVAL, worded by nft_strerror.
			return p.failed(l.Num, "Bad policy name")
		}
		cnt := &syntax.Counters{}
		if p.opts.Counters && d.Counters != nil {
			cnt = d.Counters
		}
		p.ensureTable(vt, l.Num)
		act := actChainUpdate
		if _, ok := vt.chains[d.Name]; !ok {
			act = actChainAdd
		}
		p.txn.setBaseChain(vt.spec.Name, bc, pol, cnt, l.Num, act)
		vt.chains[p.txn.intern(d.Name)] = true
		return nil
	}
	p.ensureTable(vt, l.Num)
	if _, ok := vt.chains[d.Name]; ok {
		// Unlike -F, a re-declaration does not take back the rules
		// this batch already added: they are sent and then flushed.
		p.txn.flushChain(vt.spec.Name, d.Name, l.Num, actChainFlush)
		return nil
	}
	p.txn.addUserChain(vt.spec.Name, d.Name, l.Num)
	vt.chains[p.txn.intern(d.Name)] = false
	return nil
}

func policyValue(s string) (uint32, error) {
	switch s {
	case "ACCEPT":
		return nftread.PolicyAccept, nil
	case "DROP":
		return nftread.PolicyDrop, nil
	}
	return 0, nftread.Paramf("Bad policy name `%s'", s)
}

// noChain is iptables-nft's answer for a command on a chain that does not
// exist.
const noChain = "No chain/target/match by that name"

// failed is a command iptables-nft refuses against its cache (exit 1):
// "PROG: line N failed: MSG." in a restore, "PROG: MSG." for a single
// command.
func (p *planner) failed(line int, msg string) error {
	if p.single {
		d := &syntax.Diagnostic{Form: syntax.FormShort, Template: msg + "."}
		return &ipterr.Error{Class: ipterr.Other, Msg: d.Template, Err: d}
	}
	return nftread.LineFailed(line, msg)
}

func (p *planner) planCommand(l *syntax.Line) error {
	c := l.Cmd
	if c.Ignored {
		return nil
	}
	if err := refuseCommand(c, !p.single); err != nil {
		return err
	}
	vt := p.table(c.Table)
	switch c.Op {
	case syntax.OpAppend, syntax.OpInsert, syntax.OpReplace:
		return p.planRule(l, vt)
	case syntax.OpNewChain:
		if _, ok := vt.chains[c.Chain]; ok || vt.spec.Builtin(c.Chain) != nil {
			return p.failed(l.Num, "Chain already exists")
		}
		p.ensureTable(vt, l.Num)
		p.txn.addUserChain(vt.spec.Name, c.Chain, l.Num)
		vt.chains[p.txn.intern(c.Chain)] = false
	case syntax.OpDeleteChain:
		return p.planDeleteChain(l, vt)
	case syntax.OpFlush:
		if c.Chain == "" {
			// One message empties the table; rules this transaction
			// added to it are not sent at all, as iptables-nft-restore
			// drops them from its batch.
			if p.verbose && !p.single {
				p.flushAllChains(vt, l.Num)
				return nil
			}
			if !vt.exists {
				return nil
			}
			for ch := range vt.chains {
				p.txn.dropPending(vt.spec.Name, ch)
			}
			p.txn.flushTable(vt.spec.Name)
			return nil
		}
		if _, ok := vt.chains[c.Chain]; !ok {
			if vt.spec.Builtin(c.Chain) != nil {
				return nil
			}
			return p.failed(l.Num, noChain)
		}
		p.txn.dropPending(vt.spec.Name, c.Chain)
		p.txn.flushChain(vt.spec.Name, c.Chain, l.Num, actRuleFlush)
		if !p.single {
			p.noteChain("Flushing", c.Chain)
		}
	case syntax.OpPolicy:
		bc := vt.spec.Builtin(c.Chain)
		if bc == nil {
			return p.failed(l.Num, "Bad built-in chain name")
		}
		pol, err := policyValue(c.Policy)
		if err != nil {
			return err
		}
		if pol == nftread.PolicyDrop && vt.spec.Name == "nat" {
			return natDropError()
		}
		p.ensureTable(vt, l.Num)
		act := actChainUpdate
		// iptables -P, and a -P line of a restore, send the chain
		// with zero counters: its counters start over.
		cnt := &syntax.Counters{}
		if _, ok := vt.chains[c.Chain]; !ok {
			act = actChainAdd
		}
		p.txn.setBaseChain(vt.spec.Name, bc, pol, cnt, l.Num, act)
		vt.chains[p.txn.intern(c.Chain)] = true
	default:
		return refuseRestoreCommand.err(opName(c.Op))
	}
	return nil
}

// deletableBuiltins are the built-in chains -X without a chain deletes in
// a restore, in the table's order: those the kernel has with an ACCEPT
// policy (iptables-nft's cache keeps the kernel's policy even after a -P
// of the same batch) and no rules left by the earlier lines.
func (p *planner) deletableBuiltins(vt *viewTable) ([]string, error) {
	kt := p.kernel.st.Tables[vt.spec.Name]
	if kt == nil {
		return nil, nil
	}
	var out []string
	for _, bc := range vt.spec.Chains {
		ch := kt.Chains[bc.Name]
		if ch == nil || !ch.Base || ch.Policy != nftread.PolicyAccept {
			continue
		}
		if isBase, ok := vt.chains[bc.Name]; !ok || !isBase {
			continue
		}
		m := p.models.get(vt.spec.Name, bc.Name)
		if err := p.loadModel(m, vt.spec.Name, bc.Name); err != nil {
			return nil, err
		}
		if len(m.slots) == 0 {
			out = append(out, bc.Name)
		}
	}
	return out, nil
}

func (p *planner) planDeleteChain(l *syntax.Line, vt *viewTable) error {
	c := l.Cmd
	if c.Chain == "" {
		var user []string
		for ch, base := range vt.chains {
			if !base {
				user = append(user, ch)
			}
		}
		// iptables-nft walks its chain cache in name order; the order
		// shows in which refusals a failed batch reports.
		sort.Strings(user)
		if p.models.planned && !p.single && p.opts.Dialect != dialect.V187 {
			// iptables-nft's cache walk meets the built-in chains
			// first, and deletes those that are empty in its cache
			// with an ACCEPT policy in the kernel; then its cache
			// has no chains of the table at all. (1.8.7 deletes
			// user chains only.)
			if p.models.xed[vt.spec.Name] {
				return refuseXedAgain.err(vt.spec.Name)
			}
			if p.models.xed == nil {
				p.models.xed = map[string]bool{}
			}
			p.models.xed[vt.spec.Name] = true
			base, err := p.deletableBuiltins(vt)
			deleted := map[string]bool{}
			for _, ch := range base {
				deleted[ch] = true
			}
			for _, bc := range vt.spec.Chains {
				// Gone from the cache, rules and all.
				p.models.get(vt.spec.Name, bc.Name).empty()
				if _, ok := vt.chains[bc.Name]; ok && !deleted[bc.Name] {
					if p.models.xedKept == nil {
						p.models.xedKept = map[chainKey]bool{}
					}
					p.models.xedKept[chainKey{vt.spec.Name, bc.Name}] = true
				}
			}
			if err != nil {
				return err
			}
			for _, ch := range base {
				p.txn.delChain(vt.spec.Name, ch, l.Num)
				delete(vt.chains, ch)
				p.models.get(vt.spec.Name, ch).empty()
			}
		}
		for _, ch := range user {
			if !p.single {
				p.noteChain("Deleting", ch)
			}
			p.txn.delChain(vt.spec.Name, ch, l.Num)
			delete(vt.chains, ch)
			if p.models.planned {
				p.models.get(vt.spec.Name, ch).empty()
			}
		}
		return nil
	}
	base, ok := vt.chains[c.Chain]
	if !ok {
		return p.failed(l.Num, noChain)
	}
	if base || vt.spec.Builtin(c.Chain) != nil {
		return refuseBuiltinDelete.err(c.Chain)
	}
	if !p.single {
		p.noteChain("Deleting", c.Chain)
	}
	p.txn.delChain(vt.spec.Name, c.Chain, l.Num)
	delete(vt.chains, c.Chain)
	return nil
}

func (p *planner) planRule(l *syntax.Line, vt *viewTable) error {
	c := l.Cmd
	if c.Op == syntax.OpInsert && c.RuleNum > 1 && p.at == nil {
		return refuseNumberedInsert.err()
	}
	if c.Rule == nil {
		return nftread.Paramf("no rule given")
	}
	if p.opts.missing != nil && p.kernel != nil {
		if err := p.opts.missing.rule(p.kernel.conn, nftread.NFProto(p.fam), c.Rule); err != nil {
			return err
		}
	}
	if _, ok := vt.chains[c.Chain]; !ok {
		bc := vt.spec.Builtin(c.Chain)
		if bc == nil {
			return p.failed(l.Num, noChain)
		}
		p.ensureBuiltin(vt, bc, l.Num)
	}
	env := &ruleEnv{
		fam: p.fam, table: vt.spec.Name, chain: c.Chain, protos: p.protos, ipsets: p.ipsets,
		// A rule's own -c applies with or without --counters (which
		// only makes the [p:b] prefix count).
		counters: p.opts.Counters || c.SetCounters, dialect: p.opts.Dialect,
		isChain: func(name string) bool {
			base, ok := vt.chains[name]
			return ok && !base
		},
	}
	r, err := encodeRule(env, c.Rule)
	if err != nil {
		return err
	}
	if p.opts.ParseWarn != nil {
		for _, w := range r.warnings {
			p.opts.ParseWarn(l.Num, w)
		}
	}
	for _, n := range r.needs {
		if _, ok := p.needs[n]; !ok {
			p.needs[n] = l.Num
		}
	}
	place := rulePlace{appendIt: c.Op == syntax.OpAppend}
	if p.at != nil {
		place = *p.at
	}
	if err := p.txn.addRuleAt(vt.spec.Name, c.Chain, &r, place, l.Num); err != nil {
		return ipterr.Wrap(ipterr.Other, err, err.Error())
	}
	return p.noteRule(vt.spec.Name, c.Chain, &r)
}
