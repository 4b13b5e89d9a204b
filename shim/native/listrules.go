package native

import (
	"fmt"
	"sort"

	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// listChain is one chain a listing shows: a built-in chain appears even
// when the kernel lacks it (iptables-nft lists its built-in chains as if
// they existed, with policy ACCEPT and zero counters).
type listChain struct {
	name string
	// info is the kernel's chain, nil for an absent built-in chain.
	info *chainInfo
	base bool
}

// sortedChains returns a table's chains in iptables' listing order: the
// built-in chains in the table's order, then user chains by name.
func sortedChains(t *tableInfo) []*chainInfo {
	var out []*chainInfo
	for _, lc := range listedChains(t, "") {
		if lc.info != nil {
			out = append(out, lc.info)
		}
	}
	return out
}

// listedChains returns the chains -S and -L show, in their order, limited
// to one chain when only is set.
func listedChains(t *tableInfo, only string) []listChain {
	spec := lookupTable(t.name)
	var out []listChain
	for _, bc := range spec.chains {
		if only == "" || only == bc.name {
			out = append(out, listChain{name: bc.name, info: t.chains[bc.name], base: true})
		}
	}
	var user []string
	for name, ch := range t.chains {
		if spec.builtin(name) == nil && (only == "" || only == name) && ch != nil {
			user = append(user, name)
		}
	}
	sort.Strings(user)
	for _, name := range user {
		out = append(out, listChain{name: name, info: t.chains[name], base: t.chains[name].base})
	}
	return out
}

// incompatibleChain is iptables-nft 1.8.9's odd answer for listing a chain
// that does not exist.
func (r *cmdRun) incompatibleChain() error {
	msg := fmt.Sprintf("chain `%s' in table `%s' is incompatible, use 'nft' tool.", r.cmd.Chain, r.cmd.Table)
	if r.call.Stderr != nil {
		fmt.Fprintf(r.call.Stderr, "%s v%s (nf_tables): %s\n", r.call.Name(), syntax.Version, msg)
	}
	return &ipterr.Error{Class: ipterr.Other, Msg: msg, Printed: true}
}

// listRules renders -S [CHAIN [N]] [-v]: policies of the built-in chains,
// -N for user chains, then the rules, in iptables-nft-save's order. With a
// rule number only that rule is printed (nothing when there is no such
// rule); -v adds "-c PACKETS BYTES".
func (r *cmdRun) listRules() ([]byte, error) {
	cmd := r.cmd
	t := r.table()
	if cmd.Chain != "" && lookupTable(cmd.Table).builtin(cmd.Chain) == nil && t.chains[cmd.Chain] == nil {
		return nil, r.incompatibleChain()
	}
	chains := listedChains(t, cmd.Chain)
	var out []byte
	if t.tainted && cmd.Chain == "" {
		out = append(out, taintNote(t.name)...)
	}
	if cmd.RuleNum == 0 {
		for _, lc := range chains {
			if !lc.base {
				continue
			}
			pol, p, b := "ACCEPT", uint64(0), uint64(0)
			if lc.info != nil {
				if lc.info.policy == policyDrop {
					pol = "DROP"
				}
				p, b = lc.info.packets, lc.info.bytes
			}
			out = fmt.Appendf(out, "-P %s %s", lc.name, pol)
			if cmd.Verbose {
				out = fmt.Appendf(out, " -c %d %d", p, b)
			}
			out = append(out, '\n')
		}
		for _, lc := range chains {
			if !lc.base {
				out = fmt.Appendf(out, "-N %s\n", lc.name)
			}
		}
	}
	style := noCounters
	if cmd.Verbose {
		style = optionCounters
	}
	env := r.renderEnv()
	for _, lc := range chains {
		rules, err := r.chainRules(lc.name)
		if err != nil {
			return nil, err
		}
		for i := range rules {
			if cmd.RuleNum > 0 && i != cmd.RuleNum-1 {
				continue
			}
			v, err := viewRule(env, &rules[i])
			if err != nil {
				return nil, ipterr.Wrap(ipterr.Other, err, err.Error())
			}
			out = v.appendSave(out, lc.name, style)
			out = append(out, '\n')
		}
	}
	return out, nil
}

func (r *cmdRun) renderEnv() *renderEnv {
	return &renderEnv{fam: r.call.Family, table: r.cmd.Table, protos: r.protos, ipsets: r.b.ipsets(r.call.Family)}
}
