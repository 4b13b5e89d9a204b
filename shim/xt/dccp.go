package xt

import (
	"strconv"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// struct xt_dccp_info: dpts[2] u16, spts[2] u16, flags u16, invflags
// u16, typemask u16, option u8 (15 bytes, padded to 16).
const (
	dccpSrcPorts = 0x01
	dccpDstPorts = 0x02
	dccpType     = 0x04
	dccpOption   = 0x08
	dccpInfoSize = 15
	// dccpInvalid is DCCP_PKT_INVALID's bit; libxt_dccp adds the bits
	// of the reserved types 11-15 (dccpReserved) whenever it is given.
	dccpInvalid  = 1 << 10
	dccpReserved = 0xf800
)

// dccpTypes are DCCP's packet types in type order (libxt_dccp's names).
var dccpTypes = [...]string{"REQUEST", "RESPONSE", "DATA", "ACK", "DATAACK", "CLOSEREQ", "CLOSE", "RESET", "SYNC", "SYNCACK", "INVALID"}

// dccp is -m dccp (always the xt match in 1.8.9).
type dccp struct {
	spts, dpts      portRange
	flags, invflags uint16
	typemask        uint16
	option          uint8
}

func parseDCCP(ctx Context, m syntax.Match) (Ext, error) {
	// libxt_dccp does not check -p; the kernel refuses the rule.
	e := &dccp{}
	for _, o := range m.Options {
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		var bit uint16
		switch o.Name {
		case "source-port", "sport", "destination-port", "dport":
			src := o.Name == "source-port" || o.Name == "sport"
			long := "destination-port"
			if src {
				long = "source-port"
			}
			r, err := parsePortRC(m.Name, long, v)
			if err != nil {
				return nil, err
			}
			if src {
				e.spts, bit = r, dccpSrcPorts
			} else {
				e.dpts, bit = r, dccpDstPorts
			}
		case "dccp-types":
			if e.typemask, err = parseDCCPTypes(v); err != nil {
				return nil, err
			}
			bit = dccpType
		case "dccp-option":
			n, ok := cNumber(v, 0xff)
			if !ok || n < 1 {
				return nil, badRange(m.Name, o.Name, 1, 0xff)
			}
			e.option, bit = uint8(n), dccpOption
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
		e.flags |= bit
		if o.Invert {
			e.invflags |= bit
		}
	}
	return e, nil
}

// parsePortRC reads a port range as libxtables' XTTYPE_PORTRC does: up to
// two ':'-separated ports, an empty first one 0 and an empty second one
// 65535, no check that the first is not above the second.
func parsePortRC(ext, opt, arg string) (portRange, error) {
	r := fullPorts
	parts := strings.Split(arg, ":")
	if len(parts) > 2 {
		return r, paramErr("%s: Too many components for option \"--%s\" (max: 2)\n", ext, opt)
	}
	for i, p := range parts {
		if p == "" {
			continue
		}
		v, err := anyProtoPort(p)
		if err != nil {
			return r, err
		}
		if i == 0 {
			r.Min = v
		} else {
			r.Max = v
		}
	}
	if len(parts) == 1 {
		r.Max = r.Min
	}
	return r, nil
}

// parseDCCPTypes is libxt_dccp's parse_dccp_types.
func parseDCCPTypes(s string) (uint16, error) {
	var mask uint16
	for _, t := range strings.Split(cutNUL(s), ",") {
		if t == "" {
			continue // strtok skips empty fields
		}
		i := 0
		for i < len(dccpTypes) && !strings.EqualFold(dccpTypes[i], t) {
			i++
		}
		if i == len(dccpTypes) {
			return 0, paramErr("Unknown DCCP type `%s'", t)
		}
		mask |= 1 << i
	}
	if mask&dccpInvalid != 0 {
		mask |= dccpReserved
	}
	return mask, nil
}

func (e *dccp) Name() string                          { return "dccp" }
func (e *dccp) Revision() (string, uint8, bool, bool) { return "dccp", 0, false, true }

func (e *dccp) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(dccpInfoSize)
	b.u16(0, e.dpts.Min)
	b.u16(2, e.dpts.Max)
	b.u16(4, e.spts.Min)
	b.u16(6, e.spts.Max)
	b.u16(8, e.flags)
	b.u16(10, e.invflags)
	b.u16(12, e.typemask)
	b.u8(14, e.option)
	return xtMatch("dccp", 0, b), nil
}

// dccpTypeNames is print_types for save and -L without -n: the names of
// the set bits in type order, up to INVALID.
func dccpTypeNames(mask uint16) string {
	var out []string
	for i := 0; i < 16; i++ {
		if mask&(1<<i) == 0 {
			continue
		}
		out = append(out, dccpTypes[i])
		if i == 10 {
			break
		}
	}
	return strings.Join(out, ",")
}

func (e *dccp) Save(Context) string {
	var b strings.Builder
	b.WriteString("-m dccp")
	if e.flags&dccpSrcPorts != 0 {
		writeOpt(&b, e.invflags&dccpSrcPorts != 0, "--sport", e.spts.String())
	}
	if e.flags&dccpDstPorts != 0 {
		writeOpt(&b, e.invflags&dccpDstPorts != 0, "--dport", e.dpts.String())
	}
	if e.flags&dccpType != 0 {
		writeOpt(&b, e.invflags&dccpType != 0, "--dccp-types", "")
		// libxt_dccp prints the space before the list even when it is
		// empty.
		b.WriteString(" " + dccpTypeNames(e.typemask))
	}
	if e.flags&dccpOption != 0 {
		writeOpt(&b, e.invflags&dccpOption != 0, "--dccp-option", strconv.Itoa(int(e.option)))
	}
	return b.String()
}

// DCCPTypesListing is what iptables -L prints for a dccp match's
// "--dccp-types LIST" (its save form's list), with its leading space: the
// names, or with numeric the type numbers, the reserved types 11-15 after
// INVALID.
func DCCPTypesListing(list string, inv, numeric bool) string {
	s := ""
	if inv {
		s = " !"
	}
	if !numeric {
		return s + " " + list
	}
	var nums []string
	for _, name := range strings.Split(list, ",") {
		for i, t := range dccpTypes {
			if t == name {
				nums = append(nums, strconv.Itoa(i))
				if i == 10 {
					nums = append(nums, "11", "12", "13", "14", "15")
				}
			}
		}
	}
	return s + " " + strings.Join(nums, ",")
}

func decodeDCCPBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match dccp rev %d is not supported", rev)
	}
	if err := checkSize("dccp", rev, data, dccpInfoSize); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &dccp{
		dpts: portRange{b.get16(0), b.get16(2)}, spts: portRange{b.get16(4), b.get16(6)},
		flags: b.get16(8), invflags: b.get16(10), typemask: b.get16(12), option: b.get8(14),
	}
	const all = dccpSrcPorts | dccpDstPorts | dccpType | dccpOption
	// What save does not show must be as libxt_dccp leaves it; the
	// reserved types go with INVALID, which is how save and -L -n can
	// both be told from the save form.
	if e.flags&^all != 0 || e.invflags&^e.flags != 0 || !b.zero(15, len(b)-15) ||
		(e.flags&dccpSrcPorts == 0 && e.spts != portRange{}) || (e.flags&dccpDstPorts == 0 && e.dpts != portRange{}) ||
		e.flags&dccpType == 0 && e.typemask != 0 || e.flags&dccpOption == 0 && e.option != 0 ||
		(e.typemask&dccpInvalid == 0) != (e.typemask&dccpReserved == 0) ||
		e.typemask&dccpInvalid != 0 && e.typemask&dccpReserved != dccpReserved {
		return nil, decodeErr("xt match dccp: flags %#x invflags %#x types %#x", e.flags, e.invflags, e.typemask)
	}
	return e, nil
}
