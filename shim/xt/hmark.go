package xt

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// HMARK flag bits (XT_HMARK_*), which are also libxt_HMARK's option ids.
const (
	hmSaddrMask = 1 << iota
	hmDaddrMask
	hmSPI
	hmSPIMask
	hmSport
	hmDport
	hmSportMask
	hmDportMask
	hmProtoMask
	hmRnd
	hmModulus
	hmOffset
	hmCT
	// hmTuple is libxt_HMARK's option id of --hmark-tuple (no kernel flag).
	hmTuple
)

// hmarkPktMask is libxt_HMARK's HMARK_OPT_PKT_MASK: the options that say
// what the hash covers.
const hmarkPktMask = hmSaddrMask | hmDaddrMask | hmSPIMask | hmSportMask | hmDportMask | hmProtoMask | hmSport | hmDport | hmSPI

// hmarkSize is struct xt_hmark_info.
const hmarkSize = 60

// hmarkOptIDs maps each option to its id (a flag bit above).
var hmarkOptIDs = sync.OnceValue(func() map[string]uint32 {
	return map[string]uint32{
		"hmark-tuple": hmTuple, "hmark-src-prefix": hmSaddrMask, "hmark-dst-prefix": hmDaddrMask,
		"hmark-sport-mask": hmSportMask, "hmark-dport-mask": hmDportMask, "hmark-spi-mask": hmSPIMask,
		"hmark-sport": hmSport, "hmark-dport": hmDport, "hmark-spi": hmSPI, "hmark-proto-mask": hmProtoMask,
		"hmark-rnd": hmRnd, "hmark-mod": hmModulus, "hmark-offset": hmOffset,
	}
})

// hmarkTypes are --hmark-tuple's words in the order libxt_HMARK tries
// them (an abbreviation takes the first it prefixes).
var hmarkTypes = []struct {
	name string
	flag uint32
}{{"ct", hmCT}, {"src", hmSaddrMask}, {"dst", hmDaddrMask}, {"sport", hmSportMask}, {"dport", hmDportMask}, {"proto", hmProtoMask}, {"spi", hmSPIMask}}

// hmarkTarget is -j HMARK (struct xt_hmark_info, rev 0). The fields hold
// the struct's values as the kernel reads them (ports and SPIs in host
// order here, network order in the blob).
type hmarkTarget struct {
	family             syntax.Family
	srcMask, dstMask   [16]byte
	portMask, portSet  uint32 // src<<16 | dst, or the SPI
	flags              uint32
	protoMask          uint16
	rnd, modulus, offs uint32
}

func parseHMark(ctx Context, t syntax.Target) (Ext, error) {
	e := &hmarkTarget{family: ctx.Family}
	var xflags uint32
	for _, o := range t.Options {
		id, ok := hmarkOptIDs()[o.Name]
		if !ok {
			return nil, unsupportedOption(t.Name, o.Name)
		}
		v, err := oneArg(t.Name, o)
		if err != nil {
			return nil, err
		}
		v = cutNUL(v)
		if xflags&id != 0 {
			// --hmark-tuple sets the bits of the options it stands for.
			return nil, paramErr("%s: option \"--%s\" can only be used once.\n", t.Name, o.Name)
		}
		var n uint64
		switch o.Name {
		case "hmark-tuple":
			if err := e.parseTuple(v, &xflags); err != nil {
				return nil, err
			}
		case "hmark-src-prefix", "hmark-dst-prefix":
			m, _, err := parsePlenMask(ctx, t.Name, o.Name, v)
			if err != nil {
				return nil, err
			}
			if id == hmSaddrMask {
				e.srcMask = m
			} else {
				e.dstMask = m
			}
		case "hmark-sport-mask", "hmark-dport-mask", "hmark-sport", "hmark-dport", "hmark-proto-mask":
			if n, err = parseXTUint(t.Name, o.Name, v, 0, 0xffff); err != nil {
				return nil, err
			}
			switch id {
			case hmSportMask:
				e.portMask = e.portMask&0xffff | uint32(n)<<16
			case hmDportMask:
				e.portMask = e.portMask&^0xffff | uint32(n)
			case hmSport:
				e.portSet = e.portSet&0xffff | uint32(n)<<16
			case hmDport:
				e.portSet = e.portSet&^0xffff | uint32(n)
			case hmProtoMask:
				e.protoMask = uint16(n)
			}
		default:
			min := uint64(0)
			if id == hmModulus {
				min = 1
			}
			if n, err = parseXTUint(t.Name, o.Name, v, min, 0xffffffff); err != nil {
				return nil, err
			}
			switch id {
			case hmSPIMask:
				e.portMask = uint32(n)
			case hmSPI:
				e.portSet = uint32(n)
			case hmRnd:
				e.rnd = uint32(n)
			case hmModulus:
				e.modulus = uint32(n)
			case hmOffset:
				e.offs = uint32(n)
			}
		}
		if id != hmTuple {
			e.flags |= id
		}
		xflags |= id
	}
	switch {
	case xflags&hmModulus == 0:
		return nil, paramErr("--hmark-mod is mandatory")
	case xflags&hmRnd == 0:
		return nil, paramErr("--hmark-rnd is mandatory")
	case xflags&hmSPIMask != 0 && xflags&(hmSportMask|hmDportMask) != 0:
		return nil, paramErr("you cannot use --hmark-spi-mask and --hmark-?port-mask,at the same time")
	case xflags&(hmarkPktMask|hmCT) == 0:
		return nil, paramErr("you have to specify --hmark-tuple at least")
	}
	return e, nil
}

// parseTuple reads --hmark-tuple's comma-separated words, each a
// case-insensitive abbreviation of a type.
func (e *hmarkTarget) parseTuple(arg string, xflags *uint32) error {
	for rest := arg; ; {
		word, after, more := strings.Cut(rest, ",")
		if !more && word == "" {
			return paramErr("\"--hmark-tuple\" requires a list of types with no spaces, e.g. src,dst,sport,dport,proto")
		}
		flag := uint32(0)
		for _, ty := range hmarkTypes {
			if word != "" && len(word) <= len(ty.name) && strings.EqualFold(word, ty.name[:len(word)]) {
				flag = ty.flag
				break
			}
		}
		if flag == 0 {
			return paramErr("Bad type \"%s\"", rest)
		}
		switch flag {
		case hmSaddrMask:
			e.srcMask = allOnes
		case hmDaddrMask:
			e.dstMask = allOnes
		case hmSportMask:
			e.portMask |= 0xffff << 16
		case hmDportMask:
			e.portMask |= 0xffff
		case hmProtoMask:
			e.protoMask = 0xffff
		case hmSPIMask:
			e.portMask = 0xffffffff
		}
		e.flags |= flag
		*xflags |= flag
		if !more {
			return nil
		}
		rest = after
	}
}

func (e *hmarkTarget) Name() string                          { return "HMARK" }
func (e *hmarkTarget) Revision() (string, uint8, bool, bool) { return "HMARK", 0, true, true }

func (e *hmarkTarget) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(hmarkSize)
	copy(b[0:16], e.srcMask[:])
	copy(b[16:32], e.dstMask[:])
	putBE32(b[32:], e.portMask)
	putBE32(b[36:], e.portSet)
	b.u32(40, e.flags)
	b.u16(44, e.protoMask)
	b.u32(48, e.rnd)
	b.u32(52, e.modulus)
	b.u32(56, e.offs)
	return xtTarget("HMARK", 0, b), nil
}

func putBE32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}
func getBE32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// cidr is xtables_ipmask_to_cidr / xtables_ip6mask_to_cidr of a mask of
// the family: its prefix length, or -1.
func (e *hmarkTarget) cidr(m [16]byte) int {
	n := 16
	if e.family == syntax.IPv4 {
		n = 4
	}
	l, ok := maskPrefix(m[:n])
	if !ok {
		return -1
	}
	return l
}

func (e *hmarkTarget) Save(Context) string {
	var b strings.Builder
	b.WriteString("-j HMARK")
	if e.flags&hmSaddrMask != 0 {
		fmt.Fprintf(&b, " --hmark-src-prefix %d", e.cidr(e.srcMask))
	}
	if e.flags&hmDaddrMask != 0 {
		fmt.Fprintf(&b, " --hmark-dst-prefix %d", e.cidr(e.dstMask))
	}
	for _, f := range []struct {
		bit    uint32
		format string
		v      uint32
	}{
		{hmSportMask, " --hmark-sport-mask 0x%04x", e.portMask >> 16},
		{hmDportMask, " --hmark-dport-mask 0x%04x", e.portMask & 0xffff},
		{hmSPIMask, " --hmark-spi-mask 0x%08x", e.portMask},
		{hmSport, " --hmark-sport 0x%04x", e.portSet >> 16},
		{hmDport, " --hmark-dport 0x%04x", e.portSet & 0xffff},
		{hmSPI, " --hmark-spi 0x%08x", e.portSet},
		{hmProtoMask, " --hmark-proto-mask 0x%02x", uint32(e.protoMask)},
		{hmRnd, " --hmark-rnd 0x%08x", e.rnd},
		{hmModulus, " --hmark-mod %d", e.modulus},
		{hmOffset, " --hmark-offset %d", e.offs},
	} {
		if e.flags&f.bit != 0 {
			fmt.Fprintf(&b, f.format, f.v)
		}
	}
	if e.flags&hmCT != 0 {
		b.WriteString(" --hmark-tuple ct")
	}
	return b.String()
}

// List prints "HMARK mod 42 + 0x1 ct, src-prefix 32 ... rnd 0x4 ", with
// libxt_HMARK's trailing space.
func (e *hmarkTarget) List(bool) string {
	var b strings.Builder
	b.WriteString(" HMARK ")
	if e.flags&hmModulus != 0 {
		fmt.Fprintf(&b, "mod %d ", e.modulus)
	}
	if e.flags&hmOffset != 0 {
		fmt.Fprintf(&b, "+ 0x%x ", e.offs)
	}
	if e.flags&hmCT != 0 {
		b.WriteString("ct, ")
	}
	for _, p := range []struct {
		bit  uint32
		name string
		m    [16]byte
	}{{hmSaddrMask, "src", e.srcMask}, {hmDaddrMask, "dst", e.dstMask}} {
		if e.flags&p.bit == 0 {
			continue
		}
		if e.family == syntax.IPv4 {
			fmt.Fprintf(&b, "%s-prefix %d ", p.name, uint32(int32(e.cidr(p.m))))
			continue
		}
		// xtables_ip6mask_to_numeric, past its leading "/"; for /128 it
		// returns "", and 1.8.9 prints the empty string after it.
		switch l := e.cidr(p.m); {
		case l == 128:
			fmt.Fprintf(&b, "%s-prefix  ", p.name)
		case l >= 0:
			fmt.Fprintf(&b, "%s-prefix %d ", p.name, l)
		default:
			m, _ := netip.AddrFromSlice(p.m[:])
			fmt.Fprintf(&b, "%s-prefix %s ", p.name, ntop(m))
		}
	}
	for _, f := range []struct {
		bit    uint32
		format string
		v      uint32
	}{
		{hmSportMask, "sport-mask 0x%x ", e.portMask >> 16},
		{hmDportMask, "dport-mask 0x%x ", e.portMask & 0xffff},
		{hmSPIMask, "spi-mask 0x%x ", e.portMask},
		{hmSport, "sport 0x%x ", e.portSet >> 16},
		{hmDport, "dport 0x%x ", e.portSet & 0xffff},
		{hmSPI, "spi 0x%x ", e.portSet},
		{hmProtoMask, "proto-mask 0x%x ", uint32(e.protoMask)},
		{hmRnd, "rnd 0x%x ", e.rnd},
	} {
		if e.flags&f.bit != 0 {
			fmt.Fprintf(&b, f.format, f.v)
		}
	}
	return b.String()
}

func decodeHMarkBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt target HMARK rev %d is not supported", rev)
	}
	if err := checkSize("HMARK", rev, data, hmarkSize); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &hmarkTarget{family: ctx.Family, portMask: getBE32(b[32:]), portSet: getBE32(b[36:]), flags: b.get32(40),
		protoMask: b.get16(44), rnd: b.get32(48), modulus: b.get32(52), offs: b.get32(56)}
	copy(e.srcMask[:], b[0:16])
	copy(e.dstMask[:], b[16:32])
	if e.flags&^(hmCT<<1-1) != 0 || !b.zero(46, 2) || !b.zero(hmarkSize, len(b)-hmarkSize) {
		return nil, decodeErr("xt target HMARK: flags %#x have no iptables form", e.flags)
	}
	return e, nil
}
