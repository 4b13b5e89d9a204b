package native

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/native/nfnl"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
	"github.com/iptables-shim/iptables-shim/shim/xtlock"
)

// Single iptables commands run as a transaction of their own, planned
// against the kernel state read at one ruleset generation by the same
// planner a restore uses. Rule numbers (-I N, -R N, -D N, -Z CHAIN N) are
// resolved to rule handles against that state, and the batch carries the
// generation id: if another writer changed the ruleset in between, the
// kernel refuses the batch and the command is planned again, so positions
// always refer to the chain as it is at commit time.

// commandSupported reports whether a single command is handled natively:
// every command of iptables 1.8.9 in the five iptables tables.
func commandSupported(c *syntax.Command) error {
	switch c.Op {
	case syntax.OpNone:
		return unsupportedf("a call without a command")
	case syntax.OpVersion, syntax.OpHelp:
		return nil
	}
	if lookupTable(c.Table) == nil {
		return unsupportedf("table %s", c.Table)
	}
	return nil
}

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

// lockError prints a failure to take the xtables lock as iptables does:
// the message alone, exit 4.
func lockError(err error) error {
	var ie *ipterr.Error
	msg := err.Error()
	if errors.As(err, &ie) {
		msg = ie.Msg
	}
	d := &syntax.Diagnostic{Form: syntax.FormPlain, Template: msg}
	return &ipterr.Error{Class: ipterr.Resource, Msg: msg, Err: fmt.Errorf("%w: %w", d, err)}
}

func (b *Backend) command(ctx context.Context, c *backend.Call) error {
	return versioned(b.runCommand(ctx, c))
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
		return write(c.Stdout, usage(c.Name()))
	case syntax.OpVersion:
		return write(c.Stdout, fmt.Sprintf("%s v%s (nf_tables)\n", c.Name(), syntax.Version))
	}
	if err := commandSupported(cmd); err != nil {
		return err
	}
	if cmd.Wait.IntervalGiven && c.Stderr != nil {
		fmt.Fprintln(c.Stderr, waitIntervalNote)
	}
	if cmd.Wait.IntervalGiven && !cmd.Wait.Given {
		return paramf("--wait-interval only makes sense with --wait\n")
	}
	// Like iptables-legacy, every single command queues on the xtables
	// lock, so the shim never interleaves with a legacy writer or with
	// kube-proxy holding the lock around a restore.
	release, err := xtlock.Acquire(ctx, cmd.Wait)
	if err != nil {
		return lockError(err)
	}
	defer release()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	conn, err := b.open(ctx)
	if err != nil {
		return ipterr.Wrap(ipterr.Resource, err, err.Error())
	}
	defer conn.Close()
	fam := nfproto(c.Family)
	protos := loadProtocols(b.opts.ProtocolsFile)
	for try := 0; ; try++ {
		if err := ctx.Err(); err != nil {
			return ipterr.Wrap(ipterr.Resource, err, err.Error())
		}
		var st *kernelState
		if cmd.Chain != "" {
			st, err = leanState(conn, fam, cmd)
		} else {
			st, err = readState(conn, fam)
		}
		if err != nil {
			return ipterr.Wrap(ipterr.Resource, err, err.Error())
		}
		r := &cmdRun{b: b, conn: conn, call: c, cmd: cmd, st: st, fam: fam, protos: protos}
		r.p = newPlanner(c.Family, st, RestoreOptions{NoFlush: true, Counters: cmd.SetCounters}, protos, b.ipsets(c.Family))
		r.p.single = true
		err = r.run()
		if err == nil && r.p.txn.Len() > 0 {
			err = probeRevisions(conn, fam, r.p.needs)
			if err == nil {
				err = r.p.txn.commit(conn)
			}
		}
		r.p.txn.batch.Release()
		if (errors.Is(err, nfnl.ErrGenerationChanged) || errors.Is(err, nfnl.ErrDumpInterrupted)) && try < maxCommandRetries {
			select {
			case <-ctx.Done():
			case <-time.After(retryPause(try)):
			}
			continue
		}
		var ce *commitError
		if errors.As(err, &ce) && c.Stderr != nil {
			fmt.Fprintf(c.Stderr, "%s v%s (nf_tables): %s\n", c.Name(), syntax.Version, ce.Msg)
			return &ipterr.Error{Class: ipterr.Resource, Msg: ce.Msg, Printed: true, Err: err}
		}
		if errors.Is(err, nfnl.ErrGenerationChanged) || errors.Is(err, nfnl.ErrDumpInterrupted) {
			return ipterr.Wrap(ipterr.Resource, err, err.Error())
		}
		if err == nil && r.out != nil && c.Stdout != nil {
			// Listings are printed only once they are complete and the
			// command as a whole has succeeded.
			return write(c.Stdout, string(r.out))
		}
		return err
	}
}

// maxCommandRetries bounds how often a single command is planned again
// because another writer changed the ruleset under it. iptables-nft
// retries without bound; with several writers committing every few
// milliseconds (the stress test runs five beside an -I) ten attempts in a
// row lost now and then.
const maxCommandRetries = 100

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
	st     *kernelState
	fam    uint8
	protos *protocols
	p      *planner
	// out is what the command prints on success.
	out []byte
}

// table returns the kernel's view of the command's table (empty when the
// table does not exist).
func (r *cmdRun) table() *tableInfo {
	if t := r.st.tables[r.cmd.Table]; t != nil {
		return t
	}
	return &tableInfo{name: r.cmd.Table, chains: map[string]*chainInfo{}}
}

// run plans the command into r.p's transaction, or carries out a read.
func (r *cmdRun) run() error {
	cmd := r.cmd
	switch cmd.Op {
	case syntax.OpCheck:
		_, err := r.b.findRule(r.conn, r.call.Family, cmd, r.st, r.protos)
		return err
	case syntax.OpDelete:
		if cmd.Rule == nil {
			return r.deleteNum()
		}
		handle, err := r.b.findRule(r.conn, r.call.Family, cmd, r.st, r.protos)
		if err != nil {
			return err
		}
		r.p.txn.delRule(cmd.Table, cmd.Chain, handle)
		return nil
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
	case syntax.OpDeleteChain:
		if cmd.Chain == "" {
			return r.deleteAll()
		}
		if ch := r.table().chains[cmd.Chain]; ch != nil && ch.base {
			// iptables-nft sends it and lets the kernel refuse a
			// built-in chain that still has rules.
			r.p.txn.delChain(cmd.Table, cmd.Chain, 0)
			return nil
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
		return r.zero(cmd.Chain, 0, true)
	}
	err := r.p.planCommand(&syntax.Line{Kind: syntax.LineCommand, Table: cmd.Table, Cmd: cmd})
	var mc *missingChainError
	if errors.As(err, &mc) {
		return mc.error
	}
	return err
}

// chainRules returns the rules of a chain in order, nil when the chain
// does not exist.
func (r *cmdRun) chainRules(chain string) ([]dumpedRule, error) {
	if r.table().chains[chain] == nil {
		return nil, nil
	}
	return dumpChainRules(r.conn, r.fam, r.cmd.Table, chain)
}

// existingChain reports whether chain exists, failing as iptables-nft
// does ("No chain/target/match by that name.") when it does not.
func (r *cmdRun) existingChain(chain string) error {
	if r.table().chains[chain] == nil {
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
	r.p.txn.delRule(r.cmd.Table, r.cmd.Chain, rules[r.cmd.RuleNum-1].handle)
	return nil
}

// insertNum places -I N before the rule now at N, or after the last rule
// when N is one past the end, as iptables does.
func (r *cmdRun) insertNum() error {
	cmd := r.cmd
	if r.table().chains[cmd.Chain] == nil && lookupTable(cmd.Table).builtin(cmd.Chain) == nil {
		return shortError(noChain)
	}
	rules, err := r.chainRules(cmd.Chain)
	if err != nil {
		return err
	}
	i := cmd.RuleNum - 1
	switch {
	case i < len(rules):
		r.p.at = &rulePlace{ref: rules[i].handle}
	case i == len(rules):
		r.p.at = &rulePlace{appendIt: true, ref: rules[i-1].handle}
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
	r.p.at = &rulePlace{replace: true, ref: rules[cmd.RuleNum-1].handle}
	return r.planRule()
}

func (r *cmdRun) planRule() error {
	err := r.p.planCommand(&syntax.Line{Kind: syntax.LineCommand, Table: r.cmd.Table, Cmd: r.cmd})
	var mc *missingChainError
	if errors.As(err, &mc) {
		return mc.error
	}
	return err
}

// zero resets counters as iptables-nft -Z does: base chains are resent
// with zero counters and every rule with a counter is replaced in place by
// itself with a zero counter; with a rule number only that rule (a number
// past the end is no error). After a listing (-L -Z) the built-in chains
// the listing showed without the kernel having them are zeroed too, which
// creates them: iptables-nft lists them from its cache and zeroes them.
func (r *cmdRun) zero(chain string, num int, afterList bool) error {
	t := r.table()
	if chain != "" && t.chains[chain] == nil && !afterList {
		return shortError(noChain)
	}
	vt := r.p.table(r.cmd.Table)
	for _, lc := range listedChains(t, chain) {
		ch := lc.info
		if ch == nil {
			if !afterList {
				continue
			}
			r.p.ensureTable(vt, 0)
			r.p.txn.setBaseChain(vt.spec.name, vt.spec.builtin(lc.name), policyAccept, &syntax.Counters{}, 0, actChainZero)
			vt.chains[lc.name] = true
		} else if ch.base && num == 0 {
			r.p.txn.zeroBaseChain(t.name, ch)
		}
		if r.cmd.Verbose && num == 0 {
			r.out = fmt.Appendf(r.out, "Zeroing chain `%s'\n", lc.name)
		}
		if ch == nil {
			continue
		}
		rules, err := r.chainRules(ch.name)
		if err != nil {
			return err
		}
		for i := range rules {
			if num > 0 && i != num-1 {
				continue
			}
			if err := r.resendZeroed(ch.name, &rules[i], num > 0); err != nil {
				return err
			}
		}
	}
	return nil
}

// resendZeroed replaces a rule by itself with its counters zeroed; rules
// without a counter are left alone unless always is set.
func (r *cmdRun) resendZeroed(chain string, d *dumpedRule, always bool) error {
	hasCounter := false
	for i, e := range d.exprs {
		if c, ok := e.(*expr.Counter); ok {
			z := *c
			z.Packets, z.Bytes = 0, 0
			d.exprs[i] = &z
			hasCounter = true
		}
	}
	if !hasCounter && !always {
		return nil
	}
	er := encodedRule{exprs: d.exprs, proto: d.proto, invProto: d.invProto}
	if err := r.p.txn.addRuleAt(r.cmd.Table, chain, &er, rulePlace{replace: true, ref: d.handle}, 0); err != nil {
		return ipterr.Wrap(ipterr.Other, err, err.Error())
	}
	return nil
}

// rename is -E: the new name must be free (built-in names never are), the
// old chain must exist.
func (r *cmdRun) rename() error {
	cmd := r.cmd
	t := r.table()
	if t.chains[cmd.NewName] != nil || lookupTable(cmd.Table).builtin(cmd.NewName) != nil {
		return shortError(chainExists)
	}
	ch := t.chains[cmd.Chain]
	if ch == nil {
		return shortError(noChain)
	}
	r.p.txn.renameChain(cmd.Table, ch.handle, cmd.NewName)
	return nil
}

// deleteAll is -X without a chain: every user chain goes, and so does
// every built-in chain that is empty with policy ACCEPT (iptables-nft
// 1.8.9 removes those as well). The kernel refuses chains still in use.
func (r *cmdRun) deleteAll() error {
	t := r.st.tables[r.cmd.Table]
	if t == nil {
		return nil
	}
	for _, ch := range sortedChains(t) {
		if ch.base && (ch.use > 0 || ch.policy != policyAccept) {
			continue
		}
		r.p.txn.delChain(t.name, ch.name, 0)
	}
	return nil
}

// flushAll is -F without a chain: every chain of the table is emptied.
func (r *cmdRun) flushAll() error {
	t := r.st.tables[r.cmd.Table]
	if t == nil {
		return nil
	}
	for _, ch := range sortedChains(t) {
		r.p.txn.flushChain(t.name, ch.name, 0, actRuleFlush)
	}
	return nil
}
