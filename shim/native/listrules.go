package native

import (
	"fmt"

	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/nftread"
)

// list renders -L [CHAIN [N]] in iptables-nft 1.8.9's table layout. With
// a rule number only that rule's line is printed, without headers.
func (r *cmdRun) list() ([]byte, error) {
	cmd := r.cmd
	t := r.table()
	if cmd.Chain != "" && nftread.LookupTable(cmd.Table).Builtin(cmd.Chain) == nil && t.Chains[cmd.Chain] == nil {
		return nil, r.incompatibleChain()
	}
	f := nftread.ListFormat{Numeric: cmd.Numeric, Verbose: cmd.Verbose, Exact: cmd.Exact, LineNumbers: cmd.LineNumbers}
	lp := &nftread.LinePrinter{Format: f, Fam: r.call.Family, Protos: r.protos, Names: nftread.NewNames(nftread.DefaultNameFiles), Warn: r.call.Stderr}
	env := r.renderEnv()
	var out []byte
	if t.Tainted && cmd.Chain == "" {
		out = append(out, nftread.TaintNote(t.Name)...)
	}
	chains := nftread.ListedChains(t, cmd.Chain)
	all, undecoded, err := r.listingRules(chains)
	if err != nil {
		return nil, err
	}
	for i, lc := range chains {
		rules := all[i]
		if cmd.RuleNum == 0 {
			if i > 0 {
				out = append(out, '\n')
			}
			out = lp.Header(out, lc, len(rules))
		}
		for n := range rules {
			if cmd.RuleNum > 0 && n != cmd.RuleNum-1 {
				continue
			}
			if nftread.IsUnparsed(&rules[n]) {
				continue
			}
			v, err := nftread.ViewRule(env, &rules[n])
			if err != nil {
				undecoded = append(undecoded, err)
				continue
			}
			if out, err = lp.Rule(out, n+1, &v); err != nil {
				return nil, err
			}
		}
	}
	return r.finishListing(out, undecoded)
}

// incompatibleChain is iptables-nft 1.8.9's odd answer for listing a chain
// that does not exist (1.8.7's ends in an empty line; 1.8.11 says there is
// no such chain).
func (r *cmdRun) incompatibleChain() error {
	if r.since1811() {
		return shortError(noChain)
	}
	msg := fmt.Sprintf("chain `%s' in table `%s' is incompatible, use 'nft' tool.", r.cmd.Chain, r.cmd.Table)
	if r.call.Stderr != nil {
		end := "\n"
		if r.b.opts.Dialect == dialect.V187 {
			end = "\n\n"
		}
		fmt.Fprintf(r.call.Stderr, "%s %s: %s%s", r.call.Name(), r.b.banner(r.call), msg, end)
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
	if cmd.Chain != "" && nftread.LookupTable(cmd.Table).Builtin(cmd.Chain) == nil && t.Chains[cmd.Chain] == nil {
		return nil, r.incompatibleChain()
	}
	chains := nftread.ListedChains(t, cmd.Chain)
	var out []byte
	if t.Tainted && cmd.Chain == "" {
		out = append(out, nftread.TaintNote(t.Name)...)
	}
	if cmd.RuleNum == 0 {
		for _, lc := range chains {
			if !lc.Base {
				continue
			}
			pol, p, b := "ACCEPT", uint64(0), uint64(0)
			if lc.Info != nil {
				if lc.Info.Policy == nftread.PolicyDrop {
					pol = "DROP"
				}
				p, b = lc.Info.Packets, lc.Info.Bytes
			}
			out = fmt.Appendf(out, "-P %s %s", lc.Name, pol)
			if cmd.Verbose {
				out = fmt.Appendf(out, " -c %d %d", p, b)
			}
			out = append(out, '\n')
		}
		for _, lc := range chains {
			if !lc.Base {
				out = fmt.Appendf(out, "-N %s\n", lc.Name)
			}
		}
	}
	style := nftread.NoCounters
	if cmd.Verbose {
		style = nftread.OptionCounters
	}
	env := r.renderEnv()
	all, undecoded, err := r.listingRules(chains)
	if err != nil {
		return nil, err
	}
	for ci, lc := range chains {
		rules := all[ci]
		for i := range rules {
			if cmd.RuleNum > 0 && i != cmd.RuleNum-1 || nftread.IsUnparsed(&rules[i]) {
				continue
			}
			v, err := nftread.ViewRule(env, &rules[i])
			if err != nil {
				undecoded = append(undecoded, err)
				continue
			}
			out = v.AppendSave(out, lc.Name, style)
			out = append(out, '\n')
			nftread.WriteWarnings(r.call.Stderr, v.AppendWarnings(nil))
		}
	}
	return r.finishListing(out, undecoded)
}

func (r *cmdRun) renderEnv() *nftread.RenderEnv {
	return &nftread.RenderEnv{Fam: r.call.Family, Table: r.cmd.Table, Protos: r.protos, IPSets: r.b.ipsets(r.call.Family)}
}

// listingRules dumps the rules of the chains a listing shows. Unlike the
// lookups of -C and -D it keeps going past a rule it cannot parse, so the
// listing can print the others; it fails as iptables-nft 1.8.9 does when a
// listed chain holds a rule 1.8.9 calls incompatible.
//
// A rule that did not parse is left in its place (rule numbers stay the
// kernel's) with its exprs set to unparsed, and its error is returned.
func (r *cmdRun) listingRules(chains []nftread.ListChain) ([][]nftread.DumpedRule, []error, error) {
	rules := make([][]nftread.DumpedRule, len(chains))
	parseErrs := make([]error, 0)
	for i, lc := range chains {
		if lc.Info == nil {
			continue
		}
		rs, errs, err := nftread.DumpChainRulesLenient(r.conn, r.fam, r.cmd.Table, lc.Name)
		if err != nil {
			return nil, nil, err
		}
		for j := range rs {
			if nftread.ForeignRule(&rs[j], errs[j]) {
				msg := nftread.IncompatibleMessage(r.cmd.Table, r.cmd.Chain)
				if r.call.Stderr != nil {
					fmt.Fprintf(r.call.Stderr, "%s %s: %s\n", r.call.Name(), r.b.banner(r.call), msg)
				}
				return nil, nil, &ipterr.Error{Class: ipterr.Other, Msg: msg, Printed: true}
			}
			if errs[j] != nil {
				parseErrs = append(parseErrs, fmt.Errorf("table %s chain %s rule handle %d: %w", r.cmd.Table, lc.Name, rs[j].Handle, errs[j]))
				rs[j].Exprs = nftread.Unparsed
			}
		}
		rules[i] = rs
	}
	return rules, parseErrs, nil
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
	err := &nftread.UndecodedRulesError{Errs: undecoded}
	return nil, ipterr.Wrap(ipterr.Other, err, err.Error())
}
