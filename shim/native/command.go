package native

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"sort"
	"strings"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/native/nfnl"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// Single iptables commands run as a transaction of their own, planned
// against the kernel state by the same planner a restore uses; -C, -D and
// -S read the chain's rules. Supported: -N, -X CHAIN, -F CHAIN, -A, -I
// (at the head), -P, -C, -D by rule spec, -S [CHAIN] without -v. The rest
// is reported unsupported, for the router to hand to a real binary.

// commandSupported reports whether a single command is handled natively.
func commandSupported(c *syntax.Command) error {
	switch c.Op {
	case syntax.OpNewChain, syntax.OpPolicy, syntax.OpAppend:
	case syntax.OpDeleteChain, syntax.OpFlush:
		if c.Chain == "" {
			return unsupportedf("%s without a chain", opName(c.Op))
		}
	case syntax.OpInsert:
		if c.RuleNum > 1 {
			return unsupportedf("-I with a rule number")
		}
	case syntax.OpCheck:
	case syntax.OpDelete:
		if c.Rule == nil {
			return unsupportedf("-D by rule number")
		}
	case syntax.OpListRules:
		if c.Verbose || c.RuleNum > 0 {
			return unsupportedf("-S with -v or a rule number")
		}
	default:
		return unsupportedf("command %s", opName(c.Op))
	}
	if lookupTable(c.Table) == nil {
		return unsupportedf("table %s", c.Table)
	}
	return nil
}

// notFoundRule is iptables' answer when -C or -D finds no such rule.
const notFoundRule = "Bad rule (does a matching rule exist in that chain?)"

func (b *Backend) command(ctx context.Context, c *backend.Call) error {
	cmd, err := syntax.ParseCommand(c.Args, c.Family)
	if err != nil {
		return err
	}
	if cmd.Ignored {
		return nil
	}
	if err := commandSupported(cmd); err != nil {
		return err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	conn, err := nfnl.Open()
	if err != nil {
		return ipterr.Wrap(ipterr.Resource, err, err.Error())
	}
	defer conn.Close()
	fam := nfproto(c.Family)
	for try := 0; ; try++ {
		if err := ctx.Err(); err != nil {
			return ipterr.Wrap(ipterr.Resource, err, err.Error())
		}
		st, err := readState(conn, fam)
		if err != nil {
			return ipterr.Wrap(ipterr.Resource, err, err.Error())
		}
		switch cmd.Op {
		case syntax.OpListRules:
			return b.listRules(conn, c, cmd, st)
		case syntax.OpCheck:
			_, err := b.findRule(conn, c.Family, cmd, st)
			return err
		}
		p := newPlanner(c.Family, st, RestoreOptions{NoFlush: true}, loadProtocols(b.opts.ProtocolsFile), b.ipsets())
		p.single = true
		err = b.planSingle(conn, c.Family, cmd, st, p)
		if err == nil {
			err = probeRevisions(conn, fam, p.needs)
		}
		if err == nil {
			err = p.txn.commit(conn)
		}
		p.txn.batch.Release()
		if errors.Is(err, nfnl.ErrGenerationChanged) && try < maxGenRetries {
			continue
		}
		var ce *commitError
		if errors.As(err, &ce) && c.Stderr != nil {
			fmt.Fprintf(c.Stderr, "%s v%s (nf_tables): %s\n", c.Name(), syntax.Version, ce.Msg)
			return &ipterr.Error{Class: ipterr.Resource, Msg: ce.Msg, Printed: true, Err: err}
		}
		if errors.Is(err, nfnl.ErrGenerationChanged) {
			return ipterr.Wrap(ipterr.Resource, err, err.Error())
		}
		return err
	}
}

// planSingle adds the messages of one modifying command to p's
// transaction.
func (b *Backend) planSingle(conn *nfnl.Conn, fam syntax.Family, cmd *syntax.Command, st *kernelState, p *planner) error {
	if cmd.Op == syntax.OpDelete {
		handle, err := b.findRule(conn, fam, cmd, st)
		if err != nil {
			return err
		}
		p.txn.delRule(cmd.Table, cmd.Chain, handle)
		return nil
	}
	vt := p.table(cmd.Table)
	if cmd.Op == syntax.OpDeleteChain {
		base, ok := vt.chains[cmd.Chain]
		if !ok {
			return p.failed(0, noChain)
		}
		if base {
			// iptables-nft sends it and lets the kernel refuse it.
			p.txn.delChain(cmd.Table, cmd.Chain, 0)
			return nil
		}
	}
	err := p.planCommand(&syntax.Line{Kind: syntax.LineCommand, Table: cmd.Table, Cmd: cmd})
	var mc *missingChainError
	if errors.As(err, &mc) {
		return mc.error
	}
	return err
}

// findRule returns the handle of the first rule of cmd's chain that
// equals cmd's rule, or iptables' "Bad rule" error. Rules are compared as
// iptables-nft compares them: expression by expression, xt blobs byte for
// byte, counters ignored.
func (b *Backend) findRule(conn *nfnl.Conn, fam syntax.Family, cmd *syntax.Command, st *kernelState) (uint64, error) {
	short := func(msg string) error {
		d := &syntax.Diagnostic{Form: syntax.FormShort, Template: msg + "."}
		return &ipterr.Error{Class: ipterr.Other, Msg: d.Template, Err: d}
	}
	t := st.tables[cmd.Table]
	if t == nil || t.chains[cmd.Chain] == nil {
		return 0, short(notFoundRule)
	}
	env := &ruleEnv{
		fam: fam, table: cmd.Table, chain: cmd.Chain, protos: loadProtocols(b.opts.ProtocolsFile), ipsets: b.ipsets(),
		isChain: func(name string) bool { ch := t.chains[name]; return ch != nil && !ch.base },
	}
	r, err := encodeRule(env, cmd.Rule)
	if err != nil {
		var mc *missingChainError
		if errors.As(err, &mc) {
			return 0, mc.error
		}
		return 0, err
	}
	// Normalise the candidate the way a dumped rule is read.
	var a nfnl.Attrs
	for _, e := range r.exprs {
		if err := appendExpr(&a, nfproto(fam), e); err != nil {
			return 0, ipterr.Wrap(ipterr.Other, err, err.Error())
		}
	}
	want, err := decodeExprs(nfproto(fam), a.B)
	if err != nil {
		return 0, ipterr.Wrap(ipterr.Other, err, err.Error())
	}
	var req nfnl.Attrs
	req.String(unix.NFTA_RULE_TABLE, cmd.Table)
	req.String(unix.NFTA_RULE_CHAIN, cmd.Chain)
	var handle uint64
	found := false
	err = conn.Dump(nfnl.MsgType(nfnl.SubsysNFTables, unix.NFT_MSG_GETRULE), nfproto(fam), req.B, func(m nfnl.Message) error {
		if found {
			return nil
		}
		got, err := parseRule(nfproto(fam), m.Attrs)
		if err == nil && sameExprs(got.exprs, want) {
			handle, found = got.handle, true
		}
		return nil
	})
	if err != nil {
		return 0, ipterr.Wrap(ipterr.Resource, err, err.Error())
	}
	if !found {
		return 0, short(notFoundRule)
	}
	return handle, nil
}

// sameExprs compares two decoded rules, ignoring counter values.
func sameExprs(a, b []expr.Any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if _, ok := a[i].(*expr.Counter); ok {
			if _, ok := b[i].(*expr.Counter); ok {
				continue
			}
			return false
		}
		if !reflect.DeepEqual(normalizeExpr(a[i]), normalizeExpr(b[i])) {
			return false
		}
	}
	return true
}

// normalizeExpr maps empty slices to nil so DeepEqual compares content.
func normalizeExpr(e expr.Any) expr.Any {
	switch e := e.(type) {
	case *expr.Cmp:
		c := *e
		if len(c.Data) == 0 {
			c.Data = nil
		}
		return &c
	case *expr.Bitwise:
		b := *e
		if len(b.Mask) == 0 {
			b.Mask = nil
		}
		if len(b.Xor) == 0 {
			b.Xor = nil
		}
		return &b
	}
	return e
}

// listRules prints -S: policies of the built-in chains, -N for user
// chains, then the rules, in iptables-nft-save's order.
func (b *Backend) listRules(conn *nfnl.Conn, c *backend.Call, cmd *syntax.Command, st *kernelState) error {
	spec := lookupTable(cmd.Table)
	t := st.tables[cmd.Table]
	if t == nil {
		t = &tableInfo{name: cmd.Table, chains: map[string]*chainInfo{}}
	}
	if cmd.Chain != "" && spec.builtin(cmd.Chain) == nil && t.chains[cmd.Chain] == nil {
		// iptables-nft 1.8.9's odd answer for a chain that does not exist.
		msg := fmt.Sprintf("chain `%s' in table `%s' is incompatible, use 'nft' tool.", cmd.Chain, cmd.Table)
		if c.Stderr != nil {
			fmt.Fprintf(c.Stderr, "%s v%s (nf_tables): %s\n", c.Name(), syntax.Version, msg)
		}
		return &ipterr.Error{Class: ipterr.Other, Msg: msg, Printed: true}
	}
	var out strings.Builder
	var order []string
	for _, bc := range spec.chains {
		if cmd.Chain != "" && cmd.Chain != bc.name {
			continue
		}
		pol := "ACCEPT"
		if ch := t.chains[bc.name]; ch != nil && ch.policy == policyDrop {
			pol = "DROP"
		}
		fmt.Fprintf(&out, "-P %s %s\n", bc.name, pol)
		order = append(order, bc.name)
	}
	var user []string
	for name, ch := range t.chains {
		if !ch.base && (cmd.Chain == "" || cmd.Chain == name) {
			user = append(user, name)
		}
	}
	sort.Strings(user)
	for _, name := range user {
		fmt.Fprintf(&out, "-N %s\n", name)
	}
	order = append(order, user...)
	env := &renderEnv{fam: c.Family, table: cmd.Table, protos: loadProtocols(b.opts.ProtocolsFile), ipsets: b.ipsets()}
	var rules []byte
	for _, chain := range order {
		if t.chains[chain] == nil {
			continue
		}
		var err error
		if rules, err = dumpRules(conn, nfproto(c.Family), env, chain, rules); err != nil {
			return err
		}
	}
	out.Write(rules)
	if c.Stdout != nil {
		if _, err := c.Stdout.Write([]byte(out.String())); err != nil {
			return ipterr.Wrap(ipterr.Other, err, err.Error())
		}
	}
	return nil
}
