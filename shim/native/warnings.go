package native

import (
	"fmt"
	"io"

	"github.com/iptables-shim/iptables-shim/internal/nfnl"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"

	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
	"github.com/iptables-shim/iptables-shim/shim/xt"
)

// iptables 1.8.9 prints a few warnings while it parses a rule and then
// goes on (NFLOG's --nflog-range): once per command, after every option
// of the rule was read and checked, before the kernel is asked anything.

// ruleWarnings returns what iptables 1.8.9 warns about while it parses a
// single command's rule: nothing when the rule's extensions do not parse
// (iptables stops at the error before its final checks warn).
func ruleWarnings(fam syntax.Family, cmd *syntax.Command, d dialect.Dialect) []string {
	r := cmd.Rule
	if r == nil || r.Target == nil {
		return nil
	}
	ctx := xt.Context{Family: fam, Table: cmd.Table, Chain: cmd.Chain, Protocol: r.Protocol, IPSets: anyIPSet{}, Dialect: d}
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

// missingWarner prints the warning iptables-nft 1.8.9 prints when it loads
// a match or target the kernel lacks and uses anyway
// (xt.WarnsWhenMissing): once per extension and call, as iptables loads
// each extension once, whichever lines use it and however often the
// planner goes over them.
type missingWarner struct {
	w    io.Writer
	seen map[extRev]bool
}

// newMissingWarner returns a missingWarner writing to w, or nil when w is
// nil.
func newMissingWarner(w io.Writer) *missingWarner {
	if w == nil {
		return nil
	}
	return &missingWarner{w: w, seen: map[extRev]bool{}}
}

// rule asks the kernel, for each of the rule's matches in order and then
// its target (the order iptables loads them in), whether it has the
// extension, and warns when it has not.
func (m *missingWarner) rule(conn nfnl.Transport, fam uint8, r *syntax.Rule) error {
	if m == nil {
		return nil
	}
	for _, x := range r.Matches {
		if err := m.check(conn, fam, x.Name, false); err != nil {
			return err
		}
	}
	if t := r.Target; t != nil && t.Known {
		return m.check(conn, fam, t.Name, true)
	}
	return nil
}

func (m *missingWarner) check(conn nfnl.Transport, fam uint8, name string, target bool) error {
	if !xt.WarnsWhenMissing(name, target) {
		return nil
	}
	k := extRev{name: name, target: target}
	if m.seen[k] {
		return nil
	}
	ok, err := conn.HasExtension(fam, name, 0, target)
	if err != nil {
		return ipterr.Wrap(ipterr.Resource, err, err.Error())
	}
	m.seen[k] = true
	if !ok {
		fmt.Fprintln(m.w, xt.MissingWarning(name))
	}
	return nil
}
