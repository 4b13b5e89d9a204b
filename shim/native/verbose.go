package native

import (
	"fmt"
	"sort"

	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/nftread"
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
func ruleNote(fam syntax.Family, table, chain string, protos *nftread.Protocols, p *planner, r *encodedRule) ([]byte, error) {
	env := &nftread.RenderEnv{Fam: fam, Table: table, Protos: protos}
	if p != nil {
		env.IPSets = p.ipsets
	}
	v, err := nftread.ViewRule(env, &nftread.DumpedRule{Chain: chain, Exprs: r.exprs, Proto: r.proto, InvProto: r.invProto})
	if err != nil {
		return nil, ipterr.Wrap(ipterr.Other, err, err.Error())
	}
	if w := v.AppendWarnings(nil); len(w) > 0 {
		// iptables-nft prints the extension's warning on stderr as it
		// prints the rule; -v's notes are stdout only.
		return nil, nftread.Unsupportedf("-v with a rule whose extension warns (%s)", w[0])
	}
	lp := &nftread.LinePrinter{Format: nftread.ListFormat{Numeric: true, Rule: true}, Fam: fam, Protos: protos, Names: nftread.NewNames(nftread.DefaultNameFiles)}
	return lp.Rule(nil, 0, &v)
}

// verboseTableFlush is what iptables-nft-restore -v does at a table line
// instead of deleting the table: it creates the table's built-in chains,
// flushes every chain (naming each: built-in chains in hook order, then
// user chains by name), then deletes every user chain (naming each) and
// every built-in chain it may delete (policy ACCEPT; a DROP one stays).
func (p *planner) verboseTableFlush(vt *viewTable, line int) {
	order := p.flushAllChains(vt, line)
	for _, name := range order {
		if vt.spec.Builtin(name) != nil {
			if p.kernelPolicy(vt.spec.Name, name) != nftread.PolicyAccept {
				// Kept in the kernel, but gone from iptables-nft's
				// cache: a later rule for it creates it again, which
				// resets its policy to ACCEPT.
				delete(vt.chains, name)
				continue
			}
		} else {
			p.noteChain("Deleting", name)
		}
		p.txn.delChain(vt.spec.Name, name, line)
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
		if !base && vt.spec.Builtin(name) == nil {
			user = append(user, name)
		}
	}
	sort.Strings(user)
	var order []string
	for i := range vt.spec.Chains {
		order = append(order, vt.spec.Chains[i].Name)
	}
	order = append(order, user...)
	for _, name := range order {
		p.noteChain("Flushing", name)
		p.txn.dropPending(vt.spec.Name, name)
		p.txn.flushChain(vt.spec.Name, name, line, actRuleFlush)
	}
	return order
}

// creationOrder is the order iptables-nft creates a table's built-in
// chains in (its builtin_table arrays): hook order, except that nat has
// POSTROUTING before OUTPUT. The order shows in the kernel's listing.
func creationOrder(spec *nftread.TableSpec) []*nftread.BuiltinChain {
	out := make([]*nftread.BuiltinChain, 0, len(spec.Chains))
	for i := range spec.Chains {
		out = append(out, &spec.Chains[i])
	}
	if spec.Name == "nat" {
		sort.SliceStable(out, func(i, j int) bool {
			return out[i].Name == "POSTROUTING" && out[j].Name == "OUTPUT"
		})
	}
	return out
}

// kernelPolicy is the policy a built-in chain has in the state the
// planner started from (ACCEPT for one the kernel does not have).
func (p *planner) kernelPolicy(table, chain string) uint32 {
	if p.state == nil {
		return nftread.PolicyAccept
	}
	if t := p.state.Tables[table]; t != nil {
		if ch := t.Chains[chain]; ch != nil && ch.Base {
			return ch.Policy
		}
	}
	return nftread.PolicyAccept
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
		isChain: func(name string) bool { ch := t.Chains[name]; return ch != nil && !ch.Base },
	}
	er, err := encodeRule(env, r.cmd.Rule)
	if err != nil {
		return err
	}
	return r.p.noteRule(r.cmd.Table, r.cmd.Chain, &er)
}
