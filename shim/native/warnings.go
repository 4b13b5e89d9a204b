package native

import (
	"fmt"
	"io"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
	"github.com/iptables-shim/iptables-shim/shim/xt"
)

// iptables 1.8.9 prints a few warnings while it parses a rule and then
// goes on (NFLOG's --nflog-range): once per command, after every option
// of the rule was read and checked, before the kernel is asked anything.

// ruleWarnings returns what iptables 1.8.9 warns about while it parses a
// single command's rule: nothing when the rule's extensions do not parse
// (iptables stops at the error before its final checks warn).
func ruleWarnings(fam syntax.Family, cmd *syntax.Command) []string {
	r := cmd.Rule
	if r == nil || r.Target == nil {
		return nil
	}
	ctx := xt.Context{Family: fam, Table: cmd.Table, Chain: cmd.Chain, Protocol: r.Protocol, IPSets: anyIPSet{}}
	var out []string
	for _, m := range r.Matches {
		e, err := xt.ParseMatch(ctx, m)
		if err != nil {
			return nil
		}
		out = append(out, xt.ParseWarnings(e)...)
	}
	if !r.Target.Known {
		return out
	}
	t, err := xt.ParseTarget(ctx, *r.Target)
	if err != nil {
		return nil
	}
	return append(out, xt.ParseWarnings(t)...)
}

// onceWarner writes each restore line's warnings to w once, however often
// the planner goes over the line (it plans again after a lost race).
func onceWarner(w io.Writer) func(line int, msg string) {
	if w == nil {
		return nil
	}
	seen := map[int][]string{}
	return func(line int, msg string) {
		for _, m := range seen[line] {
			if m == msg {
				return
			}
		}
		seen[line] = append(seen[line], msg)
		fmt.Fprintln(w, msg)
	}
}
