package syntax

import "strings"

// globalOpt is one of iptables' own options: a long name and its short
// form.
type globalOpt struct {
	long  string
	short byte
	arity arity // argNone, argOne or argOptional
}

// globalOpts is in iptables' order: getopt_long picks the first exact match
// and reports a prefix as ambiguous only when it names different options.
// A new option goes at the end, with a case returning its index in
// globalIndex.
var globalOpts = []globalOpt{
	{"append", 'A', argOne}, {"delete", 'D', argOne}, {"check", 'C', argOne},
	{"insert", 'I', argOne}, {"replace", 'R', argOne}, {"list", 'L', argOptional},
	{"list-rules", 'S', argOptional}, {"flush", 'F', argOptional}, {"zero", 'Z', argOptional},
	{"new-chain", 'N', argOne}, {"delete-chain", 'X', argOptional}, {"rename-chain", 'E', argOne},
	{"policy", 'P', argOne}, {"source", 's', argOne}, {"destination", 'd', argOne},
	{"src", 's', argOne}, {"dst", 'd', argOne}, {"protocol", 'p', argOne},
	{"in-interface", 'i', argOne}, {"jump", 'j', argOne}, {"table", 't', argOne},
	{"match", 'm', argOne}, {"numeric", 'n', argNone}, {"out-interface", 'o', argOne},
	{"verbose", 'v', argNone}, {"wait", 'w', argOptional}, {"wait-interval", 'W', argOptional},
	{"exact", 'x', argNone}, {"fragments", 'f', argNone}, {"version", 'V', argNone},
	{"help", 'h', argOptional}, {"line-numbers", '0', argNone}, {"modprobe", 'M', argOne},
	{"set-counters", 'c', argOne}, {"goto", 'g', argOne}, {"ipv4", '4', argNone}, {"ipv6", '6', argNone},
}

// globalByLong finds a global option by its exact long name, or nil.
func globalByLong(name string) *globalOpt {
	// The name check keeps a stray case of globalIndex from returning
	// another option.
	if i := globalIndex(name); i >= 0 && globalOpts[i].long == name {
		return &globalOpts[i]
	}
	return nil
}

// globalIndex is the index in globalOpts of the option named name, or -1:
// a switch rather than a map, which would be built at every start of the
// binary (and is slower to search). TestTableIndexes checks it against
// globalOpts.
func globalIndex(name string) int {
	switch name {
	case "append":
		return 0
	case "delete":
		return 1
	case "check":
		return 2
	case "insert":
		return 3
	case "replace":
		return 4
	case "list":
		return 5
	case "list-rules":
		return 6
	case "flush":
		return 7
	case "zero":
		return 8
	case "new-chain":
		return 9
	case "delete-chain":
		return 10
	case "rename-chain":
		return 11
	case "policy":
		return 12
	case "source":
		return 13
	case "destination":
		return 14
	case "src":
		return 15
	case "dst":
		return 16
	case "protocol":
		return 17
	case "in-interface":
		return 18
	case "jump":
		return 19
	case "table":
		return 20
	case "match":
		return 21
	case "numeric":
		return 22
	case "out-interface":
		return 23
	case "verbose":
		return 24
	case "wait":
		return 25
	case "wait-interval":
		return 26
	case "exact":
		return 27
	case "fragments":
		return 28
	case "version":
		return 29
	case "help":
		return 30
	case "line-numbers":
		return 31
	case "modprobe":
		return 32
	case "set-counters":
		return 33
	case "goto":
		return 34
	case "ipv4":
		return 35
	case "ipv6":
		return 36
	}
	return -1
}

// shortOpt is one entry of the optstring table: whether the short option
// exists, and its arity.
type shortOpt struct {
	ok    bool
	arity arity
}

// shortArity is iptables' optstring
// "-:A:C:D:R:I:L::S::M:F::Z::N:X::E:P:Vh::o:p:s:d:j:i:fbvw::W::nt:m:xc:g:46",
// indexed by the option character: the short forms of globalOpts (but
// --line-numbers, which has none) and -b. tables_test.go checks that it
// agrees with globalOpts.
var shortArity = [256]shortOpt{
	'A': {true, argOne}, 'C': {true, argOne}, 'D': {true, argOne}, 'R': {true, argOne},
	'I': {true, argOne}, 'L': {true, argOptional}, 'S': {true, argOptional}, 'M': {true, argOne},
	'F': {true, argOptional}, 'Z': {true, argOptional}, 'N': {true, argOne}, 'X': {true, argOptional},
	'E': {true, argOne}, 'P': {true, argOne}, 'V': {true, argNone}, 'h': {true, argOptional},
	'o': {true, argOne}, 'p': {true, argOne}, 's': {true, argOne}, 'd': {true, argOne},
	'j': {true, argOne}, 'i': {true, argOne}, 'f': {true, argNone}, 'b': {true, argNone},
	'v': {true, argNone}, 'w': {true, argOptional}, 'W': {true, argOptional}, 'n': {true, argNone},
	't': {true, argOne}, 'm': {true, argOne}, 'x': {true, argNone}, 'c': {true, argOne},
	'g': {true, argOne}, '4': {true, argNone}, '6': {true, argNone},
}

// optRef is what a long option name resolved to: a global option, or
// option index opt of loaded extension instance inst (an index in
// parser.insts).
type optRef struct {
	global *globalOpt
	inst   int
	opt    int
}

func (r optRef) same(o optRef) bool {
	if r.global != nil || o.global != nil {
		return r.global != nil && o.global != nil && r.global.short == o.global.short && r.global.arity == o.global.arity
	}
	return r.inst == o.inst && r.opt == o.opt
}

func (p *parser) arity(r optRef) arity {
	if r.global != nil {
		return r.global.arity
	}
	return p.insts[r.inst].ext.Options()[r.opt].Arity()
}

// resolveLong finds a long option the way glibc getopt_long does over
// iptables' merged option list: global options first, then the extensions
// newest first. An exact name wins; otherwise an unambiguous prefix.
// ok is false when nothing matches; ambiguous is set when several
// different options do.
func (p *parser) resolveLong(name string) (ref optRef, ok, ambiguous bool) {
	// The exact names first: nearly every option is spelt out in full.
	if g := globalByLong(name); g != nil {
		return optRef{global: g}, true, false
	}
	for k := len(p.insts) - 1; k >= 0; k-- {
		if e := p.insts[k].ext; e != nil {
			if oi := e.Index(name); oi >= 0 {
				return optRef{inst: k, opt: oi}, true, false
			}
		}
	}
	return p.resolvePrefix(name)
}

// resolvePrefix is resolveLong for a name that is no option's exact name.
func (p *parser) resolvePrefix(name string) (ref optRef, ok, ambiguous bool) {
	var cands []optRef
	for i := range globalOpts {
		if strings.HasPrefix(globalOpts[i].long, name) {
			cands = append(cands, optRef{global: &globalOpts[i]})
		}
	}
	for k := len(p.insts) - 1; k >= 0; k-- {
		e := p.insts[k].ext
		if e == nil {
			continue
		}
		for oi := range e.Options() {
			o := &e.Options()[oi]
			// One candidate per matching name, as getopt sees aliases
			// as separate entries of its option list.
			if strings.HasPrefix(o.Name(), name) {
				cands = append(cands, optRef{inst: k, opt: oi})
			}
			if o.Alias() != "" && strings.HasPrefix(o.Alias(), name) {
				cands = append(cands, optRef{inst: k, opt: oi})
			}
		}
	}
	if len(cands) == 0 {
		return optRef{}, false, false
	}
	for _, c := range cands[1:] {
		if !c.same(cands[0]) || p.arity(c) != p.arity(cands[0]) {
			return optRef{}, false, true
		}
	}
	return cands[0], true, false
}
