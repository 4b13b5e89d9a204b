// Package extopts is the one table of the iptables 1.8.9 extensions' option
// syntax (table.go): for each match and target extension the shim
// describes, its options with their names, aliases, arity, whether "!" may
// precede them, and the validator of their value. The command-line parser
// (shim/syntax) reads options by it, and the extensions (shim/xt) take the
// option order libxtables reports conflicts in from it, so the two never
// disagree on what an extension accepts. It is a leaf: it imports only
// shim/netfilter.
package extopts

import (
	"sort"

	"github.com/iptables-shim/iptables-shim/shim/netfilter"
)

// Arity is how many arguments an extension option takes.
type Arity uint8

const (
	// ArgNone is a flag: --syn.
	ArgNone Arity = iota
	// ArgOne takes one argument: --dport 80.
	ArgOne
	// ArgOptional takes one only as --opt=value (getopt's
	// optional_argument).
	ArgOptional
	// ArgTwo takes a second, separate token: --match-set NAME FLAGS.
	ArgTwo
	// ArgPeek is an option getopt knows as taking no argument, whose
	// extension then takes the next word as its value unless there is
	// none or it starts with '-' or '!' (libxt_rateest's rates).
	ArgPeek
)

// The table's spelling of the arities and families (table.go).
const (
	argNone     = ArgNone
	argOne      = ArgOne
	argOptional = ArgOptional
	argTwo      = ArgTwo
	argPeek     = ArgPeek
)

const (
	// IPv4 marks an extension only iptables has (libipt_*).
	IPv4 = netfilter.IPv4
	// IPv6 marks an extension only ip6tables has (libip6t_*).
	IPv6 = netfilter.IPv6
)

// Option describes one option of an extension.
type Option struct {
	name   string // the canonical name (the one iptables-save prints)
	alias  string // "" or another name getopt resolves to the same option
	arity  Arity
	invert bool   // "!" may precede it
	check  string // the validator (see shim/syntax's validate.go); "" = any value
	multi  bool   // may be given more than once (xtopt's XTOPT_MULTI)
}

// optSpec is the table's name for Option.
type optSpec = Option

// Name is the option's canonical name, the one iptables-save prints.
func (o *Option) Name() string { return o.name }

// Alias is another name getopt resolves to the same option, or "".
func (o *Option) Alias() string { return o.alias }

// Arity is how many arguments the option takes.
func (o *Option) Arity() Arity { return o.arity }

// Invertible reports whether "!" may precede the option.
func (o *Option) Invertible() bool { return o.invert }

// Multi reports whether the option may be given more than once (policy's
// per-element options, which --next separates).
func (o *Option) Multi() bool { return o.multi }

// Check names the validator of the option's value ("" for any value).
func (o *Option) Check() string { return o.check }

// Named reports whether n is the option's name or its alias.
func (o *Option) Named(n string) bool {
	return o.name == n || (o.alias != "" && o.alias == n)
}

// Extension is a match or target module whose options the table
// describes. It has at most 64 options (the parser keeps one bit per
// option).
type Extension struct {
	name   string
	target bool
	family netfilter.Family // 0 = both families
	opts   []optSpec
	// oldStyle marks an extension with libxtables' old parse interface:
	// it judges a "!" and a repeated option itself, in words of its own,
	// instead of libxtables' generic messages.
	oldStyle bool
}

// extension is the table's name for Extension.
type extension = Extension

// Name is the extension's name (-m NAME, -j NAME).
func (e *Extension) Name() string { return e.name }

// OldStyle reports whether the extension parses with libxtables' old
// interface, judging "!" and repeated options in its own words (the
// parser then asks shim/syntax's oldStyleCheck instead of giving
// libxtables' generic messages).
func (e *Extension) OldStyle() bool { return e.oldStyle }

// Target reports whether the extension is a target.
func (e *Extension) Target() bool { return e.target }

// Family is the one family that has the extension, 0 for both.
func (e *Extension) Family() netfilter.Family { return e.family }

// Options are the extension's options in libxtables' table order; callers
// must not change them.
func (e *Extension) Options() []Option { return e.opts }

// Index returns the index of the option named (or aliased) name, or -1.
func (e *Extension) Index(name string) int {
	for oi := range e.opts {
		if e.opts[oi].Named(name) {
			return oi
		}
	}
	return -1
}

// OptionNames are the canonical names of the extension's options in
// libxtables' table order, the order it reports two exclusive options in.
func (e *Extension) OptionNames() []string {
	out := make([]string, len(e.opts))
	for i := range e.opts {
		out[i] = e.opts[i].name
	}
	return out
}

// Lookup returns the described extension of that name available to fam
// (a match, or a target when target is set), or nil.
func Lookup(name string, target bool, fam netfilter.Family) *Extension {
	table, i := matchTable, matchIndex(name)
	if target {
		table, i = targetTable, targetIndex(name)
	}
	// The name check keeps a stray case of the switch from returning
	// another extension.
	if i < 0 || table[i].name != name {
		return nil
	}
	if e := &table[i]; e.family == 0 || e.family == fam {
		return e
	}
	return nil
}

// Must is Lookup for an extension the caller's own code is written for:
// it panics when the table does not describe it for either family (a
// programming error that any test of the caller shows).
func Must(name string, target bool) *Extension {
	e := Lookup(name, target, netfilter.IPv4)
	if e == nil {
		e = Lookup(name, target, netfilter.IPv6)
	}
	if e == nil {
		panic("extopts: no table entry for " + name)
	}
	return e
}

// Standard is the entry for the standard target (a verdict or a chain),
// which has no options.
var Standard = &Extension{name: "standard", target: true}

// Names lists the described matches and targets (targets are the
// upper-case names), sorted.
func Names() []string {
	out := make([]string, 0, len(matchTable)+len(targetTable))
	for _, table := range [][]extension{matchTable, targetTable} {
		for i := range table {
			out = append(out, table[i].name)
		}
	}
	sort.Strings(out)
	return out
}
