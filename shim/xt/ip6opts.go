package xt

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// ip6t_opts flags (hbh and dst share the struct).
const (
	optsLen     = 0x01
	optsOpts    = 0x02
	optsNStrict = 0x04
	optsInvLen  = 0x01
	// optsMax is IP6T_OPTS_OPTSNR.
	optsMax = 16
)

// optsMatch is -m hbh or -m dst (struct ip6t_opts): the header's length
// and a list of option types, each with a length or 0xff for any.
type optsMatch struct {
	name            string // "hbh" or "dst"
	hdrlen          uint32
	flags, invflags uint8
	opts            []uint16 // type<<8 | length
}

// strtoul reads the number at the start of s as C's strtoul(s, &end, 0)
// does on a 64-bit host: leading white space, an optional sign (a minus
// negates modulo 2^64), 0x hex, leading-0 octal. digits is false when no
// digit was read; overflow when the value does not fit in 64 bits.
func strtoul(s string) (v uint64, rest string, digits, overflow bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	base := uint64(10)
	switch {
	case i+2 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && hexDigit(s[i+2]) >= 0:
		base, i = 16, i+2
	case i < len(s) && s[i] == '0':
		base = 8
	}
	start := i
	for ; i < len(s); i++ {
		d := hexDigit(s[i])
		if d < 0 || uint64(d) >= base {
			break
		}
		if v > (^uint64(0)-uint64(d))/base {
			overflow = true
		}
		v = v*base + uint64(d)
	}
	if i == start {
		return 0, s, false, false
	}
	if neg {
		v = -v
	}
	return v, s[i:], true, overflow
}

// parseOptsNum reads one number of --hbh-opts/--dst-opts as libip6t_hbh's
// parse_opts_num does.
func parseOptsNum(ext, what, s string) (uint64, error) {
	v, rest, digits, overflow := strtoul(s)
	switch {
	case !digits:
		return 0, paramErr("%s: no valid digits in %s `%s'", ext, what, s)
	case overflow:
		return 0, paramErr("%s `%s' specified too big: would overflow", what, s)
	case s != "" && rest != "":
		return 0, paramErr("%s: error parsing %s `%s'", ext, what, s)
	}
	return v, nil
}

// parseOptsList reads "type[:length],..." as libip6t_hbh's parse_options.
func parseOptsList(ext, s string) ([]uint16, error) {
	var out []uint16
	cp, more := s, true
	for more && len(out) < optsMax {
		var item string
		item, cp, more = strings.Cut(cp, ",")
		typ, length, ranged := strings.Cut(item, ":")
		if ranged && len(out) == optsMax-1 {
			return nil, paramErr("too many ports specified")
		}
		t, err := parseOptsNum(ext, "opt", typ)
		if err != nil {
			return nil, err
		}
		o := uint16(t&0xff) << 8
		if ranged {
			if o == 0 {
				return nil, paramErr("PAD0 has not got length")
			}
			l, err := parseOptsNum(ext, "length", length)
			if err != nil {
				return nil, err
			}
			o |= uint16(l & 0xff)
		} else {
			o |= 0xff
		}
		out = append(out, o)
	}
	if more {
		return nil, paramErr("too many addresses specified")
	}
	return out, nil
}

func parseOpts(ctx Context, m syntax.Match) (Ext, error) {
	e := &optsMatch{name: m.Name}
	for _, o := range m.Options {
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		switch strings.TrimPrefix(o.Name, m.Name+"-") {
		case "len":
			n, tail, ok := strtoulPrefix(v)
			if !ok || tail != "" {
				return nil, badRange(m.Name, o.Name, 0, 0xffffffff)
			}
			e.hdrlen = n
			e.flags |= optsLen
			if o.Invert {
				e.invflags |= optsInvLen
			}
		case "opts":
			if e.opts, err = parseOptsList(m.Name, v); err != nil {
				return nil, err
			}
			e.flags |= optsOpts
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
	}
	return e, nil
}

func (e *optsMatch) Name() string                          { return e.name }
func (e *optsMatch) Revision() (string, uint8, bool, bool) { return e.name, 0, false, true }
func (e *optsMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(40)
	b.u32(0, e.hdrlen)
	b.u8(4, e.flags)
	b.u8(5, e.invflags)
	for i, o := range e.opts {
		b.u16(6+2*i, o)
	}
	b.u8(38, uint8(len(e.opts)))
	return xtMatch(e.name, 0, b), nil
}

func (e *optsMatch) optsString() string {
	var b strings.Builder
	for i, o := range e.opts {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(int(o >> 8)))
		if o&0xff != 0xff {
			b.WriteString(":" + strconv.Itoa(int(o&0xff)))
		}
	}
	return b.String()
}

func (e *optsMatch) Save(Context) string {
	s := "-m " + e.name
	if e.flags&optsLen != 0 {
		s += fmt.Sprintf(" %s--%s-len %d", invertSave(e.invflags&optsInvLen != 0), e.name, e.hdrlen)
	}
	if e.flags&optsOpts != 0 {
		s += " --" + e.name + "-opts"
		if len(e.opts) > 0 {
			s += " " + e.optsString()
		}
	}
	return s
}

// List prints "hbh length:!42 opts 1:2,23".
func (e *optsMatch) List(bool) string {
	s := " " + e.name
	if e.flags&optsLen != 0 {
		inv := ""
		if e.invflags&optsInvLen != 0 {
			inv = "!"
		}
		s += fmt.Sprintf(" length:%s%d", inv, e.hdrlen)
	}
	if e.flags&optsOpts != 0 {
		s += " opts"
	}
	if len(e.opts) > 0 {
		s += " " + e.optsString()
	}
	return s
}

func decodeOptsBlob(name string) blobDecoder {
	return func(ctx Context, rev uint32, data []byte) (Ext, error) {
		if rev != 0 {
			return nil, decodeErr("xt match %s rev %d is not supported", name, rev)
		}
		if err := checkSize(name, rev, data, 39); err != nil {
			return nil, err
		}
		b := blob(data)
		e := &optsMatch{name: name, hdrlen: b.get32(0), flags: b.get8(4), invflags: b.get8(5)}
		n := int(b.get8(38))
		// Save prints the list only with its flag, the length only with
		// its flag; libip6t_hbh has no option for not-strict.
		if e.flags&^(optsLen|optsOpts) != 0 || e.invflags&^optsInvLen != 0 || n > optsMax ||
			e.flags&optsLen == 0 && (e.hdrlen != 0 || e.invflags != 0) || e.flags&optsOpts == 0 && n != 0 ||
			!b.zero(39, len(b)-39) {
			return nil, decodeErr("xt match %s: flags 0x%x invflags 0x%x optsnr %d", name, e.flags, e.invflags, n)
		}
		for i := 0; i < optsMax; i++ {
			if i < n {
				e.opts = append(e.opts, b.get16(6+2*i))
			} else if b.get16(6+2*i) != 0 {
				return nil, decodeErr("xt match %s: option %d past optsnr", name, i)
			}
		}
		return e, nil
	}
}

// ip6t_rt flags and inverse flags.
const (
	rtType    = 0x01
	rtSegs    = 0x02
	rtLen     = 0x04
	rtRes     = 0x08
	rtAddrs   = 0x10 // IP6T_RT_FST: a type-0 address list
	rtNStrict = 0x20 // IP6T_RT_FST_NSTRICT: the list is not strict
	rtHops    = 16   // IP6T_RT_HOPS: addresses a list holds at most
	rtAddrOff = 20   // offset of addrs[] (in6_addr is 4-byte aligned)
	rtNrOff   = 276  // offset of addrnr
	rtInvType = 0x01
	rtInvSegs = 0x02
	rtInvLen  = 0x04
	rtSize    = 277 // sizeof(struct ip6t_rt) before padding
)

// rtMatch is -m rt (struct ip6t_rt): the routing header's type, segments
// left, length and reserved field, and a type-0 header's address list
// (strict unless --rt-0-not-strict).
type rtMatch struct {
	typ, hdrlen     uint32
	segs            [2]uint32
	flags, invflags uint8
	addrs           []netip.Addr
}

func parseRT(ctx Context, m syntax.Match) (Ext, error) {
	e := &rtMatch{segs: [2]uint32{0, 0xffffffff}}
	for _, o := range m.Options {
		switch o.Name {
		case "rt-type", "rt-len":
			v, err := oneArg(m.Name, o)
			if err != nil {
				return nil, err
			}
			n, tail, ok := strtoulPrefix(v)
			if !ok || tail != "" {
				return nil, badRange(m.Name, o.Name, 0, 0xffffffff)
			}
			if o.Name == "rt-type" {
				e.typ, e.flags = n, e.flags|rtType
				if o.Invert {
					e.invflags |= rtInvType
				}
			} else {
				e.hdrlen, e.flags = n, e.flags|rtLen
				if o.Invert {
					e.invflags |= rtInvLen
				}
			}
		case "rt-segsleft":
			v, err := oneArg(m.Name, o)
			if err != nil {
				return nil, err
			}
			r, n, err := parseU32Range(ctx, m.Name, o.Name, v)
			if err != nil {
				return nil, err
			}
			if n == 1 {
				r[1] = r[0]
			}
			e.segs, e.flags = r, e.flags|rtSegs
			if o.Invert {
				e.invflags |= rtInvSegs
			}
		case "rt-0-res":
			if err := noArg(m.Name, o); err != nil {
				return nil, err
			}
			if e.flags&rtType == 0 || e.typ != 0 || e.invflags&rtInvType != 0 {
				return nil, paramErr("`--rt-type 0' required before `--rt-0-res'")
			}
			e.flags |= rtRes
		case "rt-0-addrs":
			v, err := oneArg(m.Name, o)
			if err != nil {
				return nil, err
			}
			if e.flags&rtType == 0 || e.typ != 0 || e.invflags&rtInvType != 0 {
				return nil, paramErr("`--rt-type 0' required before `--rt-0-addrs'")
			}
			if e.addrs, err = parseRTAddrs(cutNUL(v)); err != nil {
				return nil, err
			}
			e.flags |= rtAddrs
		case "rt-0-not-strict":
			if err := noArg(m.Name, o); err != nil {
				return nil, err
			}
			if e.flags&rtAddrs == 0 {
				return nil, paramErr("`--rt-0-addr ...' required before `--rt-0-not-strict'")
			}
			e.flags |= rtNStrict
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
	}
	return e, nil
}

// parseRTAddrs reads libip6t_rt's comma-separated address list: each an
// IPv6 address as inet_pton reads it, at most rtHops of them.
func parseRTAddrs(s string) ([]netip.Addr, error) {
	var out []netip.Addr
	for rest, more := s, true; more; {
		if len(out) == rtHops {
			return nil, paramErr("too many addresses specified")
		}
		var one string
		one, rest, more = strings.Cut(rest, ",")
		a, err := netip.ParseAddr(one)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return nil, paramErr("bad address: %s", one)
		}
		out = append(out, a)
	}
	return out, nil
}

// inet6String formats an IPv6 address as glibc's inet_ntop does, which
// differs from netip only for an IPv4-compatible address (::a.b.c.d).
func inet6String(a netip.Addr) string {
	b := a.As16()
	if blob(b[:]).zero(0, 12) && (b[12] != 0 || b[13] != 0) {
		return "::" + netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}).String()
	}
	return a.String()
}

// rtAddrList is the address list as save and -L print it, with its
// leading space.
func (e *rtMatch) rtAddrList() string {
	var b strings.Builder
	for i, a := range e.addrs {
		if i == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(inet6String(a))
	}
	return b.String()
}

func (e *rtMatch) Name() string                          { return "rt" }
func (e *rtMatch) Revision() (string, uint8, bool, bool) { return "rt", 0, false, true }
func (e *rtMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(rtSize)
	b.u32(0, e.typ)
	b.u32(4, e.segs[0])
	b.u32(8, e.segs[1])
	b.u32(12, e.hdrlen)
	b.u8(16, e.flags)
	b.u8(17, e.invflags)
	for i, a := range e.addrs {
		a16 := a.As16()
		copy(b[rtAddrOff+16*i:], a16[:])
	}
	b.u8(rtNrOff, uint8(len(e.addrs)))
	return xtMatch("rt", 0, b), nil
}

func (e *rtMatch) Save(ctx Context) string {
	s := "-m rt"
	if e.flags&rtType != 0 {
		s += fmt.Sprintf(" %s--rt-type %d", invertSave(e.invflags&rtInvType != 0), e.typ)
	}
	if !(e.segs[0] == 0 && e.segs[1] == 0xffffffff) || showsFullRange(ctx, e.invflags&rtInvSegs != 0) {
		s += " " + invertSave(e.invflags&rtInvSegs != 0) + "--rt-segsleft " + strconv.FormatUint(uint64(e.segs[0]), 10)
		if e.segs[0] != e.segs[1] {
			s += ":" + strconv.FormatUint(uint64(e.segs[1]), 10)
		}
	}
	if e.flags&rtLen != 0 {
		s += fmt.Sprintf(" %s--rt-len %d", invertSave(e.invflags&rtInvLen != 0), e.hdrlen)
	}
	if e.flags&rtRes != 0 {
		s += " --rt-0-res"
	}
	if e.flags&rtAddrs != 0 {
		s += " --rt-0-addrs"
	}
	s += e.rtAddrList()
	if e.flags&rtNStrict != 0 {
		s += " --rt-0-not-strict"
	}
	return s
}

// List prints "rt type:!1 segslefts:!12:23 length:!42 reserved".
func (e *rtMatch) List(bool) string {
	bang := func(bit uint8) string {
		if e.invflags&bit != 0 {
			return "!"
		}
		return ""
	}
	s := " rt"
	if e.flags&rtType != 0 {
		s += fmt.Sprintf(" type:%s%d", bang(rtInvType), e.typ)
	}
	if r := listIDRange("segsleft", e.segs, e.invflags&rtInvSegs != 0); r != "" {
		s += " " + r
	}
	if e.flags&rtLen != 0 {
		s += fmt.Sprintf(" length:%s%d", bang(rtInvLen), e.hdrlen)
	}
	if e.flags&rtRes != 0 {
		s += " reserved"
	}
	if e.flags&rtAddrs != 0 {
		s += " 0-addrs"
	}
	s += e.rtAddrList()
	if e.flags&rtNStrict != 0 {
		s += " 0-not-strict"
	}
	return s
}

func decodeRTBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match rt rev %d is not supported", rev)
	}
	if err := checkSize("rt", rev, data, rtSize); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &rtMatch{typ: b.get32(0), segs: [2]uint32{b.get32(4), b.get32(8)}, hdrlen: b.get32(12), flags: b.get8(16), invflags: b.get8(17)}
	full := e.segs[0] == 0 && e.segs[1] == 0xffffffff
	n := int(b.get8(rtNrOff))
	// What save cannot show is refused: unknown flags, values without
	// their flag, an address list longer than the struct holds or
	// without its flag, bytes beyond the list.
	if e.flags&^(rtType|rtSegs|rtLen|rtRes|rtAddrs|rtNStrict) != 0 || e.invflags&^(rtInvType|rtInvSegs|rtInvLen) != 0 ||
		e.flags&rtType == 0 && (e.typ != 0 || e.invflags&rtInvType != 0) ||
		e.flags&rtLen == 0 && (e.hdrlen != 0 || e.invflags&rtInvLen != 0) ||
		e.flags&rtSegs == 0 && (!full || e.invflags&rtInvSegs != 0) ||
		n > rtHops || (n > 0) != (e.flags&rtAddrs != 0) || e.flags&rtNStrict != 0 && e.flags&rtAddrs == 0 ||
		!b.zero(18, rtAddrOff-18) || !b.zero(rtAddrOff+16*n, rtNrOff-rtAddrOff-16*n) || !b.zero(rtNrOff+1, len(b)-rtNrOff-1) {
		return nil, decodeErr("xt match rt: flags 0x%x invflags 0x%x, %d addresses", e.flags, e.invflags, n)
	}
	for i := 0; i < n; i++ {
		e.addrs = append(e.addrs, netip.AddrFrom16([16]byte(b[rtAddrOff+16*i:rtAddrOff+16*i+16])))
	}
	return e, nil
}

// ipv6HeaderFlags maps the extension headers ipv6header knows to their
// bit in matchflags, in libip6t_ipv6header's order (which -L and save
// follow), with the name each prints as: /etc/protocols' name, except
// for numbers 0 and 255, which it prints from its own table.
var ipv6HeaderFlags = []struct {
	proto int
	flag  uint8
	name  string
}{{0, 0x80, "hop-by-hop"}, {60, 0x40, "ipv6-opts"}, {43, 0x20, "ipv6-route"}, {44, 0x10, "ipv6-frag"},
	{51, 0x08, "ah"}, {50, 0x04, "esp"}, {59, 0x02, "ipv6-nonxt"}, {255, 0x01, "protocol"}}

// ipv6HeaderNames are libip6t_ipv6header's own names, tried after
// /etc/protocols.
var ipv6HeaderNames = map[string]int{"hop-by-hop": 0, "protocol": 255, "hop": 0, "dst": 60, "route": 43,
	"frag": 44, "auth": 51, "esp": 50, "none": 59, "prot": 255, "0": 0, "60": 60, "43": 43, "44": 44,
	"51": 51, "50": 50, "59": 59, "255": 255}

// ipv6HeaderMatch is -m ipv6header (struct ip6t_ipv6header_info).
type ipv6HeaderMatch struct {
	flags  uint8
	invert bool
	soft   bool
}

func parseIPv6Header(ctx Context, m syntax.Match) (Ext, error) {
	e := &ipv6HeaderMatch{}
	given := false
	for _, o := range m.Options {
		switch o.Name {
		case "header":
			v, err := oneArg(m.Name, o)
			if err != nil {
				return nil, err
			}
			e.flags = 0
			for _, name := range strings.Split(v, ",") {
				p, ok := syntax.ProtocolNumber(name)
				if !ok {
					if p, ok = ipv6HeaderNames[name]; !ok {
						return nil, paramErr("unknown header `%s' specified", name)
					}
				}
				bit := uint8(0)
				for _, h := range ipv6HeaderFlags {
					if h.proto == p {
						bit = h.flag
					}
				}
				if bit == 0 {
					return nil, paramErr("unknown header `%d' specified", p)
				}
				e.flags |= bit
			}
			e.invert, given = o.Invert, true
		case "soft":
			if err := noArg(m.Name, o); err != nil {
				return nil, err
			}
			e.soft = true
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
	}
	if !given {
		return nil, mustSpecify("ipv6header", "header")
	}
	return e, nil
}

func (e *ipv6HeaderMatch) Name() string                          { return "ipv6header" }
func (e *ipv6HeaderMatch) Revision() (string, uint8, bool, bool) { return "ipv6header", 0, false, true }
func (e *ipv6HeaderMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(3)
	b.u8(0, e.flags)
	if e.invert {
		b.u8(1, 0xff)
	}
	if e.soft {
		b.u8(2, 0xff)
	}
	return xtMatch("ipv6header", 0, b), nil
}

func (e *ipv6HeaderMatch) names() string {
	var out []string
	for _, h := range ipv6HeaderFlags {
		if e.flags&h.flag != 0 {
			out = append(out, h.name)
		}
	}
	return strings.Join(out, ",")
}

func (e *ipv6HeaderMatch) Save(Context) string {
	s := "-m ipv6header " + invertSave(e.invert) + "--header " + e.names()
	if e.soft {
		s += " --soft"
	}
	return s
}

// List prints "ipv6header flags:!hop-by-hop,ah soft" (flags:0x88 numeric).
func (e *ipv6HeaderMatch) List(numeric bool) string {
	s := " ipv6header"
	if e.flags != 0 || e.invert {
		s += " flags:"
		if e.invert {
			s += "!"
		}
		if numeric {
			s += fmt.Sprintf("0x%02X", e.flags)
		} else {
			s += e.names()
		}
	}
	if e.soft {
		s += " soft"
	}
	return s
}

func decodeIPv6HeaderBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match ipv6header rev %d is not supported", rev)
	}
	if err := checkSize("ipv6header", rev, data, 3); err != nil {
		return nil, err
	}
	b := blob(data)
	inv, mode := b.get8(1), b.get8(2)
	if inv != 0 && inv != 0xff || mode != 0 && mode != 0xff || !b.zero(3, len(b)-3) {
		return nil, decodeErr("xt match ipv6header: invflags 0x%x modeflag 0x%x", inv, mode)
	}
	return &ipv6HeaderMatch{flags: b.get8(0), invert: inv == 0xff, soft: mode == 0xff}, nil
}
