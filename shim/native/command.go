package native

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"time"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/nfnl"
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/nftread"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// Single iptables commands run as a transaction of their own, planned
// against the kernel state read at one ruleset generation by the same
// planner a restore uses. Rule numbers (-I N, -R N, -D N, -Z CHAIN N) are
// resolved to rule handles against that state, and the batch carries the
// generation id: if another writer changed the ruleset in between, the
// kernel refuses the batch and the command is planned again, so positions
// always refer to the chain as it is at commit time.

// commandSupported reports whether a single command is handled natively:
// every command of iptables 1.8.9 in the five iptables tables
// (refuseCommand in refusals.go decides).
func commandSupported(c *syntax.Command) error { return refuseCommand(c, false) }

// iptables-nft's answers (nft_strerror) to the errors single commands meet
// against its cache; printed "iptables: MSG." with exit 1.
const (
	notFoundRule     = "Bad rule (does a matching rule exist in that chain?)"
	chainExists      = "File exists"
	insertTooBig     = "Index of insertion too big"
	replaceTooBig    = "Index of replacement too big"
	deleteTooBig     = "Index of deletion too big"
	waitIntervalNote = "Ignoring deprecated --wait-interval option."
)

// shortError is iptables' "PROG: MSG." with exit 1.
func shortError(msg string) error {
	d := &syntax.Diagnostic{Form: syntax.FormShort, Template: msg + "."}
	return &ipterr.Error{Class: ipterr.Other, Msg: d.Template, Err: d}
}

func (b *Backend) command(ctx context.Context, c *backend.Call) error {
	err := b.runCommand(ctx, c)
	b.versionFor(c, err)
	return versioned(nftread.Report(c, err))
}

// versioned gives errors that carry iptables' message but no print form
// (shim/xt's) the form iptables prints a parameter problem of a single
// command in: "PROG v1.8.9 (nf_tables): MSG" and the "Try" line.
func versioned(err error) error {
	var ie *ipterr.Error
	if err == nil || syntax.DiagnosticOf(err) != nil || (errors.As(err, &ie) && ie.Printed) {
		return err
	}
	if ie == nil {
		ie = &ipterr.Error{Class: ipterr.Parameter, Msg: err.Error(), Err: err}
	}
	c := *ie
	d := &syntax.Diagnostic{Form: syntax.FormVersioned, Template: ie.Msg}
	if c.Err != nil {
		c.Err = fmt.Errorf("%w: %w", d, c.Err)
	} else {
		c.Err = d
	}
	return &c
}

func (b *Backend) runCommand(ctx context.Context, c *backend.Call) error {
	cmd, err := syntax.ParseCommand(c.Args, c.Family)
	if err != nil {
		return err
	}
	if cmd.Ignored {
		return nil
	}
	switch cmd.Op {
	case syntax.OpHelp:
		text, err := usage(c.Name(), c.Family, cmd.Help)
		if err != nil {
			return err
		}
		return write(c.Stdout, text)
	case syntax.OpVersion:
		return write(c.Stdout, fmt.Sprintf("%s %s\n", c.Name(), b.banner(c)))
	}
	if err := commandSupported(cmd); err != nil {
		return err
	}
	cmds, err := syntax.ExpandAddresses(cmd, lookupHost)
	if err != nil {
		return err
	}
	if cmd.Wait.IntervalGiven && c.Stderr != nil {
		fmt.Fprintln(c.Stderr, waitIntervalNote)
	}
	if cmd.Wait.IntervalGiven && !cmd.Wait.Given {
		return nftread.Paramf("--wait-interval only makes sense with --wait\n")
	}
	// No runtime.LockOSThread here: every thread an unlocked goroutine
	// can run on is in the process's network namespace (a thread moved
	// into another one stays locked to its goroutine), and the first
	// LockOSThread of a process starts the runtime's template thread, a
	// thread creation every single command would pay.
	switch cmd.Op {
	case syntax.OpAppend, syntax.OpInsert, syntax.OpReplace, syntax.OpList, syntax.OpListRules, syntax.OpDeleteChain:
		// These write or print rules in the host's dialect (or, -X,
		// delete chains as the host's version does); -C and -D find a
		// rule in any dialect, and the other chain commands (-N, -F,
		// -Z, -E, -P) encode no rule (-Z finds the dialect when it
		// needs it). Found before the command's connection opens, so
		// that connection reuses the check's receive buffer.
		b.resolveDialect(c.Family)
	}
	if c.Stderr != nil {
		for _, w := range ruleWarnings(c.Family, cmd, b.opts.Dialect) {
			fmt.Fprintln(c.Stderr, w)
		}
	}
	conn, err := b.open(ctx)
	if err != nil {
		return ipterr.Wrap(ipterr.Resource, err, err.Error())
	}
	defer conn.Close()
	fam := nftread.NFProto(c.Family)
	if err := warnMissing(conn, fam, cmd, c.Stderr); err != nil {
		return err
	}
	protos := b.protocols()
	deadline := raceDeadline(cmd.Wait)
	for try := 0; ; try++ {
		if err := ctx.Err(); err != nil {
			return ipterr.Wrap(ipterr.Resource, err, err.Error())
		}
		var st *nftread.KernelState
		if cmd.Chain != "" && c.GuardChains == nil {
			st, err = leanState(conn, fam, cmd)
		} else {
			st, err = nftread.ReadState(conn, fam)
		}
		if err != nil && !errors.Is(err, nfnl.ErrDumpInterrupted) {
			return stateFailure(err)
		}
		b.opts.trace("state")
		var r *cmdRun
		planned := false
		if err == nil {
			r, planned, err = b.attemptCommand(conn, c, cmd, cmds, st, fam, protos)
		}
		if errors.Is(err, nfnl.ErrGenerationChanged) || errors.Is(err, nfnl.ErrDumpInterrupted) {
			// Lost a race with another writer: plan again from a
			// fresh read, as iptables-nft does, without bound
			// unless -w gave one.
			if !deadline.IsZero() && time.Now().After(deadline) {
				return lostRace(err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(retryPause(try)):
			}
			continue
		}
		if (planned || r != nil && r.noteDue) && r.note != nil {
			// iptables-nft prints -v's notes while it plans, so
			// they appear even when the kernel then refuses the
			// batch; into stdio's buffer, which (unless stdout is
			// a terminal) reaches stdout only at exit, after the
			// error went to the unbuffered stderr.
			if err != nil && c.Stderr != nil && !isTerminal(c.Stdout) {
				version := b.versionFor(c, err)
				err = nftread.Report(c, err)
				var ie *ipterr.Error
				if !errors.As(err, &ie) || !ie.Printed {
					syntax.Report(c.Stderr, c.Name(), c.Argv0, version, err)
					err = &ipterr.Error{Class: ipterr.ClassOf(err), Msg: err.Error(), Printed: true}
				}
			}
			if werr := write(c.Stdout, string(r.note)); err == nil {
				err = werr
			}
		}
		if err == nil && r.out != nil && c.Stdout != nil {
			// Listings are printed only once they are complete and the
			// command as a whole has succeeded.
			return write(c.Stdout, string(r.out))
		}
		return err
	}
}

// isTerminal reports whether w is a terminal (stdio line-buffers stdout
// there, and fully buffers it otherwise).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// warnMissing prints, before the command's extensions parse their
// options, the warning iptables-nft prints when it loads a match or
// target the kernel lacks and uses anyway (xt.WarnsWhenMissing).
func warnMissing(conn nfnl.Transport, fam uint8, cmd *syntax.Command, stderr io.Writer) error {
	if cmd.Rule == nil {
		return nil
	}
	return newMissingWarner(stderr).rule(conn, fam, cmd.Rule)
}

// attemptCommand plans a single command against st and commits it;
// planned says planning succeeded (so -v's notes are due).
func (b *Backend) attemptCommand(conn nfnl.Transport, c *backend.Call, cmd *syntax.Command, cmds []*syntax.Command, st *nftread.KernelState, fam uint8, protos *nftread.Protocols) (*cmdRun, bool, error) {
	st.HideIncompatible()
	r := &cmdRun{b: b, conn: conn, call: c, cmd: cmd, st: st, fam: fam, protos: protos}
	r.p = newPlanner(c.Family, st, RestoreOptions{NoFlush: true, Counters: cmd.SetCounters, Dialect: b.opts.Dialect}, protos, b.ipsets(c.Family))
	r.p.single = true
	r.p.verbose = cmd.Verbose
	defer r.p.txn.batch.Release()
	err := r.runWith(c.GuardChains, cmds)
	r.note = append(r.note, r.p.notes...)
	b.opts.trace("run")
	planned := err == nil
	if err == nil && r.p.txn.Len() > 0 {
		defer b.opts.trace("commit")
		err = probeRevisions(conn, fam, r.p.needs, nil)
		if err == nil && b.beforeCommit != nil {
			b.beforeCommit()
		}
		if err == nil {
			err = r.p.txn.commit(conn, true)
		}
	}
	return r, planned, err
}

// retryPause is how long a command waits before it plans again after
// losing a race: growing (100 µs to 25 ms) and jittered, so that writers
// that keep colliding fall out of step.
func retryPause(try int) time.Duration {
	d := 100 * time.Microsecond << min(try, 8)
	return d/2 + rand.N(d/2)
}

func write(w io.Writer, s string) error {
	if w == nil {
		return nil
	}
	if _, err := io.WriteString(w, s); err != nil {
		return ipterr.Wrap(ipterr.Other, err, err.Error())
	}
	return nil
}

// cmdRun is one attempt at a single command against one kernel state.
type cmdRun struct {
	b      *Backend
	conn   nfnl.Transport
	call   *backend.Call
	cmd    *syntax.Command
	st     *nftread.KernelState
	fam    uint8
	protos *nftread.Protocols
	p      *planner
	// line is the restore line carried out (0 for a single command).
	line int
	// delHandle is the rule -D deleted by specification.
	delHandle uint64
	// out is what the command prints on success.
	out []byte
	// note is what -v prints about the command's steps (printed once
	// planning succeeded, whatever the kernel then answers).
	note []byte
	// noteDue is set when -v's notes are printed although planning
	// failed (-A to a chain that does not exist: iptables-nft prints
	// the rule before it looks the chain up).
	noteDue bool
}

// deleted returns the handle of the rule -D deleted by specification.
func (r *cmdRun) deleted() (uint64, bool) { return r.delHandle, r.delHandle != 0 }

// stateFailure words a failure to read the kernel state. Reading the
// ruleset generation is every call's first request, so a permission
// error there is iptables-nft's "Could not fetch rule set generation id".
func stateFailure(err error) error {
	var nf *nftread.NFTFailure
	if !errors.As(err, &nf) && (errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES)) {
		err = nftread.GenIDFailure(err)
	}
	return ipterr.Wrap(ipterr.Resource, err, err.Error())
}

// table returns the kernel's view of the command's table (empty when the
// table does not exist).
func (r *cmdRun) table() *nftread.TableInfo {
	if t := r.st.Tables[r.cmd.Table]; t != nil {
		return t
	}
	return &nftread.TableInfo{Name: r.cmd.Table, Chains: map[string]*nftread.ChainInfo{}}
}

// run plans the command into r.p's transaction, or carries out a read.
func (r *cmdRun) run() error {
	cmd := r.cmd
	switch cmd.Op {
	case syntax.OpCheck:
		if _, err := r.b.findRule(r.conn, r.call.Family, cmd, r.st, r.protos); err != nil {
			return err
		}
		return r.noteSpec()
	case syntax.OpDelete:
		if cmd.Rule == nil {
			return r.deleteNum()
		}
		handle, err := r.b.findRule(r.conn, r.call.Family, cmd, r.st, r.protos)
		if err != nil {
			return err
		}
		if err := r.noteSpec(); err != nil {
			return err
		}
		r.delHandle = handle
		r.p.txn.delRule(cmd.Table, cmd.Chain, handle, r.line)
		return nil
	case syntax.OpAppend:
		if _, ok := r.p.table(cmd.Table).chains[cmd.Chain]; !ok && cmd.Verbose && nftread.LookupTable(cmd.Table).Builtin(cmd.Chain) == nil {
			if err := r.noteSpec(); err == nil {
				r.noteDue = true
			}
		}
	case syntax.OpInsert:
		if cmd.RuleNum > 1 {
			return r.insertNum()
		}
	case syntax.OpReplace:
		return r.replaceNum()
	case syntax.OpZero:
		return r.zero(cmd.Chain, cmd.RuleNum, false)
	case syntax.OpRename:
		return r.rename()
	case syntax.OpFlush:
		if cmd.Chain == "" {
			return r.flushAll()
		}
		if r.table().Chains[cmd.Chain] == nil {
			bc := nftread.LookupTable(cmd.Table).Builtin(cmd.Chain)
			if bc == nil {
				return shortError(noChain)
			}
			// iptables-nft creates the table and the built-in
			// chain it is asked to flush.
			r.p.ensureBuiltin(r.p.table(cmd.Table), bc, 0)
		}
		if cmd.Verbose {
			r.note = fmt.Appendf(r.note, "Flushing chain `%s'\n", cmd.Chain)
		}
	case syntax.OpDeleteChain:
		if cmd.Chain == "" {
			return r.deleteAll()
		}
		ch := r.table().Chains[cmd.Chain]
		if ch != nil && ch.Base {
			if ch.Policy != nftread.PolicyAccept {
				// iptables-nft keeps a built-in chain whose policy
				// is not ACCEPT (EBUSY, in nft_strerror's words).
				return shortError("Directory not empty")
			}
			// An empty one is deleted; the kernel refuses one that
			// still has rules.
			r.p.txn.delChain(cmd.Table, cmd.Chain, r.line)
			return nil
		}
		if ch != nil && cmd.Verbose {
			r.note = fmt.Appendf(r.note, "Deleting chain `%s'\n", cmd.Chain)
		}
	case syntax.OpPolicy:
		if _, err := policyValue(cmd.Policy); err != nil {
			// The kernel's refusal, as iptables-nft words it.
			return shortError("Bad policy name. Run `dmesg' for more information")
		}
	case syntax.OpListRules, syntax.OpList:
		var err error
		if cmd.Op == syntax.OpList {
			r.out, err = r.list()
		} else {
			r.out, err = r.listRules()
		}
		if err != nil || !cmd.Zero {
			return err
		}
		num := 0
		if cmd.ZeroRule {
			num = cmd.RuleNum
		}
		return r.zero(cmd.Chain, num, true)
	}
	err := r.p.planCommand(&syntax.Line{Kind: syntax.LineCommand, Num: r.line, Table: cmd.Table, Cmd: cmd})
	var mc *missingChainError
	if errors.As(err, &mc) {
		return mc.error
	}
	return err
}

// chainRules returns the rules of a chain in order, nil when the chain
// does not exist.
func (r *cmdRun) chainRules(chain string) ([]nftread.DumpedRule, error) {
	if r.table().Chains[chain] == nil {
		return nil, nil
	}
	return dumpChainRules(r.conn, r.fam, r.cmd.Table, chain)
}

// existingChain reports whether chain exists, failing as iptables-nft
// does ("No chain/target/match by that name.") when it does not.
func (r *cmdRun) existingChain(chain string) error {
	if r.table().Chains[chain] == nil {
		return shortError(noChain)
	}
	return nil
}

func (r *cmdRun) deleteNum() error {
	if err := r.existingChain(r.cmd.Chain); err != nil {
		return err
	}
	rules, err := r.chainRules(r.cmd.Chain)
	if err != nil {
		return err
	}
	if r.cmd.RuleNum > len(rules) {
		return shortError(deleteTooBig)
	}
	r.p.txn.delRule(r.cmd.Table, r.cmd.Chain, rules[r.cmd.RuleNum-1].Handle, r.line)
	return nil
}

// insertNum places -I N before the rule now at N, or after the last rule
// when N is one past the end, as iptables does.
func (r *cmdRun) insertNum() error {
	cmd := r.cmd
	if r.table().Chains[cmd.Chain] == nil && nftread.LookupTable(cmd.Table).Builtin(cmd.Chain) == nil {
		return shortError(noChain)
	}
	rules, err := r.chainRules(cmd.Chain)
	if err != nil {
		return err
	}
	i := cmd.RuleNum - 1
	switch {
	case i < len(rules):
		r.p.at = &rulePlace{ref: rules[i].Handle}
	case i == len(rules):
		r.p.at = &rulePlace{appendIt: true, ref: rules[i-1].Handle}
	default:
		return shortError(insertTooBig)
	}
	return r.planRule()
}

func (r *cmdRun) replaceNum() error {
	cmd := r.cmd
	if err := r.existingChain(cmd.Chain); err != nil {
		return err
	}
	rules, err := r.chainRules(cmd.Chain)
	if err != nil {
		return err
	}
	if cmd.RuleNum > len(rules) {
		return shortError(replaceTooBig)
	}
	r.p.at = &rulePlace{replace: true, ref: rules[cmd.RuleNum-1].Handle}
	return r.planRule()
}

func (r *cmdRun) planRule() error {
	defer func() { r.p.at = nil }()
	err := r.p.planCommand(&syntax.Line{Kind: syntax.LineCommand, Num: r.line, Table: r.cmd.Table, Cmd: r.cmd})
	var mc *missingChainError
	if errors.As(err, &mc) {
		return mc.error
	}
	return err
}

// zero resets counters as iptables-nft -Z does: base chains are resent
// with zero counters and every rule with a counter is replaced in place by
// itself with a zero counter; with a rule number only that rule (a number
// past the end is no error for 1.8.9, "Bad rule" for 1.8.11). After a
// listing (-L -Z) 1.8.9 zeroes the built-in chains the listing showed
// without the kernel having them too, which creates them: it lists them
// from its cache and zeroes them.
func (r *cmdRun) zero(chain string, num int, afterList bool) error {
	t := r.table()
	// 1.8.11 takes absent built-in chains for existing (and changes
	// nothing in them): -Z INPUT succeeds, -v names them, -L -Z does not
	// create them.
	fake := num == 0 && r.since1811()
	if chain != "" && t.Chains[chain] == nil && !afterList && (!fake || nftread.LookupTable(r.cmd.Table).Builtin(chain) == nil) {
		if num > 0 {
			// iptables-nft looks the rule up before the chain.
			return shortError(notFoundRule)
		}
		return shortError(noChain)
	}
	vt := r.p.table(r.cmd.Table)
	for _, lc := range nftread.ListedChains(t, chain) {
		ch := lc.Info
		if ch == nil {
			if fake {
				if r.cmd.Verbose {
					r.out = fmt.Appendf(r.out, "Zeroing chain `%s'\n", lc.Name)
				}
				continue
			}
			if !afterList {
				continue
			}
			r.p.ensureTable(vt, 0)
			r.p.txn.setBaseChain(vt.spec.Name, vt.spec.Builtin(lc.Name), nftread.PolicyAccept, &syntax.Counters{}, 0, actChainZero)
			vt.chains[lc.Name] = true
		} else if ch.Base && num == 0 {
			r.p.txn.zeroBaseChain(t.Name, ch, r.line)
		}
		if r.cmd.Verbose && num == 0 {
			r.out = fmt.Appendf(r.out, "Zeroing chain `%s'\n", lc.Name)
		}
		if ch == nil {
			continue
		}
		rules, err := r.chainRules(ch.Name)
		if err != nil {
			return err
		}
		if num > len(rules) && r.since1811() {
			// 1.8.11 looks the rule up; 1.8.9 zeroes nothing, quietly.
			return shortError(notFoundRule)
		}
		for i := range rules {
			if num > 0 && i != num-1 {
				continue
			}
			if err := r.resendZeroed(ch.Name, &rules[i], num > 0); err != nil {
				return err
			}
		}
	}
	return nil
}

// since1811 reports whether the host's iptables-nft is 1.8.11 (its
// dialect), whose answers to a few commands differ from 1.8.9's: -L and -S
// of a missing chain, -Z of a missing rule or built-in chain.
func (r *cmdRun) since1811() bool {
	r.b.resolveDialect(r.call.Family)
	return r.b.opts.Dialect == dialect.V1811
}

// resendZeroed replaces a rule by itself with its counters zeroed; rules
// without a counter are left alone unless always is set.
func (r *cmdRun) resendZeroed(chain string, d *nftread.DumpedRule, always bool) error {
	hasCounter := false
	for i, e := range d.Exprs {
		if c, ok := e.(*expr.Counter); ok {
			z := *c
			z.Packets, z.Bytes = 0, 0
			d.Exprs[i] = &z
			hasCounter = true
		}
	}
	if !hasCounter && !always {
		return nil
	}
	er := encodedRule{exprs: d.Exprs, proto: d.Proto, invProto: d.InvProto}
	if er.proto == 0 && !er.invProto {
		er.proto, er.invProto = recoverCompat(d.Exprs)
	}
	if err := r.p.txn.addRuleAt(r.cmd.Table, chain, &er, rulePlace{replace: true, ref: d.Handle}, r.line); err != nil {
		return ipterr.Wrap(ipterr.Other, err, err.Error())
	}
	return nil
}

// recoverCompat finds the protocol a dumped rule tests, for the
// NFTA_RULE_COMPAT the kernel does not dump back and x_tables extensions
// such as TPROXY need when the rule is sent again (iptables-nft's
// recover_rule_compat): the first load of the protocol, as meta l4proto or
// (1.8.11's IPv4 -p) the network header's byte at offset 9, followed by a
// cmp of that register.
func recoverCompat(es []expr.Any) (uint32, bool) {
	for i := 0; i+1 < len(es); i++ {
		var reg uint32
		switch e := es[i].(type) {
		case *expr.Meta:
			if e.Key != expr.MetaKeyL4PROTO || e.SourceRegister {
				continue
			}
			reg = e.Register
		case *expr.Payload:
			if e.OperationType != expr.PayloadLoad || e.Base != expr.PayloadBaseNetworkHeader || e.Offset != 9 || e.Len != 1 {
				continue
			}
			reg = e.DestRegister
		default:
			continue
		}
		c, ok := es[i+1].(*expr.Cmp)
		if !ok || c.Register != reg || len(c.Data) == 0 {
			continue
		}
		return uint32(c.Data[0]), c.Op == expr.CmpOpNeq
	}
	return 0, false
}

// rename is -E: the new name must be free (built-in names never are), the
// old chain must exist.
func (r *cmdRun) rename() error {
	cmd := r.cmd
	t := r.table()
	if t.Chains[cmd.NewName] != nil || nftread.LookupTable(cmd.Table).Builtin(cmd.NewName) != nil {
		return shortError(chainExists)
	}
	ch := t.Chains[cmd.Chain]
	if ch == nil {
		return shortError(noChain)
	}
	r.p.txn.renameChain(cmd.Table, ch.Handle, cmd.NewName, r.line)
	return nil
}

// deleteAll is -X without a chain: every user chain goes, and so does
// every built-in chain that is empty with policy ACCEPT (iptables-nft
// 1.8.9 removes those as well; 1.8.7 does not). The kernel refuses chains still in use.
// The order is iptables-nft's walk of its cache, which decides the one
// refusal it reports: built-in chains by hook, then user chains in the
// kernel's order, or by name with -v (which then names each user chain).
func (r *cmdRun) deleteAll() error {
	t := r.st.Tables[r.cmd.Table]
	if t == nil {
		return nil
	}
	for _, ch := range r.walk(t) {
		if ch.Base {
			// 1.8.7 deletes user chains only.
			if ch.Use > 0 || ch.Policy != nftread.PolicyAccept || r.b.opts.Dialect == dialect.V187 {
				continue
			}
		} else if r.cmd.Verbose {
			r.note = fmt.Appendf(r.note, "Deleting chain `%s'\n", ch.Name)
		}
		r.p.txn.delChain(t.Name, ch.Name, 0)
	}
	return nil
}

// walk returns a table's chains in the order iptables-nft's cache walk
// visits them: built-in chains in the table's order, then user chains as
// the kernel lists them (creation order), sorted by name with -v.
func (r *cmdRun) walk(t *nftread.TableInfo) []*nftread.ChainInfo {
	spec := nftread.LookupTable(t.Name)
	var out, user []*nftread.ChainInfo
	for i := range spec.Chains {
		if ch := t.Chains[spec.Chains[i].Name]; ch != nil {
			out = append(out, ch)
		}
	}
	for _, ch := range t.Chains {
		if spec.Builtin(ch.Name) == nil {
			user = append(user, ch)
		}
	}
	sort.Slice(user, func(i, j int) bool {
		if r.cmd.Verbose {
			return user[i].Name < user[j].Name
		}
		return user[i].Order < user[j].Order
	})
	return append(out, user...)
}

// flushAll is -F without a chain: every rule of the table goes. Without -v
// that is one message for the table, and a missing table stays missing;
// with -v iptables-nft first creates the table's built-in chains, then
// flushes chain by chain, naming each.
func (r *cmdRun) flushAll() error {
	t := r.st.Tables[r.cmd.Table]
	if r.cmd.Verbose {
		vt := r.p.table(r.cmd.Table)
		for _, bc := range creationOrder(vt.spec) {
			r.p.ensureBuiltin(vt, bc, 0)
		}
		for i := range vt.spec.Chains {
			bc := &vt.spec.Chains[i]
			r.note = fmt.Appendf(r.note, "Flushing chain `%s'\n", bc.Name)
		}
	}
	if t == nil {
		return nil
	}
	if !r.cmd.Verbose {
		// One message for the whole table, which empties the chains
		// iptables-nft does not list (incompatible base chains) too.
		r.p.txn.flushTable(t.Name)
		return nil
	}
	for _, ch := range r.walk(t) {
		if !ch.Base {
			r.note = fmt.Appendf(r.note, "Flushing chain `%s'\n", ch.Name)
		}
		r.p.txn.flushChain(t.Name, ch.Name, 0, actRuleFlush)
	}
	return nil
}
