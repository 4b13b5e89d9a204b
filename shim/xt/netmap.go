package xt

import (
	"fmt"
	"net/netip"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// netmapTarget is -j NETMAP --to ADDR/MASK (rev 0): for IPv4 struct
// nf_nat_ipv4_multi_range_compat (libipt_NETMAP), for IPv6 struct
// nf_nat_range (libip6t_NETMAP), mapping the whole range min..max.
type netmapTarget struct {
	family   syntax.Family
	min, max netip.Addr
}

func parseNetmap(ctx Context, t syntax.Target) (Ext, error) {
	var e *netmapTarget
	once := onceOnly{}
	for _, o := range t.Options {
		if err := once.use(t.Name, o.Name); err != nil {
			return nil, err
		}
		if o.Name != "to" {
			return nil, unsupportedOption(t.Name, o.Name)
		}
		v, err := oneArg(t.Name, o)
		if err != nil {
			return nil, err
		}
		h, err := parseXTHostMask(ctx, t.Name, o.Name, cutNUL(v))
		if err != nil {
			return nil, err
		}
		a := h.addr.AsSlice()
		min, max := make([]byte, len(a)), make([]byte, len(a))
		for i := range a {
			min[i] = a[i] & h.mask[i]
			max[i] = min[i] | ^h.mask[i]
		}
		e = &netmapTarget{family: ctx.Family}
		e.min, _ = netip.AddrFromSlice(min)
		e.max, _ = netip.AddrFromSlice(max)
	}
	if e == nil {
		return nil, mustSpecify(t.Name, "to")
	}
	return e, nil
}

func (e *netmapTarget) Name() string                          { return "NETMAP" }
func (e *netmapTarget) Revision() (string, uint8, bool, bool) { return "NETMAP", 0, true, true }

func (e *netmapTarget) Exprs(Context) ([]expr.Any, error) {
	if e.family == syntax.IPv6 {
		b := newBlob(40)
		b.u32(0, natMapIPs)
		copy(b[4:20], e.min.AsSlice())
		copy(b[20:36], e.max.AsSlice())
		return xtTarget("NETMAP", 0, b), nil
	}
	b := newBlob(20)
	b.u32(0, 1) // rangesize
	b.u32(4, natMapIPs)
	copy(b[8:12], e.min.AsSlice())
	copy(b[12:16], e.max.AsSlice())
	return xtTarget("NETMAP", 0, b), nil
}

// to prints the range as NETMAP's print and save do: the first address
// and the bits min and max share, as a prefix length or as a mask.
func (e *netmapTarget) to() string {
	a, z := e.min.AsSlice(), e.max.AsSlice()
	m := make([]byte, len(a))
	for i := range a {
		m[i] = ^(a[i] ^ z[i])
	}
	if n, ok := maskPrefix(m); ok {
		return fmt.Sprintf("%s/%d", ntop(e.min), n)
	}
	mask, _ := netip.AddrFromSlice(m)
	return ntop(e.min) + "/" + ntop(mask)
}

func (e *netmapTarget) Save(Context) string { return "-j NETMAP --to " + e.to() }

// List prints "to:10.0.0.0/24".
func (e *netmapTarget) List(bool) string { return " to:" + e.to() }

func decodeNetmapBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt target NETMAP rev %d is not supported", rev)
	}
	b := blob(data)
	e := &netmapTarget{family: ctx.Family}
	if ctx.Family == syntax.IPv6 {
		if err := checkSize("NETMAP", rev, data, 40); err != nil {
			return nil, err
		}
		if b.get32(0) != natMapIPs || !b.zero(36, 4) {
			return nil, decodeErr("xt target NETMAP: flags %#x or ports have no iptables form", b.get32(0))
		}
		e.min, _ = netip.AddrFromSlice(b[4:20])
		e.max, _ = netip.AddrFromSlice(b[20:36])
		return e, nil
	}
	if err := checkSize("NETMAP", rev, data, 20); err != nil {
		return nil, err
	}
	if b.get32(0) != 1 || b.get32(4) != natMapIPs || !b.zero(16, len(b)-16) {
		return nil, decodeErr("xt target NETMAP: rangesize %d, flags %#x or ports have no iptables form", b.get32(0), b.get32(4))
	}
	e.min, _ = netip.AddrFromSlice(b[8:12])
	e.max, _ = netip.AddrFromSlice(b[12:16])
	return e, nil
}

// nptSize is struct ip6t_npt_tginfo; iptables compares and the kernel
// reports only the part before its adjustment field, which the kernel
// computes.
const (
	nptSize     = 36
	nptUserSize = 34
)

// nptTarget is -j DNPT or -j SNPT (IPv6 only, rev 0): two prefixes as
// given (the address is not masked) with their lengths.
type nptTarget struct {
	name           string
	src, dst       netip.Addr
	srcLen, dstLen uint8
}

func parseNPT(ctx Context, t syntax.Target) (Ext, error) {
	e := &nptTarget{name: t.Name, src: netip.IPv6Unspecified(), dst: netip.IPv6Unspecified()}
	var haveSrc, haveDst bool
	once := onceOnly{}
	for _, o := range t.Options {
		if err := once.use(t.Name, o.Name); err != nil {
			return nil, err
		}
		v, err := oneArg(t.Name, o)
		if err != nil {
			return nil, err
		}
		h, err := parseXTHostMask(ctx, t.Name, o.Name, cutNUL(v))
		if err != nil {
			return nil, err
		}
		switch o.Name {
		case "src-pfx":
			e.src, e.srcLen, haveSrc = h.addr, uint8(h.plen), true
		case "dst-pfx":
			e.dst, e.dstLen, haveDst = h.addr, uint8(h.plen), true
		default:
			return nil, unsupportedOption(t.Name, o.Name)
		}
	}
	if !haveSrc {
		return nil, mustSpecify(t.Name, "src-pfx")
	}
	if !haveDst {
		return nil, mustSpecify(t.Name, "dst-pfx")
	}
	return e, nil
}

func (e *nptTarget) Name() string                          { return e.name }
func (e *nptTarget) Revision() (string, uint8, bool, bool) { return e.name, 0, true, true }

func (e *nptTarget) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(nptSize)
	copy(b[0:16], e.src.AsSlice())
	copy(b[16:32], e.dst.AsSlice())
	b.u8(32, e.srcLen)
	b.u8(33, e.dstLen)
	return xtTarget(e.name, 0, b), nil
}

func (e *nptTarget) Save(Context) string {
	s := "-j " + e.name
	if !e.src.IsUnspecified() || e.srcLen != 0 {
		s += fmt.Sprintf(" --src-pfx %s/%d", ntop(e.src), e.srcLen)
	}
	if !e.dst.IsUnspecified() || e.dstLen != 0 {
		s += fmt.Sprintf(" --dst-pfx %s/%d", ntop(e.dst), e.dstLen)
	}
	return s
}

// List prints "DNPT src-pfx dead::/64 dst-pfx 1c3::/64".
func (e *nptTarget) List(bool) string {
	return fmt.Sprintf(" %s src-pfx %s/%d dst-pfx %s/%d", e.name, ntop(e.src), e.srcLen, ntop(e.dst), e.dstLen)
}

func decodeNPTBlob(name string) blobDecoder {
	return func(ctx Context, rev uint32, data []byte) (Ext, error) {
		if rev != 0 || ctx.Family != syntax.IPv6 {
			return nil, decodeErr("xt target %s rev %d is not supported", name, rev)
		}
		if err := checkSize(name, rev, data, nptSize); err != nil {
			return nil, err
		}
		b := blob(data)
		// Bytes 34-35 are the kernel's adjustment; the padding after it
		// must be zero.
		if !b.zero(nptSize, len(b)-nptSize) {
			return nil, decodeErr("xt target %s: unknown data", name)
		}
		e := &nptTarget{name: name, srcLen: b.get8(32), dstLen: b.get8(33)}
		e.src, _ = netip.AddrFromSlice(b[0:16])
		e.dst, _ = netip.AddrFromSlice(b[16:32])
		return e, nil
	}
}
