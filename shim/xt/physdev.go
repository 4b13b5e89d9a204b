package xt

import (
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// xt_physdev bitmask/invert bits.
const (
	physIn      = 0x01
	physOut     = 0x02
	physBridged = 0x04
	physIsIn    = 0x08
	physIsOut   = 0x10
)

const ifNameSize = 16

// physdev is -m physdev (struct xt_physdev_info, rev 0).
type physdev struct {
	in, out         string
	bitmask, invert uint8
}

// ifaceMask is the mask libxtables' xtables_parse_interface builds: the
// name's bytes and its NUL, or only the prefix before a trailing '+'.
func ifaceMask(name string) []byte {
	n := len(name) + 1
	if strings.HasSuffix(name, "+") {
		n = len(name) - 1
	}
	m := make([]byte, ifNameSize)
	for i := 0; i < n && i < ifNameSize; i++ {
		m[i] = 0xff
	}
	return m
}

func parsePhysdev(ctx Context, m syntax.Match) (Ext, error) {
	e := &physdev{}
	for _, o := range m.Options {
		var bit uint8
		switch o.Name {
		case "physdev-in", "physdev-out":
			v, err := oneArg(m.Name, o)
			if err != nil {
				return nil, err
			}
			if len(v) >= ifNameSize {
				return nil, paramErr("interface name `%s' must be shorter than IFNAMSIZ (%d)", v, ifNameSize-1)
			}
			if o.Name == "physdev-in" {
				e.in, bit = v, physIn
			} else {
				e.out, bit = v, physOut
			}
		case "physdev-is-in", "physdev-is-out", "physdev-is-bridged":
			if err := noArg(m.Name, o); err != nil {
				return nil, err
			}
			bit = map[string]uint8{"physdev-is-in": physIsIn, "physdev-is-out": physIsOut, "physdev-is-bridged": physBridged}[o.Name]
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
		e.bitmask |= bit
		if o.Invert {
			e.invert |= bit
		}
	}
	if e.bitmask == 0 {
		return nil, paramErr("PHYSDEV: no physdev option specified")
	}
	return e, nil
}

func (e *physdev) Name() string                          { return "physdev" }
func (e *physdev) Revision() (string, uint8, bool, bool) { return "physdev", 0, false, true }

func (e *physdev) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(66)
	if e.bitmask&physIn != 0 {
		b.str(0, ifNameSize, e.in)
		copy(b[16:32], ifaceMask(e.in))
	}
	if e.bitmask&physOut != 0 {
		b.str(32, ifNameSize, e.out)
		copy(b[48:64], ifaceMask(e.out))
	}
	b.u8(64, e.invert)
	b.u8(65, e.bitmask)
	return []expr.Any{&expr.Match{Name: "physdev", Info: rawInfo(b)}}, nil
}

func (e *physdev) Save(Context) string {
	var b strings.Builder
	b.WriteString("-m physdev")
	inv := func(bit uint8) bool { return e.invert&bit != 0 }
	if e.bitmask&physIsIn != 0 {
		writeOpt(&b, inv(physIsIn), "--physdev-is-in", "")
	}
	if e.bitmask&physIn != 0 {
		writeOpt(&b, inv(physIn), "--physdev-in", e.in)
	}
	if e.bitmask&physIsOut != 0 {
		writeOpt(&b, inv(physIsOut), "--physdev-is-out", "")
	}
	if e.bitmask&physOut != 0 {
		writeOpt(&b, inv(physOut), "--physdev-out", e.out)
	}
	if e.bitmask&physBridged != 0 {
		writeOpt(&b, inv(physBridged), "--physdev-is-bridged", "")
	}
	return b.String()
}

func decodePhysdevBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match physdev rev %d is not supported", rev)
	}
	if err := checkSize("physdev", rev, data, 66); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &physdev{invert: b.get8(64), bitmask: b.get8(65)}
	if e.bitmask&^0x1f != 0 || e.invert&^e.bitmask != 0 || !b.zero(66, len(b)-66) {
		return nil, decodeErr("xt match physdev: unknown flags")
	}
	var ok bool
	for _, f := range []struct {
		bit  uint8
		off  int
		name *string
	}{{physIn, 0, &e.in}, {physOut, 32, &e.out}} {
		if e.bitmask&f.bit == 0 {
			if !b.zero(f.off, 32) {
				return nil, decodeErr("xt match physdev: interface without its flag")
			}
			continue
		}
		if *f.name, ok = b.getStr(f.off, ifNameSize); !ok {
			return nil, decodeErr("xt match physdev: interface name is not terminated")
		}
		// A mask other than libxt's would match differently from what the
		// name prints as.
		if string(b[f.off+16:f.off+32]) != string(ifaceMask(*f.name)) || !b.zero(f.off+len(*f.name), ifNameSize-len(*f.name)) {
			return nil, decodeErr("xt match physdev: unexpected interface mask")
		}
	}
	return e, nil
}
