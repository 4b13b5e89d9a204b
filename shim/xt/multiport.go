package xt

import (
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// multiport directions (enum xt_multiport_flags) and their save options.
var multiportOpts = []string{"--sports", "--dports", "--ports"}

const multiportMax = 15 // XT_MULTI_PORTS

// multiport is -m multiport (struct xt_multiport_v1, rev 1): up to 15
// port slots, a range taking two with pflags marking its start.
type multiport struct {
	flags  uint8
	ports  []uint16
	pflags []uint8
	invert bool
}

func parseMultiport(ctx Context, m syntax.Match) (Ext, error) {
	p, given := protoNum(ctx.Protocol.Value)
	switch {
	case ctx.Protocol.Set && ctx.Protocol.Invert:
		return nil, paramErr("multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP")
	case !ctx.Protocol.Set || !given:
		return nil, paramErr("multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'")
	case p != protoTCP && p != protoUDP && p != protoSCTP && p != 33 && p != 136:
		return nil, paramErr("multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP")
	}
	proto := saveProtoName(p)
	var e *multiport
	prev := ""
	for _, o := range m.Options {
		var dir uint8
		switch o.Name {
		case "sports", "source-ports":
			dir = 0
		case "dports", "destination-ports":
			dir = 1
		case "ports":
			dir = 2
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
		// libxt_multiport names them by their long names.
		long := []string{"source-ports", "destination-ports", "ports"}[dir]
		if e != nil {
			return nil, tableExclusive(m.Name, false, prev, long)
		}
		prev = long
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		e = &multiport{flags: dir, invert: o.Invert}
		for _, item := range strings.Split(v, ",") {
			lo, hi, isRange := strings.Cut(item, ":")
			a, err := parsePort(lo, proto)
			if err != nil {
				return nil, err
			}
			e.ports = append(e.ports, a)
			if !isRange {
				e.pflags = append(e.pflags, 0)
				continue
			}
			b, err := parsePort(hi, proto)
			if err != nil {
				return nil, err
			}
			if a >= b {
				return nil, paramErr("invalid portrange specified")
			}
			e.ports = append(e.ports, b)
			e.pflags = append(e.pflags, 1, 0)
		}
		if len(e.ports) > multiportMax {
			return nil, paramErr("too many ports specified")
		}
	}
	if e == nil {
		return nil, paramErr("multiport expects an option")
	}
	return e, nil
}

// saveProtoName is the protocol name used to look up service names.
func saveProtoName(p uint8) string {
	for name, n := range protoNames() {
		if n == p && name != "ipv6-icmp" {
			return name
		}
	}
	return ""
}

func (e *multiport) Name() string                          { return "multiport" }
func (e *multiport) Revision() (string, uint8, bool, bool) { return "multiport", 1, false, true }

func (e *multiport) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(48)
	b.u8(0, e.flags)
	b.u8(1, uint8(len(e.ports)))
	for i, p := range e.ports {
		b.u16(2+2*i, p)
		b.u8(32+i, e.pflags[i])
	}
	if e.invert {
		b.u8(47, 1)
	}
	return []expr.Any{&expr.Match{Name: "multiport", Rev: 1, Info: rawInfo(b)}}, nil
}

func (e *multiport) Save(Context) string {
	var items []string
	for i := 0; i < len(e.ports); i++ {
		s := portRange{e.ports[i], e.ports[i]}.String()
		if e.pflags[i] != 0 && i+1 < len(e.ports) {
			s += ":" + portRange{e.ports[i+1], e.ports[i+1]}.String()
			i++
		}
		items = append(items, s)
	}
	var b strings.Builder
	b.WriteString("-m multiport")
	writeOpt(&b, e.invert, multiportOpts[e.flags], strings.Join(items, ","))
	return b.String()
}

func decodeMultiportBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 1 {
		return nil, decodeErr("xt match multiport rev %d is not supported", rev)
	}
	if err := checkSize("multiport", rev, data, 48); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &multiport{flags: b.get8(0), invert: b.get8(47) != 0}
	n := int(b.get8(1))
	if e.flags > 2 || n == 0 || n > multiportMax || b.get8(47) > 1 {
		return nil, decodeErr("xt match multiport: bad flags or count")
	}
	for i := 0; i < multiportMax; i++ {
		if i >= n {
			if b.get16(2+2*i) != 0 || b.get8(32+i) != 0 {
				return nil, decodeErr("xt match multiport: data past the port count")
			}
			continue
		}
		pf := b.get8(32 + i)
		if pf > 1 || (pf == 1 && (i+1 >= n || b.get8(32+i+1) != 0 || b.get16(2+2*i) >= b.get16(2+2*i+2))) {
			return nil, decodeErr("xt match multiport: bad range flags")
		}
		e.ports = append(e.ports, b.get16(2+2*i))
		e.pflags = append(e.pflags, pf)
	}
	return e, nil
}
