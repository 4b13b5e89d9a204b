package native

import (
	"errors"
	"fmt"
	"sort"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/nfnl"
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
	all, undecoded, err := r.listingRules(chains)
	if err != nil {
		return nil, err
	}
	for ci, lc := range chains {
		rules := all[ci]
		for i := range rules {
			if cmd.RuleNum > 0 && i != cmd.RuleNum-1 || isUnparsed(&rules[i]) {
				continue
			}
			v, err := viewRule(env, &rules[i])
			if err != nil {
				undecoded = append(undecoded, err)
				continue
			}
			out = v.appendSave(out, lc.name, style)
			out = append(out, '\n')
			writeWarnings(r.call.Stderr, v.appendWarnings(nil))
		}
	}
	return r.finishListing(out, undecoded)
}

func (r *cmdRun) renderEnv() *renderEnv {
	return &renderEnv{fam: r.call.Family, table: r.cmd.Table, protos: r.protos, ipsets: r.b.ipsets(r.call.Family)}
}

// listingRules dumps the rules of the chains a listing shows. Unlike the
// lookups of -C and -D it keeps going past a rule it cannot parse, so the
// listing can print the others; it fails as iptables-nft 1.8.9 does when a
// listed chain holds a rule 1.8.9 calls incompatible.
//
// A rule that did not parse is left in its place (rule numbers stay the
// kernel's) with its exprs set to unparsed, and its error is returned.
func (r *cmdRun) listingRules(chains []listChain) ([][]dumpedRule, []error, error) {
	rules := make([][]dumpedRule, len(chains))
	parseErrs := make([]error, 0)
	for i, lc := range chains {
		if lc.info == nil {
			continue
		}
		rs, errs, err := dumpChainRulesLenient(r.conn, r.fam, r.cmd.Table, lc.name)
		if err != nil {
			return nil, nil, err
		}
		for j := range rs {
			if foreignRule(&rs[j], errs[j]) {
				msg := incompatibleMessage(r.cmd.Table, r.cmd.Chain)
				if r.call.Stderr != nil {
					fmt.Fprintf(r.call.Stderr, "%s v%s (nf_tables): %s\n", r.call.Name(), syntax.Version, msg)
				}
				return nil, nil, &ipterr.Error{Class: ipterr.Other, Msg: msg, Printed: true}
			}
			if errs[j] != nil {
				parseErrs = append(parseErrs, fmt.Errorf("table %s chain %s rule handle %d: %w", r.cmd.Table, lc.name, rs[j].handle, errs[j]))
				rs[j].exprs = unparsed
			}
		}
		rules[i] = rs
	}
	return rules, parseErrs, nil
}

// dumpChainRulesLenient is dumpChainRules keeping every rule, each with
// the error parsing it gave (nil when it parsed).
func dumpChainRulesLenient(c nfnl.Transport, fam uint8, table, chain string) ([]dumpedRule, []error, error) {
	var req nfnl.Attrs
	req.String(unix.NFTA_RULE_TABLE, table)
	req.String(unix.NFTA_RULE_CHAIN, chain)
	var rules []dumpedRule
	var errs []error
	err := c.Dump(nfnl.MsgType(nfnl.SubsysNFTables, unix.NFT_MSG_GETRULE), fam, req.B, func(m nfnl.Message) error {
		r, err := parseRule(fam, append([]byte(nil), m.Attrs...))
		rules = append(rules, r)
		errs = append(errs, err)
		return nil
	})
	if err != nil {
		if errors.Is(err, nfnl.ErrDumpInterrupted) || errors.Is(err, unix.ENOENT) {
			return nil, nil, nfnl.ErrDumpInterrupted
		}
		return nil, nil, ipterr.Wrap(ipterr.Resource, err, fmt.Sprintf("listing rules of chain %s: %v", chain, err))
	}
	return rules, errs, nil
}

// finishListing returns a listing's output, or, when some rules could
// not be decoded, writes the output (every other rule) and returns the
// error naming them.
func (r *cmdRun) finishListing(out []byte, undecoded []error) ([]byte, error) {
	if len(undecoded) == 0 {
		return out, nil
	}
	if r.call.Stdout != nil {
		if err := write(r.call.Stdout, string(out)); err != nil {
			return nil, err
		}
	}
	err := &undecodedRulesError{errs: undecoded}
	return nil, ipterr.Wrap(ipterr.Other, err, err.Error())
}

// unparsed marks a listed rule that did not parse (see listingRules).
var unparsed = []expr.Any{nil}

func isUnparsed(r *dumpedRule) bool { return len(r.exprs) == 1 && r.exprs[0] == nil }
