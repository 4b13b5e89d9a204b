package xt

import (
	"fmt"
	"strconv"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// spiMatch is -m esp (struct xt_esp), -m ipcomp (struct xt_ipcomp), -m ah
// for IPv4 (struct ipt_ah) or -m ah for IPv6 (struct ip6t_ah, which adds
// the header length and the reserved-field test). The SPI range is
// inclusive; the full range 0:4294967295 is esp's and ah's default, which
// save leaves out, while libxt_ipcomp starts from 0:0.
type spiMatch struct {
	name     string // "esp", "ah" or "ipcomp"
	ip6      bool   // ip6t_ah's layout and options
	spis     [2]uint32
	invSPI   bool
	hdrlen   uint32
	invLen   bool
	hdrres   bool
	spiGiven bool
}

// Inverse flags of the three structs (XT_ESP_INV_SPI, IPT_AH_INV_SPI,
// IP6T_AH_INV_SPI, IP6T_AH_INV_LEN).
const (
	spiInvSPI = 0x01
	spiInvLen = 0x02
)

func parseSPIMatch(ctx Context, m syntax.Match) (Ext, error) {
	e := &spiMatch{name: m.Name, ip6: m.Name == "ah" && ctx.Family == syntax.IPv6, spis: [2]uint32{0, 0xffffffff}}
	if m.Name == "ipcomp" {
		e.spis[1] = 0
	}
	for _, o := range m.Options {
		switch {
		case o.Name == m.Name+"spi":
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
			e.spis, e.invSPI, e.spiGiven = r, o.Invert, true
		case e.ip6 && o.Name == "ahlen":
			v, err := oneArg(m.Name, o)
			if err != nil {
				return nil, err
			}
			n, tail, ok := strtoulPrefix(v)
			if !ok || tail != "" {
				return nil, badRange(m.Name, o.Name, 0, 0xffffffff)
			}
			e.hdrlen, e.invLen = n, o.Invert
		case e.ip6 && o.Name == "ahres":
			if err := noArg(m.Name, o); err != nil {
				return nil, err
			}
			e.hdrres = true
		case o.Name == "ahlen" || o.Name == "ahres":
			// libipt_ah has neither: getopt does not know them.
			return nil, paramErr("unknown option \"--%s\"", o.Name)
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
	}
	return e, nil
}

func (e *spiMatch) Name() string                          { return e.name }
func (e *spiMatch) Revision() (string, uint8, bool, bool) { return e.name, 0, false, true }

func (e *spiMatch) invflags() uint8 {
	var f uint8
	if e.invSPI {
		f |= spiInvSPI
	}
	if e.invLen {
		f |= spiInvLen
	}
	return f
}

func (e *spiMatch) Exprs(Context) ([]expr.Any, error) {
	if e.ip6 {
		b := newBlob(14)
		b.u32(0, e.spis[0])
		b.u32(4, e.spis[1])
		b.u32(8, e.hdrlen)
		if e.hdrres {
			b.u8(12, 1)
		}
		b.u8(13, e.invflags())
		return xtMatch(e.name, 0, b), nil
	}
	b := newBlob(10) // xt_esp and ipt_ah end at invflags, xt_ipcomp has hdrres (0)
	b.u32(0, e.spis[0])
	b.u32(4, e.spis[1])
	b.u8(8, e.invflags())
	return xtMatch(e.name, 0, b), nil
}

// fullSPIs reports the range that matches every SPI, which save leaves
// out (with its "!" if any, as libxt_esp and libipt_ah do).
func (e *spiMatch) fullSPIs() bool { return e.spis[0] == 0 && e.spis[1] == 0xffffffff }

func (e *spiMatch) Save(ctx Context) string {
	s := "-m " + e.name
	if !e.fullSPIs() || showsFullRange(ctx, e.invSPI) {
		s += " " + invertSave(e.invSPI) + "--" + e.name + "spi " + strconv.FormatUint(uint64(e.spis[0]), 10)
		if e.spis[0] != e.spis[1] {
			s += ":" + strconv.FormatUint(uint64(e.spis[1]), 10)
		}
	}
	if e.hdrlen != 0 || e.invLen {
		s += fmt.Sprintf(" %s--ahlen %d", invertSave(e.invLen), e.hdrlen)
	}
	if e.hdrres {
		s += " --ahres"
	}
	return s
}

// List prints "esp spis:!0:32", "comp spi:18", "ah spi:5",
// "ah spis:3:7length:5 reserved": libxt_esp and libxt_ipcomp put a space
// before the SPIs, libipt_ah and libip6t_ah one after "ah" whether SPIs
// follow or not.
func (e *spiMatch) List(bool) string {
	spis := ""
	if !e.fullSPIs() || e.invSPI {
		inv := ""
		if e.invSPI {
			inv = "!"
		}
		if e.spis[0] == e.spis[1] {
			spis = fmt.Sprintf("spi:%s%d", inv, e.spis[0])
		} else {
			spis = fmt.Sprintf("spis:%s%d:%d", inv, e.spis[0], e.spis[1])
		}
	}
	switch e.name {
	case "esp", "ipcomp":
		if spis != "" {
			spis = " " + spis
		}
		return " " + map[string]string{"esp": "esp", "ipcomp": "comp"}[e.name] + spis
	}
	s := " ah " + spis
	if e.ip6 {
		if e.hdrlen != 0 || e.invLen {
			inv := ""
			if e.invLen {
				inv = "!"
			}
			s += fmt.Sprintf("length:%s%d", inv, e.hdrlen)
		}
		if e.hdrres {
			s += " reserved"
		}
	}
	return s
}

func decodeSPIBlob(name string) blobDecoder {
	return func(ctx Context, rev uint32, data []byte) (Ext, error) {
		if rev != 0 {
			return nil, decodeErr("xt match %s rev %d is not supported", name, rev)
		}
		ip6 := name == "ah" && ctx.Family == syntax.IPv6
		// xt_ipcomp's hdrres (byte 9) is never set by libxt_ipcomp 1.8.9,
		// which has no --ipcompres: the padding check refuses it.
		size, flagsAt, mask := 9, 8, uint8(spiInvSPI)
		if ip6 {
			size, flagsAt, mask = 14, 13, spiInvSPI|spiInvLen
		}
		if err := checkSize(name, rev, data, size); err != nil {
			return nil, err
		}
		b := blob(data)
		flags := b.get8(flagsAt)
		if flags&^mask != 0 || !b.zero(size, len(b)-size) {
			return nil, decodeErr("xt match %s: unknown flags 0x%x", name, flags)
		}
		e := &spiMatch{name: name, ip6: ip6, spis: [2]uint32{b.get32(0), b.get32(4)},
			invSPI: flags&spiInvSPI != 0, invLen: flags&spiInvLen != 0}
		if ip6 {
			if b.get8(12) > 1 {
				return nil, decodeErr("xt match ah: reserved-field test %d", b.get8(12))
			}
			e.hdrlen, e.hdrres = b.get32(8), b.get8(12) == 1
		}
		return e, nil
	}
}
