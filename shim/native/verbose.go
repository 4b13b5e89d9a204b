package native

import (
	"fmt"
	"sort"

	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// -v on writes. iptables-nft prints, while it prepares its batch, one line
// per rule a command adds, inserts, replaces, deletes by specification or
// checks, in the tabless numeric form FMT_PRINT_RULE ("ACCEPT  all opt --
// in * out *  0.0.0.0/0  -> 0.0.0.0/0  "), and "Flushing chain `X'" /
// "Deleting chain `X'" / "Zeroing chain `X'" for the chains -F, -X and -Z
// walk. iptables-nft-restore -v prints the same for every line of a table
// section at its COMMIT (rule lines only without --noflush, as it passes
// -v on to them only then), after echoing the section's comment lines,
// which it prints as it reads them.

// noteRule renders a rule the planner encoded as -v prints it.
func (p *planner) noteRule(table, chain string, r *encodedRule) error {
	if !p.verbose {
		return nil
	}
	s, err := ruleNote(p.fam, table, chain, p.protos, p, r)
	if err != nil {
		return err
	}
	p.notes = append(p.notes, s...)
	return nil
}

// noteChain adds one "VERB chain `NAME'" line when -v is in effect.
func (p *planner) noteChain(verb, chain string) {
	if p.verbose {
		p.notes = fmt.Appendf(p.notes, "%s chain `%s'\n", verb, chain)
	}
}

// ruleNote is FMT_PRINT_RULE of an encoded rule: it is decoded as a
// dumped rule would be, so it reads exactly as the kernel will have it.
func ruleNote(fam syntax.Family, table, chain string, protos *protocols, p *planner, r *encodedRule) ([]byte, error) {
	env := &renderEnv{fam: fam, table: table, protos: protos}
	if p != nil {
		env.ipsets = p.ipsets
	}
	v, err := viewRule(env, &dumpedRule{chain: chain, exprs: r.exprs, proto: r.proto, invProto: r.invProto})
	if err != nil {
		return nil, ipterr.Wrap(ipterr.Other, err, err.Error())
	}
	if w := v.appendWarnings(nil); len(w) > 0 {
		// iptables-nft prints the extension's warning on stderr as it
		// prints the rule; -v's notes are stdout only.
		return nil, unsupportedf("-v with a rule whose extension warns (%s)", w[0])
	}
	lp := &linePrinter{f: listFormat{numeric: true, rule: true}, fam: fam, protos: protos, names: newNames(defaultNameFiles)}
	return lp.rule(nil, 0, &v)
}

// verboseTableFlush is what iptables-nft-restore -v does at a table line
// instead of deleting the table: it creates the table's built-in chains,
// flushes every chain (naming each: built-in chains in hook order, then
// user chains by name), then deletes every user chain (naming each) and
// every built-in chain it may delete (policy ACCEPT; a DROP one stays).
func (p *planner) verboseTableFlush(vt *viewTable, line int) {
	order := p.flushAllChains(vt, line)
	for _, name := range order {
		if vt.spec.builtin(name) != nil {
			if p.kernelPolicy(vt.spec.name, name) != policyAccept {
				// Kept in the kernel, but gone from iptables-nft's
				// cache: a later rule for it creates it again, which
				// resets its policy to ACCEPT.
				delete(vt.chains, name)
				continue
			}
		} else {
			p.noteChain("Deleting", name)
		}
		p.txn.delChain(vt.spec.name, name, line)
		delete(vt.chains, name)
	}
}

// flushAllChains is nft_rule_flush of a whole table with -v: the table's
// built-in chains are created (in iptables-nft's table order), then every
// chain is flushed and named, built-in chains in hook order, user chains
// by name. It returns the chains in that order.
func (p *planner) flushAllChains(vt *viewTable, line int) []string {
	for _, bc := range creationOrder(vt.spec) {
		p.ensureBuiltin(vt, bc, line)
	}
	var user []string
	for name, base := range vt.chains {
		if !base && vt.spec.builtin(name) == nil {
			user = append(user, name)
		}
	}
	sort.Strings(user)
	var order []string
	for i := range vt.spec.chains {
		order = append(order, vt.spec.chains[i].name)
	}
	order = append(order, user...)
	for _, name := range order {
		p.noteChain("Flushing", name)
		p.txn.dropPending(vt.spec.name, name)
		p.txn.flushChain(vt.spec.name, name, line, actRuleFlush)
	}
	return order
}

// creationOrder is the order iptables-nft creates a table's built-in
// chains in (its builtin_table arrays): hook order, except that nat has
// POSTROUTING before OUTPUT. The order shows in the kernel's listing.
func creationOrder(spec *tableSpec) []*builtinChain {
	out := make([]*builtinChain, 0, len(spec.chains))
	for i := range spec.chains {
		out = append(out, &spec.chains[i])
	}
	if spec.name == "nat" {
		sort.SliceStable(out, func(i, j int) bool {
			return out[i].name == "POSTROUTING" && out[j].name == "OUTPUT"
		})
	}
	return out
}

// kernelPolicy is the policy a built-in chain has in the state the
// planner started from (ACCEPT for one the kernel does not have).
func (p *planner) kernelPolicy(table, chain string) uint32 {
	if p.state == nil {
		return policyAccept
	}
	if t := p.state.tables[table]; t != nil {
		if ch := t.chains[chain]; ch != nil && ch.base {
			return ch.policy
		}
	}
	return policyAccept
}

// noteSpec prints, with -v, the rule -C found or -D deletes by
// specification (iptables-nft prints the rule it found, which encodes as
// the specification does).
func (r *cmdRun) noteSpec() error {
	if !r.cmd.Verbose {
		return nil
	}
	t := r.table()
	env := &ruleEnv{
		fam: r.call.Family, table: r.cmd.Table, chain: r.cmd.Chain, protos: r.protos, ipsets: r.b.ipsets(r.call.Family),
		isChain: func(name string) bool { ch := t.chains[name]; return ch != nil && !ch.base },
	}
	er, err := encodeRule(env, r.cmd.Rule)
	if err != nil {
		return err
	}
	return r.p.noteRule(r.cmd.Table, r.cmd.Chain, &er)
}
