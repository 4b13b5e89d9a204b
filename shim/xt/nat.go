package xt

import (
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// nf_nat_range flags.
const (
	natMapIPs        = 0x01
	natProtoSpecific = 0x02
	natRandom        = 0x04
	natPersistent    = 0x08
	natRandomFully   = 0x10
)

// natRange is the part of nf_nat_range(2) / nf_nat_ipv4_range the NAT
// targets fill in.
type natRange struct {
	flags            uint32
	minAddr, maxAddr netip.Addr // valid when natMapIPs
	minPort, maxPort uint16     // valid when natProtoSpecific
	basePort         uint16     // valid when natRangeOffset
}

// natLayout is which kernel struct a NAT target's info is.
type natLayout int

const (
	layoutIPv4Compat natLayout = iota // nf_nat_ipv4_multi_range_compat, 24 B
	layoutRange                       // nf_nat_range, 40 B
	layoutRange2                      // nf_nat_range2, 48 B
)

// natKind describes one NAT target: which options it takes and which
// struct/revision iptables-nft 1.8.9 writes per family.
type natKind struct {
	name     string
	addrOpt  string // "to-destination", "to-source" or "" (ports only)
	portOpt  string // "to-ports" for MASQUERADE/REDIRECT
	flagOpts map[string]uint32
	// saveFlags is the order save prints the flag options in.
	saveFlags []string
	rev       func(syntax.Family) (uint8, natLayout)
}

var natKinds = sync.OnceValue(func() map[string]*natKind {
	return map[string]*natKind{
		"DNAT": {name: "DNAT", addrOpt: "to-destination",
			flagOpts:  map[string]uint32{"random": natRandom, "persistent": natPersistent},
			saveFlags: []string{"random", "persistent"},
			rev:       func(syntax.Family) (uint8, natLayout) { return 2, layoutRange2 }},
		"SNAT": {name: "SNAT", addrOpt: "to-source",
			flagOpts:  map[string]uint32{"random": natRandom, "random-fully": natRandomFully, "persistent": natPersistent},
			saveFlags: []string{"random", "random-fully", "persistent"},
			rev:       perFamily(0, 1)},
		"MASQUERADE": {name: "MASQUERADE", portOpt: "to-ports",
			flagOpts:  map[string]uint32{"random": natRandom, "random-fully": natRandomFully},
			saveFlags: []string{"random", "random-fully"},
			rev:       perFamily(0, 0)},
		"REDIRECT": {name: "REDIRECT", portOpt: "to-ports",
			flagOpts:  map[string]uint32{"random": natRandom},
			saveFlags: []string{"random"},
			rev:       perFamily(0, 0)},
	}
})

// shiftsPorts reports whether the target takes a "/BASE" port shift in
// the given revision: DNAT where it has nf_nat_range2, and SNAT always,
// for 1.8.9 parses SNAT's to-source as DNAT's to-destination and keeps
// the shift's flag in the older structs, which have no room for the base.
func (k *natKind) shiftsPorts(rev uint8, layout natLayout) bool {
	return (rev == 2 && layout == layoutRange2) || k.name == "SNAT"
}

// perFamily: IPv4 uses the compat struct, IPv6 nf_nat_range.
func perFamily(v4, v6 uint8) func(syntax.Family) (uint8, natLayout) {
	return func(f syntax.Family) (uint8, natLayout) {
		if f == syntax.IPv6 {
			return v6, layoutRange
		}
		return v4, layoutIPv4Compat
	}
}

var natFlagBits = sync.OnceValue(func() map[string]uint32 {
	return map[string]uint32{"random": natRandom, "random-fully": natRandomFully, "persistent": natPersistent}
})

// natTarget is DNAT, SNAT, MASQUERADE or REDIRECT.
type natTarget struct {
	kind *natKind
	// family picks the struct and revision (SNAT is rev 0 for IPv4 and
	// rev 1 for IPv6, for example).
	family syntax.Family
	r      natRange
}

func parseNAT(ctx Context, t syntax.Target) (Ext, error) {
	k := natKinds()[t.Name]
	e := &natTarget{kind: k, family: ctx.Family}
	haveRange := false
	for _, o := range t.Options {
		if bit, ok := k.flagOpts[o.Name]; ok {
			if err := noArg(t.Name, o); err != nil {
				return nil, err
			}
			e.r.flags |= bit
			continue
		}
		v, err := oneArg(t.Name, o)
		if err != nil {
			return nil, err
		}
		switch {
		case o.Name == k.addrOpt && k.addrOpt != "":
			if haveRange {
				return nil, paramErr("%s: Multiple --%s not supported", t.Name, o.Name)
			}
			rev, layout := k.rev(ctx.Family)
			if err := parseNATAddr(ctx, &e.r, v, k.shiftsPorts(rev, layout)); err != nil {
				return nil, err
			}
			if layout != layoutRange2 {
				// SNAT's struct has no base port: 1.8.9 keeps the
				// flag, drops the base, and prints it as "/0".
				e.r.basePort = 0
			}
		case o.Name == k.portOpt && k.portOpt != "":
			if err := parseNATPorts(&e.r, v, false); err != nil {
				return nil, err
			}
		default:
			return nil, unsupportedOption(t.Name, o.Name)
		}
		haveRange = true
	}
	if k.addrOpt != "" && !haveRange {
		return nil, paramErr("%s: option \"--%s\" must be specified\n", t.Name, k.addrOpt)
	}
	if e.r.flags&natProtoSpecific != 0 {
		if p, ok := ctx.ruleProto(); !ok || (p != protoTCP && p != protoUDP && p != protoSCTP && p != 33 && p != 136) {
			return nil, paramErr("Need TCP, UDP, SCTP or DCCP with port specification")
		}
	}
	return e, nil
}

// parseNATAddr reads ADDR[-ADDR][:PORT[-PORT]], with IPv6 addresses in
// brackets when a port follows.
func parseNATAddr(ctx Context, r *natRange, s string, offsetOK bool) error {
	addrs, ports := s, ""
	if ctx.Family == syntax.IPv6 {
		if strings.HasPrefix(s, "[") {
			end := strings.Index(s, "]")
			if end < 0 {
				return paramErr("Invalid address format")
			}
			addrs, ports = s[1:end], strings.TrimPrefix(s[end+1:], ":")
			if rest := s[end+1:]; rest != "" && !strings.HasPrefix(rest, ":") {
				return paramErr("Invalid address format")
			}
		}
	} else if strings.Count(s, ":") > 1 {
		return paramErr("Bad IP address \"%s\"", s)
	} else if a, p, ok := strings.Cut(s, ":"); ok {
		addrs, ports = a, p
		if p == "" {
			return paramErr("Port `' not valid")
		}
	}
	if addrs != "" {
		lo, hi, isRange := strings.Cut(addrs, "-")
		min, err := netip.ParseAddr(lo)
		if err != nil || min.Is4() != (ctx.Family == syntax.IPv4) || min.Zone() != "" {
			return paramErr("Bad IP address \"%s\"", lo)
		}
		max := min
		if isRange {
			if max, err = netip.ParseAddr(hi); err != nil || max.Is4() != min.Is4() {
				return paramErr("Bad IP address \"%s\"", hi)
			}
		}
		r.flags |= natMapIPs
		r.minAddr, r.maxAddr = min, max
	}
	if ports != "" {
		return parseNATPorts(r, ports, offsetOK)
	}
	return nil
}

// natRangeOffset is NF_NAT_RANGE_PROTO_OFFSET: DNAT's "/BASE" port shift
// (nf_nat_range2's base_proto).
const natRangeOffset = 0x20

// parseNATPorts reads PORT[-PORT[/BASE]] as libxt_DNAT 1.8.9 does: the
// first port may be a service name (the whole argument, any protocol),
// the last only a number, the base either; "/BASE" only where the target
// has nf_nat_range2 (DNAT).
func parseNATPorts(r *natRange, s string, offsetOK bool) error {
	port, end, ok := natPortPrefix(s, 0)
	if !ok {
		p, found := lookupAnyService(s)
		if !found {
			return paramErr("Port `%s' not valid", s)
		}
		port, end = uint32(p), ""
	}
	r.flags |= natProtoSpecific
	r.minPort, r.maxPort = uint16(port), uint16(port)
	switch {
	case end == "":
		return nil
	case end[0] == '-':
	case end[0] == ':':
		return paramErr("Invalid port:port syntax - use dash")
	default:
		return paramErr("Garbage after port value: `%s'", end)
	}
	arg := end[1:]
	maxPort, end, ok := natPortPrefix(arg, 0)
	if !ok {
		return paramErr("Port `%s' not valid", arg)
	}
	if maxPort < port {
		return paramErr("Port range `%s' funky", arg)
	}
	r.maxPort = uint16(maxPort)
	switch {
	case end == "":
		return nil
	case end[0] != '/':
		return paramErr("Garbage after port range: `%s'", end)
	case !offsetOK:
		return paramErr("Shifted portmap ranges not supported with this kernel")
	}
	arg = end[1:]
	base, end, ok := natPortPrefix(arg, 1)
	if !ok {
		p, found := lookupAnyService(arg)
		if !found {
			return paramErr("Port `%s' not valid", arg)
		}
		base = uint32(p)
	} else if end != "" {
		return paramErr("Port `%s' not valid", arg)
	}
	r.flags |= natRangeOffset
	r.basePort = uint16(base)
	return nil
}

// natPortPrefix is xtables_strtoui with an end pointer: the number at the
// start of s, between min and 65535, and what follows it.
func natPortPrefix(s string, min uint32) (uint32, string, bool) {
	v, tail, ok := strtoulPrefix(s)
	if !ok || v < min || v > 0xffff {
		return 0, "", false
	}
	return v, tail, true
}

func (e *natTarget) Name() string { return e.kind.name }

func (e *natTarget) Revision() (string, uint8, bool, bool) {
	rev, _ := e.kind.rev(e.family)
	return e.kind.name, rev, true, true
}

func (e *natTarget) Exprs(ctx Context) ([]expr.Any, error) {
	rev, layout := e.kind.rev(ctx.Family)
	var b blob
	r := e.r
	switch layout {
	case layoutIPv4Compat:
		b = newBlob(20)
		b.u32(0, 1) // rangesize
		b.u32(4, r.flags)
		if r.flags&natMapIPs != 0 {
			copy(b[8:12], r.minAddr.AsSlice())
			copy(b[12:16], r.maxAddr.AsSlice())
		}
		if r.flags&natProtoSpecific != 0 {
			b.be16(16, r.minPort)
			b.be16(18, r.maxPort)
		}
	default:
		size := 40
		if layout == layoutRange2 {
			size = 42
		}
		b = newBlob(size)
		b.u32(0, r.flags)
		if r.flags&natMapIPs != 0 {
			copy(b[4:20], r.minAddr.AsSlice())
			copy(b[20:36], r.maxAddr.AsSlice())
		}
		if r.flags&natProtoSpecific != 0 {
			b.be16(36, r.minPort)
			b.be16(38, r.maxPort)
		}
		if layout == layoutRange2 && r.flags&natRangeOffset != 0 {
			b.be16(40, r.basePort)
		}
	}
	return []expr.Any{&expr.Target{Name: e.kind.name, Rev: uint32(rev), Info: rawInfo(b)}}, nil
}

func (e *natTarget) Save(ctx Context) string { return string(e.appendSave(nil, ctx)) }
func (e *natTarget) appendSave(dst []byte, ctx Context) []byte {
	dst = append(dst, "-j "...)
	dst = append(dst, e.kind.name...)
	r := e.r
	ports := r.flags&natProtoSpecific != 0
	appendPorts := func(dst []byte) []byte {
		dst = strconv.AppendUint(dst, uint64(r.minPort), 10)
		if r.maxPort != r.minPort {
			dst = append(dst, '-')
			dst = strconv.AppendUint(dst, uint64(r.maxPort), 10)
		}
		if r.flags&natRangeOffset != 0 {
			dst = append(dst, '/')
			dst = strconv.AppendUint(dst, uint64(r.basePort), 10)
		}
		return dst
	}
	if e.kind.addrOpt != "" {
		dst = append(dst, " --"...)
		dst = append(dst, e.kind.addrOpt...)
		dst = append(dst, ' ')
		addrs := r.flags&natMapIPs != 0
		bracket := ports && addrs && ctx.Family == syntax.IPv6
		if bracket {
			dst = append(dst, '[')
		}
		if addrs {
			dst = r.minAddr.AppendTo(dst)
			if r.maxAddr != r.minAddr {
				dst = append(dst, '-')
				dst = r.maxAddr.AppendTo(dst)
			}
		}
		if bracket {
			dst = append(dst, ']')
		}
		if ports {
			dst = appendPorts(append(dst, ':'))
		}
	} else if ports {
		dst = append(dst, " --"...)
		dst = append(dst, e.kind.portOpt...)
		dst = appendPorts(append(dst, ' '))
	}
	for _, f := range e.kind.saveFlags {
		if r.flags&natFlagBits()[f] != 0 {
			dst = append(dst, " --"...)
			dst = append(dst, f...)
		}
	}
	return dst
}

func decodeNATBlob(name string) blobDecoder {
	k := natKinds()[name]
	return func(ctx Context, rev uint32, data []byte) (Ext, error) {
		wantRev, layout := k.rev(ctx.Family)
		if rev != uint32(wantRev) {
			return nil, decodeErr("xt target %s rev %d is not supported", name, rev)
		}
		e := &natTarget{kind: k, family: ctx.Family}
		b := blob(data)
		var addrLen, addrOff, portOff, size int
		switch layout {
		case layoutIPv4Compat:
			size, addrLen, addrOff, portOff = 20, 4, 8, 16
			if err := checkSize(name, rev, data, size); err != nil {
				return nil, err
			}
			if b.get32(0) != 1 {
				return nil, decodeErr("xt target %s: rangesize %d", name, b.get32(0))
			}
			e.r.flags = b.get32(4)
		default:
			size, addrLen, addrOff, portOff = 40, 16, 4, 36
			if layout == layoutRange2 {
				size = 42
			}
			if err := checkSize(name, rev, data, size); err != nil {
				return nil, err
			}
			e.r.flags = b.get32(0)
			if layout == layoutRange2 {
				e.r.basePort = b.getBE16(40)
			}
			if e.r.basePort != 0 && e.r.flags&natRangeOffset == 0 {
				return nil, decodeErr("xt target %s: base port without its flag", name)
			}
		}
		allowed := uint32(natProtoSpecific)
		if k.addrOpt != "" {
			allowed |= natMapIPs
		}
		if k.shiftsPorts(uint8(rev), layout) {
			allowed |= natRangeOffset
		}
		for _, f := range k.saveFlags {
			allowed |= natFlagBits()[f]
		}
		if e.r.flags&^allowed != 0 || !b.zero(size, len(b)-size) {
			return nil, decodeErr("xt target %s: unsupported flags %#x", name, e.r.flags)
		}
		if e.r.flags&natMapIPs != 0 {
			var ok1, ok2 bool
			// An IPv4 address in the nf_inet_addr union takes its first
			// four bytes; the rest must be zero.
			n := addrLen
			if ctx.Family == syntax.IPv4 {
				n = 4
			}
			min, max := b[addrOff:addrOff+addrLen], b[addrOff+addrLen:addrOff+2*addrLen]
			e.r.minAddr, ok1 = netip.AddrFromSlice(min[:n])
			e.r.maxAddr, ok2 = netip.AddrFromSlice(max[:n])
			if !ok1 || !ok2 || !blob(min).zero(n, addrLen-n) || !blob(max).zero(n, addrLen-n) {
				return nil, decodeErr("xt target %s: bad address", name)
			}
		} else if !b.zero(addrOff, 2*addrLen) {
			return nil, decodeErr("xt target %s: address without its flag", name)
		}
		if e.r.flags&natProtoSpecific != 0 {
			e.r.minPort, e.r.maxPort = b.getBE16(portOff), b.getBE16(portOff+2)
		} else if !b.zero(portOff, 4) {
			return nil, decodeErr("xt target %s: ports without their flag", name)
		}
		return e, nil
	}
}
