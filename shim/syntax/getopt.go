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

// shortArity is the optstring: which short options exist and their arity.
var shortArity = func() map[byte]arity {
	m := map[byte]arity{'b': argNone}
	for _, o := range globalOpts {
		if o.short != '0' {
			m[o.short] = o.arity
		}
	}
	return m
}()

// optRef is what a long option name resolved to: a global option, or
// option index opt of loaded extension instance inst.
type optRef struct {
	global *globalOpt
	inst   *instance
	opt    int
}

func (r optRef) same(o optRef) bool {
	if r.global != nil || o.global != nil {
		return r.global != nil && o.global != nil && r.global.short == o.global.short && r.global.arity == o.global.arity
	}
	return r.inst == o.inst && r.opt == o.opt
}

func (r optRef) arity() arity {
	if r.global != nil {
		return r.global.arity
	}
	return r.inst.ext.opts[r.opt].arity
}

// resolveLong finds a long option the way glibc getopt_long does over
// iptables' merged option list: global options first, then the extensions
// newest first. An exact name wins; otherwise an unambiguous prefix.
// ok is false when nothing matches; ambiguous is set when several
// different options do.
func resolveLong(name string, insts []*instance) (ref optRef, ok, ambiguous bool) {
	var cands []optRef
	each := func(fn func(n string, r optRef) bool) {
		for i := range globalOpts {
			if fn(globalOpts[i].long, optRef{global: &globalOpts[i]}) {
				return
			}
		}
		for k := len(insts) - 1; k >= 0; k-- {
			in := insts[k]
			if in.ext == nil {
				continue
			}
			for oi, o := range in.ext.opts {
				for _, n := range o.names {
					if fn(n, optRef{inst: in, opt: oi}) {
						return
					}
				}
			}
		}
	}
	var exact *optRef
	each(func(n string, r optRef) bool {
		if n == name {
			exact = &r
			return true
		}
		if strings.HasPrefix(n, name) {
			cands = append(cands, r)
		}
		return false
	})
	if exact != nil {
		return *exact, true, false
	}
	if len(cands) == 0 {
		return optRef{}, false, false
	}
	for _, c := range cands[1:] {
		if !c.same(cands[0]) || c.arity() != cands[0].arity() {
			return optRef{}, false, true
		}
	}
	return cands[0], true, false
}
