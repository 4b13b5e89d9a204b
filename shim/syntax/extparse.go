package syntax

import (
	"strings"

	"github.com/iptables-shim/iptables-shim/shim/extopts"
)

func (p *parser) loadMatch(name string, implicit bool) {
	// libxtables loads the icmp6 module by any of its names (IPv4 still
	// fails, naming the match as given).
	if p.fam == IPv6 && (name == "icmpv6" || name == "ipv6-icmp") {
		name = "icmp6"
	}
	e := lookupExtension(name, false, p.fam)
	p.matches = append(p.matches, Match{Name: name, Implicit: implicit, Known: e != nil})
	p.insts = append(p.insts, instance{ext: e, name: name, match: len(p.matches) - 1})
}

// standardTarget is the extension behind the standard verdicts: it has no
// options.
var standardTarget = extopts.Standard

func (p *parser) loadTarget(name string, isGoto bool) error {
	if len(name) > maxChainNameLen {
		return paramErr("Invalid target name `%s' (%d chars max)", name, maxChainNameLen)
	}
	e := lookupExtension(name, true, p.fam)
	verdict := isStandardVerdict(name)
	p.block.target = Target{Name: name, Goto: isGoto, Known: e != nil || verdict}
	p.rule.Target = &p.block.target
	if verdict {
		e = standardTarget
	}
	// Any other name is a chain jump for iptables unless a module of that
	// name is installed; e stays nil so that options following it are
	// collected by the fallback and the target stays marked unknown.
	p.insts = append(p.insts, instance{ext: e, name: name, target: true, match: -1})
	return nil
}

// addOption records option o of instance k.
func (p *parser) addOption(k int, o Option) {
	p.pending = append(p.pending, pendingOption{inst: k, opt: o})
}

// buildRule assembles the parsed rule: the matches, and each match's and
// the target's options in the order they were given.
func (p *parser) buildRule() *Rule {
	r := p.rule
	if len(p.matches) > 0 {
		r.Matches = take(&p.mem.matches, len(p.matches), p.mem.chunk)
		copy(r.Matches, p.matches)
	}
	if len(p.pending) == 0 {
		return r
	}
	all := take(&p.mem.options, len(p.pending), p.mem.chunk)
	n := 0
	for k, in := range p.insts {
		start := n
		for _, po := range p.pending {
			if po.inst == k {
				all[n] = po.opt
				n++
			}
		}
		if n == start {
			continue
		}
		opts := all[start:n:n]
		if in.target {
			r.Target.Options = opts
		} else {
			r.Matches[in.match].Options = opts
		}
	}
	return r
}

// extOption handles option oi of described extension instance k.
func (p *parser) extOption(k, oi int, arg *string) error {
	in := &p.insts[k]
	spec := &in.ext.Options()[oi]
	canon := spec.Name()
	inv := p.invert
	p.invert = false
	if in.ext.OldStyle() {
		if err := oldStyleCheck(in.ext.Name(), canon, inv, in.used&(1<<oi) != 0); err != nil {
			return err
		}
	} else if in.used&(1<<oi) != 0 && !spec.Multi() {
		// libxtables checks a repeated option before an inverted one.
		return onlyOnce(in.ext.Name(), canon)
	} else if inv && !spec.Invertible() {
		return paramErr("%s: option \"--%s\" cannot be inverted.\n", in.ext.Name(), canon)
	}
	in.used |= 1 << oi
	o := Option{Name: canon, Invert: inv}
	nargs := 0
	if arg != nil {
		nargs++
	}
	if spec.Arity() == argTwo {
		nargs++
	}
	if nargs > 0 {
		o.Args = take(&p.mem.strs, nargs, p.mem.chunk)[:0]
	}
	if arg != nil {
		o.Args = append(o.Args, *arg)
		if err := validate(spec.Check(), in.ext, canon, *arg, p.fam); err != nil {
			return err
		}
	}
	if spec.Arity() == argTwo {
		if !p.hasArg() {
			if in.ext.Name() == "sctp" {
				// libxt_sctp's own wording.
				return paramErr("--%s requires two args", canon)
			}
			return paramErr("--%s requires two args.", canon)
		}
		o.Args = append(o.Args, p.next())
		if in.ext.Name() == "set" {
			if err := checkSetFlags(o.Args[1]); err != nil {
				return err
			}
		}
	}
	if err := p.checkExclusive(k, canon); err != nil {
		return err
	}
	if err := p.crossCheck(k, canon, arg); err != nil {
		return err
	}
	p.addOption(k, o)
	return nil
}

// onlyOnce is the error for an option given twice: libxtables' text, or
// for the extensions that still parse their options themselves
// (libxt_sctp), theirs, which names the option by its long name.
func onlyOnce(ext, canon string) error {
	if ext == "sctp" {
		switch canon {
		case "sport":
			canon = "source-port"
		case "dport":
			canon = "destination-port"
		}
		return paramErr("Only one `--%s' allowed", canon)
	}
	return paramErr("%s: option \"--%s\" can only be used once.\n", ext, canon)
}

// crossCheck holds the per-option rules that depend on other options.
func (p *parser) crossCheck(k int, canon string, arg *string) error {
	switch p.insts[k].ext.Name() {
	case "multiport":
		// libxt_multiport: an inverted or other protocol "only works",
		// a missing one "needs".
		if !p.rule.Protocol.Set {
			return paramErr("multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'")
		}
		if !p.multiportProtocol() {
			return paramErr("multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP")
		}
	case "tcp":
		if (canon == "syn" || canon == "tcp-flags") && hasOpt(p.optionsOf(k), "syn", "tcp-flags") {
			return paramErr("Only one of `--syn' or `--tcp-flags'  allowed")
		}
	case "MASQUERADE", "REDIRECT", "DNAT", "SNAT":
		needsPort := canon == "to-ports" || ((canon == "to-destination" || canon == "to-source") && arg != nil && hasPort(*arg))
		if needsPort && !p.portProtocol() {
			return paramErr("Need TCP, UDP, SCTP or DCCP with port specification")
		}
	}
	return nil
}

func multiportX6Name(n string) string {
	switch n {
	case "sports":
		return "source-ports"
	case "dports":
		return "destination-ports"
	}
	return n
}

func hasPort(to string) bool {
	if i := strings.LastIndexByte(to, ']'); i >= 0 {
		return strings.Contains(to[i:], ":")
	}
	return strings.Count(to, ":") == 1
}

func (p *parser) multiportProtocol() bool {
	if !p.rule.Protocol.Set || p.rule.Protocol.Invert {
		return false
	}
	n, _ := ProtocolNumber(p.rule.Protocol.Value)
	return n == 6 || n == 17 || n == 136 || n == 132 || n == 33
}

func (p *parser) portProtocol() bool {
	if !p.rule.Protocol.Set || p.rule.Protocol.Invert {
		return false
	}
	n, _ := ProtocolNumber(p.rule.Protocol.Value)
	return n == 6 || n == 17 || n == 132 || n == 33
}

// protoChecks is the final check of protocol matches: tcp, udp and sctp
// need "-p" naming them.
func (p *parser) protoChecks() error {
	for _, in := range p.insts {
		if in.target || in.ext == nil {
			continue
		}
		want := 0
		switch in.ext.Name() {
		case "tcp":
			want = 6
		case "udp":
			want = 17
		case "sctp":
			want = 132
		default:
			continue
		}
		n, ok := ProtocolNumber(p.rule.Protocol.Value)
		if !p.rule.Protocol.Set || !ok || n != want {
			return paramErr("%s match requires '-p %s'", strings.ToUpper(in.ext.Name()), in.ext.Name())
		}
	}
	return nil
}
