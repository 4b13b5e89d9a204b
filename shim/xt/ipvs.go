package xt

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// struct xt_ipvs_mtinfo: vaddr and vmask (union nf_inet_addr, 16 bytes
// each), vport (be16) at 32, l4proto at 34, fwd_method at 35, vportctl
// (be16) at 36, invert at 38, bitmask at 39; 40 bytes.
const (
	ipvsProperty = 1 << 0 // --ipvs; every other option implies it
	ipvsProto    = 1 << 1
	ipvsVaddr    = 1 << 2
	ipvsVport    = 1 << 3
	ipvsDir      = 1 << 4
	ipvsMethod   = 1 << 5
	ipvsVportctl = 1 << 6
	ipvsMask     = 1<<7 - 1
	ipvsOnce     = ipvsMask &^ ipvsProperty
	ipvsSize     = 40
)

// ipvsMethods are IP_VS_CONN_F_* for --vmethod.
var ipvsMethods = sync.OnceValue(func() map[string]uint8 {
	return map[string]uint8{"MASQ": 0, "GATE": 3, "IPIP": 2}
})

// ipvs is -m ipvs (libxt_ipvs registers revision 0 only).
type ipvs struct {
	vaddr, vmask    [16]byte
	vport, vportctl uint16
	proto, method   uint8
	invert, bitmask uint8
}

// ipvsOptionBit is the option's bit, which libxt_ipvs sets in bitmask
// (and invert) whatever the option does.
var ipvsOptionBit = sync.OnceValue(func() map[string]uint8 {
	return map[string]uint8{
		"ipvs": ipvsProperty, "vproto": ipvsProto, "vaddr": ipvsVaddr, "vport": ipvsVport,
		"vdir": ipvsDir, "vmethod": ipvsMethod, "vportctl": ipvsVportctl,
	}
})

func parseIPVS(ctx Context, m syntax.Match) (Ext, error) {
	e := &ipvs{}
	for _, o := range m.Options {
		bit, ok := ipvsOptionBit()[o.Name]
		if !ok {
			return nil, unsupportedOption(m.Name, o.Name)
		}
		var v string
		if o.Name != "ipvs" {
			var err error
			if v, err = oneArg(m.Name, o); err != nil {
				return nil, err
			}
		}
		switch o.Name {
		case "vproto":
			n, ok := cNumber(v, 0xff)
			if !ok {
				switch p, known := syntax.ProtocolNumber(v); {
				case strings.EqualFold(v, "all"):
					n = 0
				case known && p >= 0 && p <= 0xff:
					n = uint64(p)
				default:
					return nil, paramErr("unknown protocol \"%s\" specified", v)
				}
			}
			e.proto = uint8(n)
		case "vaddr":
			a, mk, err := parseHostMask(ctx.Family, m.Name, o.Name, v)
			if err != nil {
				return nil, err
			}
			e.vaddr, e.vmask = a, mk
		case "vport", "vportctl":
			p, err := anyProtoPort(v)
			if err != nil {
				return nil, err
			}
			if o.Name == "vport" {
				e.vport = p
			} else {
				e.vportctl = p
			}
		case "vdir":
			switch strings.ToUpper(v) {
			case "ORIGINAL":
				e.invert &^= ipvsDir
			case "REPLY":
				e.invert |= ipvsDir
			default:
				return nil, paramErr("ipvs: Bad value for \"--vdir\" option: \"%s\"", v)
			}
		case "vmethod":
			meth, ok := ipvsMethods()[strings.ToUpper(v)]
			if !ok {
				return nil, paramErr("ipvs: Bad value for \"--vmethod\" option: \"%s\"", v)
			}
			e.method = meth
		}
		e.bitmask |= bit
		if o.Invert {
			e.invert |= bit
		}
	}
	if len(m.Options) == 0 {
		return nil, paramErr("IPVS: At least one option is required")
	}
	if e.bitmask&ipvsOnce != 0 {
		if e.invert&ipvsProperty != 0 {
			return nil, paramErr("! --ipvs cannot be together with other options")
		}
		e.bitmask |= ipvsProperty
	}
	return e, nil
}

// parseHostMask reads ADDR[/MASK] as libxtables' XTTYPE_HOSTMASK does:
// the address as given; a bare address gets every mask byte set, a prefix
// length (or a mask address, counted as its prefix length, /all when it
// is not one) the first LEN bits. Host names are left to a real iptables.
func parseHostMask(fam syntax.Family, ext, opt, s string) (addr, mask [16]byte, err error) {
	if fam == syntax.IPv6 {
		return parseHostMask6(ext, opt, s)
	}
	host, plen, hasMask := strings.Cut(s, "/")
	a, perr := netip.ParseAddr(host)
	if perr != nil || !a.Is4() {
		return addr, mask, unsupportedOption(ext, opt+" "+s)
	}
	copy(addr[:], a.AsSlice())
	if !hasMask {
		return addr, allOnes, nil
	}
	bits := -1
	if n, ok := cNumber(plen, 32); ok {
		bits = int(n)
	} else if mk, err := netip.ParseAddr(plen); err == nil && mk.Is4() {
		var m16 [16]byte
		copy(m16[:], mk.AsSlice())
		if n, ok := prefixLen(m16); ok && n <= 32 {
			bits = n
		} else {
			return addr, allOnes, nil
		}
	} else {
		return addr, mask, paramErr("%s: bad value for option \"--%s\", neither a valid network mask nor valid CIDR (0-32).\n", ext, opt)
	}
	copy(mask[:], prefixMask(bits, 32))
	return addr, mask, nil
}

func (e *ipvs) Name() string                          { return "ipvs" }
func (e *ipvs) Revision() (string, uint8, bool, bool) { return "ipvs", 0, false, true }

func (e *ipvs) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(ipvsSize)
	copy(b[0:16], e.vaddr[:])
	copy(b[16:32], e.vmask[:])
	b.be16(32, e.vport)
	b.u8(34, e.proto)
	b.u8(35, e.method)
	b.be16(36, e.vportctl)
	b.u8(38, e.invert)
	b.u8(39, e.bitmask)
	return xtMatch("ipvs", 0, b), nil
}

// addrString is ipvs_mt_dump_addr with numeric output: the address and
// "/LEN", nothing for a host mask, the mask itself when not a prefix.
func (e *ipvs) addrString(fam syntax.Family) string {
	if fam == syntax.IPv6 {
		n, ok := prefixLen(e.vmask)
		switch {
		case !ok:
			return ntop6(e.vaddr) + "/" + ntop6(e.vmask)
		case n == 128:
			return ntop6(e.vaddr)
		}
		return fmt.Sprintf("%s/%d", ntop6(e.vaddr), n)
	}
	a, _ := netip.AddrFromSlice(e.vaddr[:4])
	var m16 [16]byte
	copy(m16[:], e.vmask[:4])
	n, ok := prefixLen(m16)
	switch {
	case !ok:
		mk, _ := netip.AddrFromSlice(e.vmask[:4])
		return a.String() + "/" + mk.String()
	case n == 32:
		return a.String()
	}
	return fmt.Sprintf("%s/%d", a, n)
}

func (e *ipvs) Save(ctx Context) string {
	var b strings.Builder
	b.WriteString("-m ipvs")
	bang := func(bit uint8) {
		if e.invert&bit != 0 {
			b.WriteString(" !")
		}
	}
	if e.bitmask == ipvsProperty {
		bang(ipvsProperty)
		b.WriteString(" --ipvs")
	}
	if e.bitmask&ipvsProto != 0 {
		bang(ipvsProto)
		fmt.Fprintf(&b, " --vproto %d", e.proto)
	}
	if e.bitmask&ipvsVaddr != 0 {
		bang(ipvsVaddr)
		b.WriteString(" --vaddr " + e.addrString(ctx.Family))
	}
	if e.bitmask&ipvsVport != 0 {
		bang(ipvsVport)
		fmt.Fprintf(&b, " --vport %d", e.vport)
	}
	if e.bitmask&ipvsDir != 0 {
		if e.invert&ipvsDir != 0 {
			b.WriteString(" --vdir REPLY")
		} else {
			b.WriteString(" --vdir ORIGINAL")
		}
	}
	if e.bitmask&ipvsMethod != 0 {
		bang(ipvsMethod)
		b.WriteString(" --vmethod")
		switch e.method {
		case 3:
			b.WriteString(" GATE")
		case 2:
			b.WriteString(" IPIP")
		case 0:
			b.WriteString(" MASQ")
		}
	}
	if e.bitmask&ipvsVportctl != 0 {
		bang(ipvsVportctl)
		fmt.Fprintf(&b, " --vportctl %d", e.vportctl)
	}
	return b.String()
}

func decodeIPVSBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match ipvs rev %d is not supported", rev)
	}
	if err := checkSize("ipvs", rev, data, ipvsSize); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &ipvs{vport: b.getBE16(32), proto: b.get8(34), method: b.get8(35), vportctl: b.getBE16(36), invert: b.get8(38), bitmask: b.get8(39)}
	copy(e.vaddr[:], b[0:16])
	copy(e.vmask[:], b[16:32])
	// Save leaves out what its flags do not name, and prints an unknown
	// method as UNKNOWN, which no parser takes back: refuse those.
	known := e.method == 0 || e.method == 2 || e.method == 3
	if e.bitmask&^ipvsMask != 0 || e.invert&^e.bitmask != 0 || e.bitmask == 0 ||
		e.bitmask&ipvsOnce != 0 && e.bitmask&ipvsProperty == 0 ||
		e.bitmask&ipvsProto == 0 && e.proto != 0 || e.bitmask&ipvsVport == 0 && e.vport != 0 ||
		e.bitmask&ipvsVportctl == 0 && e.vportctl != 0 || e.bitmask&ipvsMethod == 0 && e.method != 0 || !known ||
		e.bitmask&ipvsVaddr == 0 && (e.vaddr != [16]byte{} || e.vmask != [16]byte{}) {
		return nil, decodeErr("xt match ipvs: bitmask %#x invert %#x", e.bitmask, e.invert)
	}
	return e, nil
}
