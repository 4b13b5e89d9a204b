package xt

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// icmpName is one ICMP type name libipt_icmp / libip6t_icmp6 1.8.9 know:
// a type and the code range it stands for.
type icmpName struct {
	name            string
	typ, cmin, cmax uint8
}

// icmpNames is libipt_icmp's table, in its order (which decides the
// ambiguity message and the name -L prints).
var icmpNames = []icmpName{
	{"any", 0xff, 0, 0xff},
	{"echo-reply", 0, 0, 0xff},
	{"pong", 0, 0, 0xff},
	{"destination-unreachable", 3, 0, 0xff},
	{"network-unreachable", 3, 0, 0},
	{"host-unreachable", 3, 1, 1},
	{"protocol-unreachable", 3, 2, 2},
	{"port-unreachable", 3, 3, 3},
	{"fragmentation-needed", 3, 4, 4},
	{"source-route-failed", 3, 5, 5},
	{"network-unknown", 3, 6, 6},
	{"host-unknown", 3, 7, 7},
	{"network-prohibited", 3, 9, 9},
	{"host-prohibited", 3, 10, 10},
	{"TOS-network-unreachable", 3, 11, 11},
	{"TOS-host-unreachable", 3, 12, 12},
	{"communication-prohibited", 3, 13, 13},
	{"host-precedence-violation", 3, 14, 14},
	{"precedence-cutoff", 3, 15, 15},
	{"source-quench", 4, 0, 0xff},
	{"redirect", 5, 0, 0xff},
	{"network-redirect", 5, 0, 0},
	{"host-redirect", 5, 1, 1},
	{"TOS-network-redirect", 5, 2, 2},
	{"TOS-host-redirect", 5, 3, 3},
	{"echo-request", 8, 0, 0xff},
	{"ping", 8, 0, 0xff},
	{"router-advertisement", 9, 0, 0xff},
	{"router-solicitation", 10, 0, 0xff},
	{"time-exceeded", 11, 0, 0xff},
	{"ttl-zero-during-transit", 11, 0, 0},
	{"ttl-zero-during-reassembly", 11, 1, 1},
	{"parameter-problem", 12, 0, 0xff},
	{"ip-header-bad", 12, 0, 0},
	{"required-option-missing", 12, 1, 1},
	{"timestamp-request", 13, 0, 0xff},
	{"timestamp-reply", 14, 0, 0xff},
	{"address-mask-request", 17, 0, 0xff},
	{"address-mask-reply", 18, 0, 0xff},
}

// icmp6Names is libip6t_icmp6's table, in its order.
var icmp6Names = []icmpName{
	{"destination-unreachable", 1, 0, 0xff},
	{"no-route", 1, 0, 0},
	{"communication-prohibited", 1, 1, 1},
	{"beyond-scope", 1, 2, 2},
	{"address-unreachable", 1, 3, 3},
	{"port-unreachable", 1, 4, 4},
	{"failed-policy", 1, 5, 5},
	{"reject-route", 1, 6, 6},
	{"packet-too-big", 2, 0, 0xff},
	{"time-exceeded", 3, 0, 0xff},
	{"ttl-zero-during-transit", 3, 0, 0},
	{"ttl-zero-during-reassembly", 3, 1, 1},
	{"parameter-problem", 4, 0, 0xff},
	{"bad-header", 4, 0, 0},
	{"unknown-header-type", 4, 1, 1},
	{"unknown-option", 4, 2, 2},
	{"echo-request", 128, 0, 0xff},
	{"ping", 128, 0, 0xff},
	{"echo-reply", 129, 0, 0xff},
	{"pong", 129, 0, 0xff},
	{"router-solicitation", 133, 0, 0xff},
	{"router-advertisement", 134, 0, 0xff},
	{"neighbour-solicitation", 135, 0, 0xff},
	{"neighbor-solicitation", 135, 0, 0xff},
	{"neighbour-advertisement", 136, 0, 0xff},
	{"neighbor-advertisement", 136, 0, 0xff},
	{"redirect", 137, 0, 0xff},
}

// icmpMatch is -m icmp (struct ipt_icmp) or -m icmp6 (struct ip6t_icmp):
// type, code range and the invert flag, always an xt match in 1.8.9.
type icmpMatch struct {
	v6              bool
	typ, cmin, cmax uint8
	invert          bool
}

func (e *icmpMatch) kind() (name, opt, label string, names []icmpName) {
	if e.v6 {
		return "icmp6", "icmpv6-type", "ICMPv6", icmp6Names
	}
	return "icmp", "icmp-type", "ICMP", icmpNames
}

func parseICMP(ctx Context, m syntax.Match) (Ext, error) {
	e := &icmpMatch{v6: m.Name == "icmp6"}
	name, opt, label, names := e.kind()
	seen := false
	for _, o := range m.Options {
		if o.Name != opt {
			return nil, unsupportedOption(m.Name, o.Name)
		}
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		if seen {
			return nil, paramErr("%s: option \"--%s\" can only be used once.\n", name, opt)
		}
		if err := e.parseType(label, names, v); err != nil {
			return nil, err
		}
		e.invert, seen = o.Invert, true
	}
	if !seen {
		return nil, mustSpecify(name, opt)
	}
	return e, nil
}

// parseType reads a type name (a case-insensitive prefix of one, as
// libxtables matches) or "type[/code]".
func (e *icmpMatch) parseType(label string, names []icmpName, s string) error {
	match := -1
	for i, n := range names {
		if len(s) <= len(n.name) && strings.EqualFold(n.name[:len(s)], s) {
			if match >= 0 {
				return paramErr("Ambiguous %s type `%s': `%s' or `%s'?", label, s, names[match].name, n.name)
			}
			match = i
		}
	}
	if match >= 0 && s != "" {
		n := names[match]
		e.typ, e.cmin, e.cmax = n.typ, n.cmin, n.cmax
		return nil
	}
	t, c, hasCode := strings.Cut(s, "/")
	typ, tail, ok := strtoulPrefix(t)
	if !ok || tail != "" || typ > 0xff {
		return paramErr("Unknown %s type `%s'", label, s)
	}
	e.typ, e.cmin, e.cmax = uint8(typ), 0, 0xff
	if hasCode {
		code, tail, ok := strtoulPrefix(c)
		if !ok || tail != "" || code > 0xff {
			return paramErr("Unknown %s code `%s'", label, s)
		}
		e.cmin, e.cmax = uint8(code), uint8(code)
	}
	return nil
}

func (e *icmpMatch) Name() string {
	name, _, _, _ := e.kind()
	return name
}

func (e *icmpMatch) Revision() (string, uint8, bool, bool) { return e.Name(), 0, false, true }

func (e *icmpMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(4)
	b.u8(0, e.typ)
	b.u8(1, e.cmin)
	b.u8(2, e.cmax)
	if e.invert {
		b.u8(3, 1)
	}
	return []expr.Any{&expr.Match{Name: e.Name(), Rev: 0, Info: rawInfo(b)}}, nil
}

// Save prints as libipt_icmp / libip6t_icmp6 1.8.9 do: the number, with
// "/code" unless the code range is the full one; IPv4's type 255 is "any".
func (e *icmpMatch) Save(Context) string {
	name, opt, _, _ := e.kind()
	var b strings.Builder
	b.WriteString("-m " + name)
	v := strconv.Itoa(int(e.typ))
	switch {
	case !e.v6 && e.typ == 0xff:
		v = "any"
	case e.cmin != 0 || e.cmax != 0xff:
		v += "/" + strconv.Itoa(int(e.cmin))
	}
	writeOpt(&b, e.invert, "--"+opt, v)
	return b.String()
}

func decodeICMPBlob(name string) blobDecoder {
	return func(ctx Context, rev uint32, data []byte) (Ext, error) {
		if rev != 0 {
			return nil, decodeErr("xt match %s rev %d is not supported", name, rev)
		}
		if err := checkSize(name, rev, data, 4); err != nil {
			return nil, err
		}
		b := blob(data)
		if b.get8(3)&^1 != 0 || !b.zero(4, len(b)-4) {
			return nil, decodeErr("xt match %s: unknown invert flags", name)
		}
		e := &icmpMatch{v6: name == "icmp6", typ: b.get8(0), cmin: b.get8(1), cmax: b.get8(2), invert: b.get8(3) == 1}
		// A code range other than one code or all of them prints as its
		// first code, and IPv4's type 255 as "any", whatever its codes:
		// that is what 1.8.9 prints for them.
		return e, nil
	}
}

// List prints as libipt_icmp / libip6t_icmp6 1.8.9 do for -L: "icmp
// echo-request", "icmptype 8", "icmp !type 3 code 1"; numeric leaves the
// names out.
func (e *icmpMatch) List(numeric bool) string {
	_, _, _, names := e.kind()
	prefix := " icmp"
	if e.v6 {
		prefix = " ipv6-icmp"
	}
	inv := ""
	if e.invert {
		inv = "!"
	}
	if !numeric {
		for _, n := range names {
			if n.typ == e.typ && n.cmin == e.cmin && n.cmax == e.cmax {
				return prefix + " " + inv + n.name
			}
		}
	}
	s := fmt.Sprintf("%stype %d", prefix, e.typ)
	if e.invert {
		s = fmt.Sprintf("%s !type %d", prefix, e.typ)
	}
	switch {
	case e.cmin == e.cmax:
		s += fmt.Sprintf(" code %d", e.cmin)
	case e.cmin != 0 || e.cmax != 0xff:
		s += fmt.Sprintf(" codes %d-%d", e.cmin, e.cmax)
	}
	return s
}
