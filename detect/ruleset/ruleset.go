// Package ruleset is the small, backend-neutral picture of a netfilter table
// that detection and the doctor reason about: which chains exist, how many
// rules each holds and which chains they jump to. Both readers (legacy
// x_tables over getsockopt, nf_tables over netlink) produce it, so the doctor
// compares the two backends with one piece of code.
package ruleset

import "sort"

// Table is one table (filter, nat, mangle, raw, security) of one backend and
// family.
type Table struct {
	Name   string  `json:"name"`
	Chains []Chain `json:"chains"`
}

// Chain is one chain of a table. Rules counts rules only: the policy entry of a
// built-in chain and the head and tail entries x_tables wraps user chains in
// are not rules.
type Chain struct {
	Name    string `json:"name"`
	Builtin bool   `json:"builtin,omitempty"`
	Rules   int    `json:"rules"`
	// Jumps are the chains this chain's rules jump or go to, each once,
	// sorted.
	Jumps []string `json:"jumps,omitempty"`
}

// Chain returns the named chain, or false.
func (t *Table) Chain(name string) (Chain, bool) {
	for _, c := range t.Chains {
		if c.Name == name {
			return c, true
		}
	}
	return Chain{}, false
}

// Rules is the total number of rules in the table.
func (t *Table) Rules() int {
	n := 0
	for _, c := range t.Chains {
		n += c.Rules
	}
	return n
}

// SortedSet turns a set of names into a sorted slice (nil when empty), the
// form Chain.Jumps is kept in.
func SortedSet(set map[string]bool) []string {
	if len(set) == 0 {
		return nil
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
