package xt

import (
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// xt_addrtype_info_v1 flags.
const (
	addrInvSrc   = 0x1
	addrInvDst   = 0x2
	addrIfaceIn  = 0x4
	addrIfaceOut = 0x8
)

// addrTypeNames are the route types in bit order (1 << RTN_*), as
// libxt_addrtype names and prints them.
var addrTypeNames = []string{"UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST",
	"BLACKHOLE", "UNREACHABLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE"}

// addrType is -m addrtype (struct xt_addrtype_info_v1, rev 1).
type addrType struct {
	src, dst uint16
	flags    uint32
}

func parseAddrTypes(s string) (uint16, error) {
	var v uint16
	for _, n := range strings.Split(s, ",") {
		found := false
		for i, name := range addrTypeNames {
			if strings.EqualFold(n, name) {
				v |= 1 << i
				found = true
			}
		}
		if !found {
			return 0, paramErr("addrtype: bad type \"%s\"", n)
		}
	}
	return v, nil
}

func parseAddrType(ctx Context, m syntax.Match) (Ext, error) {
	e := &addrType{}
	for _, o := range m.Options {
		var err error
		switch o.Name {
		case "src-type", "dst-type":
			var v string
			if v, err = oneArg(m.Name, o); err != nil {
				return nil, err
			}
			t, err := parseAddrTypes(v)
			if err != nil {
				return nil, err
			}
			if o.Name == "src-type" {
				e.src = t
				if o.Invert {
					e.flags |= addrInvSrc
				}
			} else {
				e.dst = t
				if o.Invert {
					e.flags |= addrInvDst
				}
			}
		case "limit-iface-in", "limit-iface-out":
			if err = noArg(m.Name, o); err != nil {
				return nil, err
			}
			if err = noInvert(m.Name, o); err != nil {
				return nil, err
			}
			if o.Name == "limit-iface-in" {
				e.flags |= addrIfaceIn
			} else {
				e.flags |= addrIfaceOut
			}
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
	}
	if e.src == 0 && e.dst == 0 {
		return nil, paramErr("addrtype: you must specify --src-type or --dst-type")
	}
	if e.flags&addrIfaceIn != 0 && e.flags&addrIfaceOut != 0 {
		return nil, notTogether(m.Name, "limit-iface-in", "limit-iface-out")
	}
	return e, nil
}

func (e *addrType) Name() string                          { return "addrtype" }
func (e *addrType) Revision() (string, uint8, bool, bool) { return "addrtype", 1, false, true }

func (e *addrType) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(8)
	b.u16(0, e.src)
	b.u16(2, e.dst)
	b.u32(4, e.flags)
	return []expr.Any{&expr.Match{Name: "addrtype", Rev: 1, Info: rawInfo(b)}}, nil
}

func addrTypesString(v uint16) string {
	var names []string
	for i, n := range addrTypeNames {
		if v&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return strings.Join(names, ",")
}

func (e *addrType) Save(Context) string {
	var b strings.Builder
	b.WriteString("-m addrtype")
	if e.src != 0 {
		writeOpt(&b, e.flags&addrInvSrc != 0, "--src-type", addrTypesString(e.src))
	}
	if e.dst != 0 {
		writeOpt(&b, e.flags&addrInvDst != 0, "--dst-type", addrTypesString(e.dst))
	}
	if e.flags&addrIfaceIn != 0 {
		b.WriteString(" --limit-iface-in")
	}
	if e.flags&addrIfaceOut != 0 {
		b.WriteString(" --limit-iface-out")
	}
	return b.String()
}

func decodeAddrTypeBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 1 {
		return nil, decodeErr("xt match addrtype rev %d is not supported", rev)
	}
	if err := checkSize("addrtype", rev, data, 8); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &addrType{src: b.get16(0), dst: b.get16(2), flags: b.get32(4)}
	if e.flags&^0xf != 0 || (e.src|e.dst)>>len(addrTypeNames) != 0 {
		return nil, decodeErr("xt match addrtype: unknown flags or types")
	}
	return e, nil
}
