package xt

import (
	"fmt"
	"net/netip"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// TEE rev 1 (struct xt_tee_tginfo): the kernel keeps a pointer after the
// user part and zeroes it in dumps.
const (
	teeOifSize  = 16
	teeUserSize = 32
	teeSize     = 40
)

// teeTarget is -j TEE --gateway ADDR [--oif NAME].
type teeTarget struct {
	gw  netip.Addr
	oif string
}

func parseTee(ctx Context, t syntax.Target) (Ext, error) {
	e := &teeTarget{}
	once := onceOnly{}
	for _, o := range t.Options {
		if err := once.use(t.Name, o.Name); err != nil {
			return nil, err
		}
		v, err := oneArg(t.Name, o)
		if err != nil {
			return nil, err
		}
		switch o.Name {
		case "gateway":
			if e.gw, err = parseXTHost(ctx, t.Name, o.Name, cutNUL(v)); err != nil {
				return nil, err
			}
		case "oif":
			e.oif = xtString(v, teeOifSize)
		default:
			return nil, unsupportedOption(t.Name, o.Name)
		}
	}
	if !e.gw.IsValid() {
		return nil, mustSpecify(t.Name, "gateway")
	}
	return e, nil
}

func (e *teeTarget) Name() string                          { return "TEE" }
func (e *teeTarget) Revision() (string, uint8, bool, bool) { return "TEE", 1, true, true }
func (e *teeTarget) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(teeSize)
	copy(b[0:16], e.gw.AsSlice())
	b.str(16, teeOifSize, e.oif)
	return xtTarget("TEE", 1, b), nil
}

func (e *teeTarget) Save(Context) string {
	s := "-j TEE --gateway " + ntop(e.gw)
	if e.oif != "" {
		s += " --oif " + e.oif
	}
	return s
}

func decodeTeeBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 1 {
		return nil, decodeErr("xt target TEE rev %d is not supported", rev)
	}
	if err := checkSize("TEE", rev, data, teeSize); err != nil {
		return nil, err
	}
	b := blob(data)
	gw, ok := addrAt(ctx.Family, b[0:16])
	oif, ok2 := b.getStr(16, teeOifSize)
	if !ok || !ok2 || !b.zero(16+len(oif), teeOifSize-len(oif)) || !b.zero(teeUserSize, len(b)-teeUserSize) {
		return nil, decodeErr("xt target TEE: gateway or interface has no iptables form")
	}
	return &teeTarget{gw: gw, oif: oif}, nil
}

// tproxySize is struct xt_tproxy_target_info_v1 (rev 1, both families);
// tproxyV0Size struct xt_tproxy_target_info (rev 0, IPv4), which kernels
// before 2.6.37 took and some writers still use.
const (
	tproxySize   = 26
	tproxyV0Size = 14
)

// tproxyTarget is -j TPROXY --on-port P [--on-ip ADDR] [--tproxy-mark
// V[/M]].
type tproxyTarget struct {
	family     syntax.Family
	mask, mark uint32
	addr       netip.Addr
	port       uint16
	// rev0 is set when read from a revision 0 blob, written back so.
	rev0 bool
}

func parseTproxy(ctx Context, t syntax.Target) (Ext, error) {
	e := &tproxyTarget{family: ctx.Family, addr: unspecified(ctx.Family)}
	havePort := false
	once := onceOnly{}
	for _, o := range t.Options {
		if err := once.use(t.Name, o.Name); err != nil {
			return nil, err
		}
		v, err := oneArg(t.Name, o)
		if err != nil {
			return nil, err
		}
		v = cutNUL(v)
		switch o.Name {
		case "on-port":
			if e.port, err = parseXTPort(t.Name, o.Name, v); err != nil {
				return nil, err
			}
			havePort = true
		case "on-ip":
			if e.addr, err = parseXTHost(ctx, t.Name, o.Name, v); err != nil {
				return nil, err
			}
		case "tproxy-mark":
			if e.mark, e.mask, err = parseXTMarkMask(t.Name, o.Name, v); err != nil {
				return nil, err
			}
		default:
			return nil, unsupportedOption(t.Name, o.Name)
		}
	}
	if !havePort {
		return nil, mustSpecify(t.Name, "on-port")
	}
	return e, nil
}

func unspecified(f syntax.Family) netip.Addr {
	if f == syntax.IPv6 {
		return netip.IPv6Unspecified()
	}
	return netip.IPv4Unspecified()
}

func (e *tproxyTarget) Name() string { return "TPROXY" }
func (e *tproxyTarget) Revision() (string, uint8, bool, bool) {
	if e.rev0 {
		return "TPROXY", 0, true, true
	}
	return "TPROXY", 1, true, true
}

func (e *tproxyTarget) Exprs(Context) ([]expr.Any, error) {
	if e.rev0 {
		b := newBlob(tproxyV0Size)
		b.u32(0, e.mask)
		b.u32(4, e.mark)
		copy(b[8:12], e.addr.AsSlice())
		b.be16(12, e.port)
		return xtTarget("TPROXY", 0, b), nil
	}
	b := newBlob(tproxySize)
	b.u32(0, e.mask)
	b.u32(4, e.mark)
	copy(b[8:24], e.addr.AsSlice())
	b.be16(24, e.port)
	return xtTarget("TPROXY", 1, b), nil
}

func (e *tproxyTarget) Save(Context) string {
	return fmt.Sprintf("-j TPROXY --on-port %d --on-ip %s --tproxy-mark 0x%x/0x%x", e.port, ntop(e.addr), e.mark, e.mask)
}

// List prints "TPROXY redirect 10.0.0.1:12345 mark 0x23/0xff".
func (e *tproxyTarget) List(bool) string {
	return fmt.Sprintf(" TPROXY redirect %s:%d mark 0x%x/0x%x", ntop(e.addr), e.port, e.mark, e.mask)
}

func decodeTproxyBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev == 0 && ctx.Family == syntax.IPv4 {
		if err := checkSize("TPROXY", rev, data, tproxyV0Size); err != nil {
			return nil, err
		}
		b := blob(data)
		if !b.zero(tproxyV0Size, len(b)-tproxyV0Size) {
			return nil, decodeErr("xt target TPROXY: unknown data")
		}
		addr, _ := netip.AddrFromSlice(b[8:12])
		return &tproxyTarget{family: ctx.Family, mask: b.get32(0), mark: b.get32(4), addr: addr, port: b.getBE16(12), rev0: true}, nil
	}
	if rev != 1 {
		return nil, decodeErr("xt target TPROXY rev %d is not supported", rev)
	}
	if err := checkSize("TPROXY", rev, data, tproxySize); err != nil {
		return nil, err
	}
	b := blob(data)
	addr, ok := addrAt(ctx.Family, b[8:24])
	if !ok || !b.zero(tproxySize, len(b)-tproxySize) {
		return nil, decodeErr("xt target TPROXY: address has no iptables form")
	}
	return &tproxyTarget{family: ctx.Family, mask: b.get32(0), mark: b.get32(4), addr: addr, port: b.getBE16(24)}, nil
}
