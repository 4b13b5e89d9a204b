package syntax

import "strings"

// globalOpt is one of iptables' own options (its original_opts and
// optstring "-:A:C:D:R:I:L::S::M:F::Z::N:X::E:P:Vh::o:p:s:d:j:i:fbvw::W::nt:m:xc:g:46").
type globalOpt struct {
	long  string
	short byte
	arity arity // argNone, argOne or argOptional
}

// globalOpts is in iptables' order: getopt_long picks the first exact match
// and reports a prefix as ambiguous only when it names different options.
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

// shortOpt is one entry of the optstring table: whether the short option
// exists, and its arity.
type shortOpt struct {
	ok    bool
	arity arity
}

// shortArity is the optstring: which short options exist and their arity,
// indexed by the option character.
var shortArity = func() (t [256]shortOpt) {
	t['b'] = shortOpt{ok: true, arity: argNone}
	for _, o := range globalOpts {
		if o.short != '0' {
			t[o.short] = shortOpt{ok: true, arity: o.arity}
		}
	}
	return t
}()

// globalByLong finds a global option by its exact long name: the first in
// globalOpts, as getopt_long takes the first exact match.
var globalByLong = func() map[string]*globalOpt {
	m := make(map[string]*globalOpt, len(globalOpts))
	for i := range globalOpts {
		if _, dup := m[globalOpts[i].long]; !dup {
			m[globalOpts[i].long] = &globalOpts[i]
		}
	}
	return m
}()

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
	return p.insts[r.inst].ext.opts[r.opt].arity
}

// resolveLong finds a long option the way glibc getopt_long does over
// iptables' merged option list: global options first, then the extensions
// newest first. An exact name wins; otherwise an unambiguous prefix.
// ok is false when nothing matches; ambiguous is set when several
// different options do.
func (p *parser) resolveLong(name string) (ref optRef, ok, ambiguous bool) {
	// The exact names first: nearly every option is spelt out in full.
	if g := globalByLong[name]; g != nil {
		return optRef{global: g}, true, false
	}
	for k := len(p.insts) - 1; k >= 0; k-- {
		if e := p.insts[k].ext; e != nil {
			if oi := e.exact(name); oi >= 0 {
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
		for oi, o := range e.opts {
			for _, n := range o.names {
				if strings.HasPrefix(n, name) {
					cands = append(cands, optRef{inst: k, opt: oi})
				}
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
