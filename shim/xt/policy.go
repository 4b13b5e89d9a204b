package xt

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// xt_policy flags, modes and the bits of struct xt_policy_spec (a
// bit-field, least significant bit first).
const (
	polMatchIn     = 0x1
	polMatchOut    = 0x2
	polMatchNone   = 0x4
	polMatchStrict = 0x8

	polModeTransport = 0
	polModeTunnel    = 1

	polSpecSaddr = 1 << 0
	polSpecDaddr = 1 << 1
	polSpecProto = 1 << 2
	polSpecMode  = 1 << 3
	polSpecSPI   = 1 << 4
	polSpecReqid = 1 << 5
	polSpecAll   = 0x3f

	polMaxElem  = 4
	polElemSize = 76
	polOffFlags = polMaxElem * polElemSize
	polSize     = polOffFlags + 4
)

// policyElem is struct xt_policy_elem.
type policyElem struct {
	saddr, smask, daddr, dmask [16]byte
	spi, reqid                 uint32
	proto, mode                uint8
	match, invert              uint8
}

// policyMatch is -m policy (struct xt_policy_info, revision 0).
type policyMatch struct {
	pol        [polMaxElem]policyElem
	flags, len uint16
	ip6        bool
}

// policyProtoNames are the protocols --proto accepts by name: netbase's
// /etc/protocols names and aliases of the three it allows.
var policyProtoNames = sync.OnceValue(func() map[string]uint8 {
	return map[string]uint8{
		"esp": 50, "ah": 51, "ipcomp": 108, "IPSEC-ESP": 50, "IPSEC-AH": 51, "IPCOMP": 108,
	}
})

// policyHost is xtopt's XTTYPE_HOSTMASK for numeric addresses: the
// address as given (not masked) and the mask, all ones without "/".
// Host names (which iptables resolves through the resolver) are left to a
// real iptables.
func policyHost(fam syntax.Family, opt, v string) (addr, mask [16]byte, err error) {
	host, plen, hasMask := strings.Cut(v, "/")
	for i := range mask {
		mask[i] = 0xff
	}
	if fam == syntax.IPv4 {
		a, ok := inetAton4(host)
		if !ok {
			return addr, mask, unsupportedOption("policy", opt)
		}
		copy(addr[:], a[:])
	} else {
		a, perr := netip.ParseAddr(host)
		if perr != nil || !a.Is6() || a.Zone() != "" {
			return addr, mask, unsupportedOption("policy", opt)
		}
		addr = a.As16()
	}
	if !hasMask {
		return addr, mask, nil
	}
	n, ok, unsup := parsePlen(fam, plen)
	if unsup {
		return addr, mask, unsupportedOption("policy", opt)
	}
	if !ok {
		max := 32
		if fam == syntax.IPv6 {
			max = 128
		}
		return addr, mask, paramErr("policy: bad value for option \"--%s\", neither a valid network mask nor valid CIDR (0-%d).\n", opt, max)
	}
	if n == 255 {
		// A mask that is no prefix: xtopt_parse_plenmask leaves its
		// all-ones start, in all 16 bytes.
		return addr, mask, nil
	}
	mask = [16]byte{}
	copy(mask[:], prefixMask(int(n), 128))
	return addr, mask, nil
}

func parsePolicy(ctx Context, m syntax.Match) (Ext, error) {
	e := &policyMatch{ip6: ctx.Family == syntax.IPv6}
	given := map[string]bool{}
	for _, o := range m.Options {
		given[o.Name] = true
		el := &e.pol[e.len]
		inv := uint8(0)
		if o.Invert {
			inv = 1
		}
		switch o.Name {
		case "strict":
			e.flags |= polMatchStrict
			continue
		case "next":
			e.len++
			if e.len == polMaxElem {
				return nil, paramErr("policy match: maximum policy depth reached")
			}
			continue
		}
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		v = cutNUL(v)
		double := func(bit uint8) error {
			if el.match&bit != 0 {
				return paramErr("policy match: double --%s option", o.Name)
			}
			el.match |= bit
			el.invert |= inv * bit
			return nil
		}
		switch o.Name {
		case "dir":
			switch v {
			case "in":
				e.flags |= polMatchIn
			case "out":
				e.flags |= polMatchOut
			default:
				return nil, paramErr("policy_match: invalid dir \"%s\"", v)
			}
		case "pol":
			switch v {
			case "none":
				e.flags |= polMatchNone
			case "ipsec":
			default:
				return nil, paramErr("policy match: invalid policy \"%s\"", v)
			}
		case "reqid", "spi":
			n, _, ok := strtoulRange(v, 0, 0xffffffff, false)
			if !ok {
				return nil, badRange(m.Name, o.Name, 0, 0xffffffff)
			}
			bit := uint8(polSpecReqid)
			if o.Name == "spi" {
				bit = polSpecSPI
			}
			if err := double(bit); err != nil {
				return nil, err
			}
			if o.Name == "spi" {
				el.spi = uint32(n)
			} else {
				el.reqid = uint32(n)
			}
		case "tunnel-src", "tunnel-dst":
			addr, mask, err := policyHost(ctx.Family, o.Name, v)
			if err != nil {
				return nil, err
			}
			bit := uint8(polSpecSaddr)
			if o.Name == "tunnel-dst" {
				bit = polSpecDaddr
			}
			if err := double(bit); err != nil {
				return nil, err
			}
			if bit == polSpecSaddr {
				el.saddr, el.smask = addr, mask
			} else {
				el.daddr, el.dmask = addr, mask
			}
		case "proto":
			var p uint8
			if n, _, ok := strtoulRange(v, 0, 0xff, false); ok {
				p = uint8(n)
			} else if v == "all" {
				p = 0
			} else if n, ok := policyProtoNames()[v]; ok {
				p = n
			} else if n, ok := syntax.ProtocolNumber(v); ok && v == strings.ToLower(v) {
				// A lower-case name is netbase's own, which
				// getprotobyname finds.
				p = uint8(n)
			} else {
				// Other names go through the host's protocol database.
				return nil, unsupportedOption(m.Name, o.Name)
			}
			if el.match&polSpecProto != 0 {
				return nil, paramErr("policy match: double --proto option")
			}
			el.proto = p
			if p != 50 && p != 51 && p != 108 {
				return nil, paramErr("policy match: protocol must be ah/esp/ipcomp")
			}
			el.match |= polSpecProto
			el.invert |= inv * polSpecProto
		case "mode":
			if err := double(polSpecMode); err != nil {
				return nil, err
			}
			switch v {
			case "transport":
				el.mode = polModeTransport
			case "tunnel":
				el.mode = polModeTunnel
			default:
				return nil, paramErr("policy match: invalid mode \"%s\"", v)
			}
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
	}
	// policy_check, then xtopt's --next needs --strict.
	if e.flags&(polMatchIn|polMatchOut) == 0 {
		return nil, paramErr("policy match: neither --dir in nor --dir out specified")
	}
	if e.flags&polMatchNone != 0 {
		if e.flags&polMatchStrict != 0 {
			return nil, paramErr("policy match: policy none but --strict given")
		}
		if e.len != 0 {
			return nil, paramErr("policy match: policy none but policy given")
		}
	} else {
		e.len++
	}
	for i := 0; i < int(e.len); i++ {
		el := &e.pol[i]
		if e.flags&polMatchStrict != 0 && el.match == 0 {
			return nil, paramErr("policy match: empty policy element %d. --strict is in effect, but at least one of reqid, spi, tunnel-src, tunnel-dst, proto or mode is required.", i)
		}
		inverted := el.invert&polSpecMode != 0
		if el.match&(polSpecSaddr|polSpecDaddr) != 0 && (el.mode == polModeTunnel && inverted || el.mode == polModeTransport && !inverted) {
			return nil, paramErr("policy match: --tunnel-src/--tunnel-dst is only valid in tunnel mode")
		}
	}
	if given["next"] && !given["strict"] {
		return nil, alsoRequires(m.Name, "next", "strict")
	}
	return e, nil
}

func (e *policyMatch) Name() string                          { return "policy" }
func (e *policyMatch) Revision() (string, uint8, bool, bool) { return "policy", 0, false, true }

func (e *policyMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(polSize)
	for i, el := range e.pol {
		o := i * polElemSize
		copy(b[o:], el.saddr[:])
		copy(b[o+16:], el.smask[:])
		copy(b[o+32:], el.daddr[:])
		copy(b[o+48:], el.dmask[:])
		b.u32(o+64, el.spi)
		b.u32(o+68, el.reqid)
		b.u8(o+72, el.proto)
		b.u8(o+73, el.mode)
		b.u8(o+74, el.match)
		b.u8(o+75, el.invert)
	}
	b.u16(polOffFlags, e.flags)
	b.u16(polOffFlags+2, e.len)
	return xtMatch("policy", 0, b), nil
}

func (e *policyMatch) family() syntax.Family {
	if e.ip6 {
		return syntax.IPv6
	}
	return syntax.IPv4
}

func (e *policyMatch) flagsText(prefix string) string {
	var b strings.Builder
	if e.flags&polMatchIn != 0 {
		b.WriteString(" " + prefix + "dir in")
	} else {
		b.WriteString(" " + prefix + "dir out")
	}
	if e.flags&polMatchNone != 0 {
		b.WriteString(" " + prefix + "pol none")
	} else {
		b.WriteString(" " + prefix + "pol ipsec")
	}
	if e.flags&polMatchStrict != 0 {
		b.WriteString(" " + prefix + "strict")
	}
	return b.String()
}

// policyProtoText is print_proto's name (netbase's first name) or number.
func policyProtoText(p uint8, numeric bool) string {
	if !numeric {
		switch p {
		case 50:
			return "esp"
		case 51:
			return "ah"
		case 108:
			return "ipcomp"
		}
	}
	return fmt.Sprint(p)
}

// entryText is print_entry.
func (e *policyMatch) entryText(el *policyElem, prefix string, numeric bool) string {
	var b strings.Builder
	bang := func(bit uint8) {
		if el.invert&bit != 0 {
			b.WriteString(" !")
		}
	}
	if el.match&polSpecReqid != 0 {
		bang(polSpecReqid)
		fmt.Fprintf(&b, " %sreqid %d", prefix, el.reqid)
	}
	if el.match&polSpecSPI != 0 {
		bang(polSpecSPI)
		fmt.Fprintf(&b, " %sspi 0x%x", prefix, el.spi)
	}
	if el.match&polSpecProto != 0 {
		bang(polSpecProto)
		fmt.Fprintf(&b, " %sproto %s", prefix, policyProtoText(el.proto, numeric))
	}
	if el.match&polSpecMode != 0 {
		bang(polSpecMode)
		mode := "???"
		switch el.mode {
		case polModeTransport:
			mode = "transport"
		case polModeTunnel:
			mode = "tunnel"
		}
		fmt.Fprintf(&b, " %smode %s", prefix, mode)
	}
	if el.match&polSpecDaddr != 0 {
		bang(polSpecDaddr)
		fmt.Fprintf(&b, " %stunnel-dst %s", prefix, ctAddrString(e.family(), el.daddr, el.dmask))
	}
	if el.match&polSpecSaddr != 0 {
		bang(polSpecSaddr)
		fmt.Fprintf(&b, " %stunnel-src %s", prefix, ctAddrString(e.family(), el.saddr, el.smask))
	}
	return b.String()
}

func (e *policyMatch) Save(Context) string {
	var b strings.Builder
	b.WriteString("-m policy")
	b.WriteString(e.flagsText("--"))
	for i := 0; i < int(e.len); i++ {
		b.WriteString(e.entryText(&e.pol[i], "--", false))
		if i+1 < int(e.len) {
			b.WriteString(" --next")
		}
	}
	return b.String()
}

// List prints "policy match dir in pol ipsec strict [0] reqid 1 [1] ...".
func (e *policyMatch) List(numeric bool) string {
	var b strings.Builder
	b.WriteString(" policy match")
	b.WriteString(e.flagsText(""))
	for i := 0; i < int(e.len); i++ {
		if e.len > 1 {
			fmt.Fprintf(&b, " [%d]", i)
		}
		b.WriteString(e.entryText(&e.pol[i], "", numeric))
	}
	return b.String()
}

func decodePolicyBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match policy rev %d is not supported", rev)
	}
	if err := checkSize("policy", rev, data, polSize); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &policyMatch{flags: b.get16(polOffFlags), len: b.get16(polOffFlags + 2), ip6: ctx.Family == syntax.IPv6}
	if e.len > polMaxElem || e.flags&^uint16(0xf) != 0 || !b.zero(polSize, len(b)-polSize) {
		return nil, decodeErr("xt match policy: %d elements, flags %#x", e.len, e.flags)
	}
	for i := range e.pol {
		o := i * polElemSize
		el := &e.pol[i]
		copy(el.saddr[:], b[o:o+16])
		copy(el.smask[:], b[o+16:o+32])
		copy(el.daddr[:], b[o+32:o+48])
		copy(el.dmask[:], b[o+48:o+64])
		el.spi, el.reqid = b.get32(o+64), b.get32(o+68)
		el.proto, el.mode, el.match, el.invert = b.get8(o+72), b.get8(o+73), b.get8(o+74), b.get8(o+75)
		// Other protocols print by the host's protocol database.
		if el.match&^polSpecAll != 0 || el.invert&^polSpecAll != 0 || el.match&polSpecProto != 0 && el.proto != 50 && el.proto != 51 && el.proto != 108 {
			return nil, decodeErr("xt match policy: element %d spec %#x/%#x", i, el.match, el.invert)
		}
	}
	return e, nil
}
