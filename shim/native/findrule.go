package native

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/nfnl"
	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/nftread"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
	"github.com/iptables-shim/iptables-shim/shim/xt"
)

// findRule returns the handle of the first rule of cmd's chain that
// equals cmd's rule, or iptables' "Bad rule" error. Rules are compared as
// iptables-nft compares them: as iptables rules, whichever dialect wrote
// them (semantic.go), xt blobs byte for byte, counters ignored.
func (b *Backend) findRule(conn nfnl.Transport, fam syntax.Family, cmd *syntax.Command, st *nftread.KernelState, protos *nftread.Protocols) (uint64, error) {
	short := func(msg string) error {
		d := &syntax.Diagnostic{Form: syntax.FormShort, Template: msg + "."}
		return &ipterr.Error{Class: ipterr.Other, Msg: d.Template, Err: d}
	}
	t := st.Tables[cmd.Table]
	if t == nil || t.Chains[cmd.Chain] == nil {
		// iptables parses the whole rule before it looks for the chain:
		// a rule it cannot parse fails as such (any jump is taken for a
		// chain here, as there is none to look in).
		env := &ruleEnv{fam: fam, table: cmd.Table, chain: cmd.Chain, protos: protos, ipsets: b.ipsets(fam), dialect: b.opts.Dialect,
			isChain: func(string) bool { return true }}
		if _, err := encodeRule(env, cmd.Rule); err != nil && ipterr.Is(err, ipterr.Parameter) {
			return 0, err
		}
		return 0, short(notFoundRule)
	}
	isChain := func(name string) bool { ch := t.Chains[name]; return ch != nil && !ch.Base }
	matcher, err := b.newRuleMatcher(fam, cmd, isChain, protos)
	if err != nil {
		return 0, err
	}
	var req nfnl.Attrs
	req.String(unix.NFTA_RULE_TABLE, cmd.Table)
	req.String(unix.NFTA_RULE_CHAIN, cmd.Chain)
	var handle uint64
	found := false
	err = conn.Dump(nfnl.MsgType(nfnl.SubsysNFTables, unix.NFT_MSG_GETRULE), nftread.NFProto(fam), req.B, func(m nfnl.Message) error {
		if found {
			return nil
		}
		got, err := nftread.ParseRule(nftread.NFProto(fam), m.Attrs)
		if err != nil {
			return nil
		}
		if matcher.matches(got.Exprs, got.Comment) {
			handle, found = got.Handle, true
		}
		return nil
	})
	if errors.Is(err, unix.ENOENT) {
		// The chain went away since it was looked up.
		return 0, short(notFoundRule)
	}
	if errors.Is(err, nfnl.ErrDumpInterrupted) {
		return 0, err
	}
	if err != nil {
		return 0, ipterr.Wrap(ipterr.Resource, err, err.Error())
	}
	if !found {
		return 0, short(notFoundRule)
	}
	return handle, nil
}

// ruleMatcher finds the rules that equal one iptables rule, as
// iptables-nft compares them (see findRule).
type ruleMatcher struct {
	forms   [][]expr.Any
	want    []expr.Any
	renv    *nftread.RenderEnv
	chain   string
	wantSem nftread.SemRule
	wantOK  bool
}

// newRuleMatcher encodes cmd's rule for comparison with the rules of its
// chain; isChain says which names are user chains.
func (b *Backend) newRuleMatcher(fam syntax.Family, cmd *syntax.Command, isChain func(string) bool, protos *nftread.Protocols) (*ruleMatcher, error) {
	env := &ruleEnv{
		fam: fam, table: cmd.Table, chain: cmd.Chain, protos: protos, ipsets: b.ipsets(fam), dialect: b.opts.Dialect,
		isChain: isChain,
	}
	r, err := encodeRule(env, cmd.Rule)
	if err != nil {
		var mc *missingChainError
		if errors.As(err, &mc) {
			return nil, mc.error
		}
		return nil, err
	}
	want, err := normalizeExprs(fam, r.exprs)
	if err != nil {
		return nil, err
	}
	// The candidate in every dialect: a rule any version's own tool wrote
	// equals one of them expression by expression. Other rules are found
	// by what they mean (semantic.go), decoded only when the cheap tests
	// (same verdict, same base fields) let them through.
	m := &ruleMatcher{forms: [][]expr.Any{want}, want: want, chain: cmd.Chain}
	for _, d := range dialect.All {
		if d == env.dialect.Or() {
			continue
		}
		denv := *env
		denv.dialect = d
		if dr, err := encodeRule(&denv, cmd.Rule); err == nil {
			if w, err := normalizeExprs(fam, dr.exprs); err == nil {
				m.forms = append(m.forms, w)
			}
		}
	}
	m.renv = &nftread.RenderEnv{Fam: fam, Table: cmd.Table, Protos: protos, IPSets: env.ipsets}
	m.wantSem, m.wantOK = nftread.DecodeSem(m.renv, cmd.Chain, want)
	return m, nil
}

// matches reports whether a rule (its expressions and the comment in its
// user data) equals the rule's.
func (m *ruleMatcher) matches(got []expr.Any, comment string) bool {
	for _, w := range m.forms {
		if comment == "" && sameExprs(got, w) {
			return true
		}
	}
	if m.wantOK && nftread.SameTarget(got, m.want) && nftread.SameBase(m.renv, got, &m.wantSem) {
		if gotSem, ok := nftread.DecodeSemComment(m.renv, m.chain, got, comment); ok && gotSem.Equal(&m.wantSem) {
			return true
		}
	}
	return false
}

// normalizeExprs encodes expressions and decodes them again, as a dumped
// rule is read, so they compare with sameExprs.
func normalizeExprs(fam syntax.Family, es []expr.Any) ([]expr.Any, error) {
	var a nfnl.Attrs
	for _, e := range es {
		if err := nftread.AppendExpr(&a, nftread.NFProto(fam), e); err != nil {
			return nil, ipterr.Wrap(ipterr.Other, err, err.Error())
		}
	}
	out, err := nftread.DecodeExprs(nftread.NFProto(fam), a.B)
	if err != nil {
		return nil, ipterr.Wrap(ipterr.Other, err, err.Error())
	}
	return out, nil
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
	case *expr.Match:
		if !xt.CompareAll(e.Name) {
			// iptables-nft compares none of this match's blob.
			m := *e
			m.Info = nil
			return &m
		}
	}
	return e
}

// dumpChainRules returns the rules of one chain in order, decoded from
// copies of the dumped messages (the dump's buffer is reused).
func dumpChainRules(c nfnl.Transport, fam uint8, table, chain string) ([]nftread.DumpedRule, error) {
	var req nfnl.Attrs
	req.String(unix.NFTA_RULE_TABLE, table)
	req.String(unix.NFTA_RULE_CHAIN, chain)
	var rules []nftread.DumpedRule
	var decodeErr error
	err := c.Dump(nfnl.MsgType(nfnl.SubsysNFTables, unix.NFT_MSG_GETRULE), fam, req.B, func(m nfnl.Message) error {
		r, err := nftread.ParseRule(fam, append([]byte(nil), m.Attrs...))
		if err != nil && decodeErr == nil {
			decodeErr = err
		}
		rules = append(rules, r)
		return nil
	})
	if err != nil {
		if errors.Is(err, nfnl.ErrDumpInterrupted) || errors.Is(err, unix.ENOENT) {
			return nil, nfnl.ErrDumpInterrupted
		}
		return nil, ipterr.Wrap(ipterr.Resource, err, fmt.Sprintf("listing rules of chain %s: %v", chain, err))
	}
	if decodeErr != nil {
		err := fmt.Errorf("table %s chain %s: %w", table, chain, decodeErr)
		return nil, ipterr.Wrap(ipterr.Other, err, err.Error())
	}
	return rules, nil
}

// lookupChain asks the kernel for one chain of a table; nil when the table
// or the chain does not exist.
func lookupChain(c nfnl.Transport, fam uint8, table, name string) (*nftread.ChainInfo, error) {
	var a nfnl.Attrs
	a.String(unix.NFTA_CHAIN_TABLE, table)
	a.String(unix.NFTA_CHAIN_NAME, name)
	msgs, err := c.Request(nfnl.MsgType(nfnl.SubsysNFTables, unix.NFT_MSG_GETCHAIN), 0, fam, a.B)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, ipterr.Wrap(ipterr.Resource, err, fmt.Sprintf("looking up chain %s: %v", name, err))
	}
	for _, m := range msgs {
		if _, ch := nftread.ParseChain(m.Attrs); ch.Name == name {
			return ch, nil
		}
	}
	return nil, nil
}

// tableExists asks the kernel whether a table of the family exists.
func tableExists(c nfnl.Transport, fam uint8, table string) (bool, error) {
	var a nfnl.Attrs
	a.String(unix.NFTA_TABLE_NAME, table)
	_, err := c.Request(nfnl.MsgType(nfnl.SubsysNFTables, unix.NFT_MSG_GETTABLE), 0, fam, a.B)
	if errors.Is(err, unix.ENOENT) {
		return false, nil
	}
	if err != nil {
		return false, ipterr.Wrap(ipterr.Resource, err, fmt.Sprintf("looking up table %s: %v", table, err))
	}
	return true, nil
}

// leanState is the part of the kernel state a command on one chain needs:
// whether its table exists, its chain, the new name of -E and the chain
// its rule jumps to, each asked for by name, at one generation. A command
// then costs the same however many other chains and rules the table holds
// (kube-proxy runs many -C and -A against tables of thousands of chains).
func leanState(c nfnl.Transport, fam uint8, cmd *syntax.Command) (*nftread.KernelState, error) {
	for try := 0; ; try++ {
		st, err := leanStateOnce(c, fam, cmd)
		if err == nil || try == nftread.MaxDumpTries || !errors.Is(err, nfnl.ErrDumpInterrupted) {
			return st, err
		}
	}
}

func leanStateOnce(c nfnl.Transport, fam uint8, cmd *syntax.Command) (*nftread.KernelState, error) {
	gen, err := c.GenID()
	if err != nil {
		return nil, ipterr.Wrap(ipterr.Resource, err, err.Error())
	}
	st := &nftread.KernelState{GenID: gen, Tables: map[string]*nftread.TableInfo{}}
	ok, err := tableExists(c, fam, cmd.Table)
	if err != nil || !ok {
		return st, err
	}
	t := &nftread.TableInfo{Name: cmd.Table, Chains: map[string]*nftread.ChainInfo{}}
	st.Tables[cmd.Table] = t
	names := []string{cmd.Chain, cmd.NewName}
	if cmd.Rule != nil && cmd.Rule.Target != nil {
		names = append(names, cmd.Rule.Target.Name)
	}
	for _, n := range names {
		if n == "" || t.Chains[n] != nil {
			continue
		}
		ch, err := lookupChain(c, fam, cmd.Table, n)
		if err != nil {
			return nil, err
		}
		if ch != nil {
			t.Chains[n] = ch
		}
	}
	after, err := c.GenID()
	if err != nil {
		return nil, ipterr.Wrap(ipterr.Resource, err, err.Error())
	}
	if after != gen {
		return nil, nfnl.ErrDumpInterrupted
	}
	return st, nil
}
