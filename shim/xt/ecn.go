package xt

import (
	"fmt"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// ECN bits of struct xt_ecn_info's operation and invert (XT_ECN_OP_MATCH_*)
// and of struct ipt_ECN_info's operation (IPT_ECN_OP_SET_*).
const (
	ecnIP  = 0x01
	ecnECE = 0x10
	ecnCWR = 0x20
)

// ecnMatch is -m ecn (struct xt_ecn_info): the TCP ECE and CWR flags and
// the IP header's ECT codepoint.
type ecnMatch struct {
	op, invert, ect uint8
}

func parseECNMatch(ctx Context, m syntax.Match) (Ext, error) {
	e := &ecnMatch{}
	for _, o := range m.Options {
		var bit uint8
		switch o.Name {
		case "ecn-tcp-cwr", "ecn-tcp-ece":
			if err := noArg(m.Name, o); err != nil {
				return nil, err
			}
			bit = map[string]uint8{"ecn-tcp-cwr": ecnCWR, "ecn-tcp-ece": ecnECE}[o.Name]
		case "ecn-ip-ect":
			v, err := oneArg(m.Name, o)
			if err != nil {
				return nil, err
			}
			n, tail, ok := strtoulPrefix(v)
			if !ok || tail != "" || n > 3 {
				return nil, badRange(m.Name, o.Name, 0, 3)
			}
			bit, e.ect = ecnIP, uint8(n)
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
		e.op |= bit
		if o.Invert {
			e.invert |= bit
		}
	}
	if e.op == 0 {
		return nil, paramErr("ECN match: some option required")
	}
	return e, nil
}

func (e *ecnMatch) Name() string                          { return "ecn" }
func (e *ecnMatch) Revision() (string, uint8, bool, bool) { return "ecn", 0, false, true }
func (e *ecnMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(4)
	b.u8(0, e.op)
	b.u8(1, e.invert)
	b.u8(2, e.ect)
	return xtMatch("ecn", 0, b), nil
}

// Save prints ECE, CWR, then the ECT codepoint, whatever the order given.
func (e *ecnMatch) Save(Context) string {
	var b strings.Builder
	b.WriteString("-m ecn")
	for _, f := range []struct {
		bit uint8
		opt string
	}{{ecnECE, "ecn-tcp-ece"}, {ecnCWR, "ecn-tcp-cwr"}, {ecnIP, "ecn-ip-ect"}} {
		if e.op&f.bit == 0 {
			continue
		}
		b.WriteString(" " + invertSave(e.invert&f.bit != 0) + "--" + f.opt)
		if f.bit == ecnIP {
			fmt.Fprintf(&b, " %d", e.ect)
		}
	}
	return b.String()
}

// List prints "ECN match ECE !CWR ECT=2".
func (e *ecnMatch) List(bool) string {
	var b strings.Builder
	b.WriteString(" ECN match")
	for _, f := range []struct {
		bit  uint8
		name string
	}{{ecnECE, "ECE"}, {ecnCWR, "CWR"}, {ecnIP, "ECT="}} {
		if e.op&f.bit == 0 {
			continue
		}
		b.WriteString(" ")
		if e.invert&f.bit != 0 {
			b.WriteString("!")
		}
		b.WriteString(f.name)
		if f.bit == ecnIP {
			fmt.Fprintf(&b, "%d", e.ect)
		}
	}
	return b.String()
}

func decodeECNMatchBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match ecn rev %d is not supported", rev)
	}
	if err := checkSize("ecn", rev, data, 4); err != nil {
		return nil, err
	}
	b := blob(data)
	const all = ecnIP | ecnECE | ecnCWR
	e := &ecnMatch{op: b.get8(0), invert: b.get8(1), ect: b.get8(2)}
	if e.op&^all != 0 || e.invert&^e.op != 0 || e.ect > 3 || (e.op&ecnIP == 0 && e.ect != 0) || !b.zero(3, len(b)-3) {
		return nil, decodeErr("xt match ecn: operation 0x%x invert 0x%x ect %d", e.op, e.invert, e.ect)
	}
	return e, nil
}

// ecnTarget is -j ECN (struct ipt_ECN_info, IPv4 only): sets the TCP ECE
// and CWR flags (bit fields ece:1, cwr:1 of one byte) and the ECT
// codepoint.
type ecnTarget struct {
	op, ect  uint8
	ece, cwr bool
}

func parseECNTarget(ctx Context, t syntax.Target) (Ext, error) {
	e := &ecnTarget{}
	// --ecn-tcp-remove excludes --ecn-tcp-cwr and --ecn-tcp-ece; xtopt
	// names them in libipt_ECN's option table order, remove first.
	removed, tcpBits := false, ""
	for _, o := range t.Options {
		switch {
		case o.Name == "ecn-tcp-remove" && tcpBits != "":
			return nil, notTogether(t.Name, o.Name, tcpBits)
		case (o.Name == "ecn-tcp-cwr" || o.Name == "ecn-tcp-ece") && removed:
			return nil, notTogether(t.Name, "ecn-tcp-remove", o.Name)
		case o.Name == "ecn-tcp-cwr" || o.Name == "ecn-tcp-ece" && tcpBits == "":
			// cwr comes before ece in the table.
			tcpBits = o.Name
		}
		switch o.Name {
		case "ecn-tcp-remove":
			if err := noArg(t.Name, o); err != nil {
				return nil, err
			}
			e.op |= ecnECE | ecnCWR
			e.ece, e.cwr, removed = false, false, true
		case "ecn-tcp-cwr", "ecn-tcp-ece":
			v, err := oneArg(t.Name, o)
			if err != nil {
				return nil, err
			}
			n, tail, ok := strtoulPrefix(v)
			if !ok || tail != "" || n > 1 {
				return nil, badRange(t.Name, o.Name, 0, 1)
			}
			if o.Name == "ecn-tcp-cwr" {
				e.op |= ecnCWR
				e.cwr = n == 1
			} else {
				e.op |= ecnECE
				e.ece = n == 1
			}
		case "ecn-ip-ect":
			v, err := oneArg(t.Name, o)
			if err != nil {
				return nil, err
			}
			n, tail, ok := strtoulPrefix(v)
			if !ok || tail != "" || n > 3 {
				return nil, badRange(t.Name, o.Name, 0, 3)
			}
			e.op |= ecnIP
			e.ect = uint8(n)
		default:
			return nil, unsupportedOption(t.Name, o.Name)
		}
	}
	if e.op == 0 {
		return nil, paramErr("ECN target: An operation is required")
	}
	return e, nil
}

func (e *ecnTarget) Name() string                          { return "ECN" }
func (e *ecnTarget) Revision() (string, uint8, bool, bool) { return "ECN", 0, true, true }
func (e *ecnTarget) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(3)
	b.u8(0, e.op)
	b.u8(1, e.ect)
	var bits uint8
	if e.ece {
		bits |= 1
	}
	if e.cwr {
		bits |= 2
	}
	b.u8(2, bits)
	return xtTarget("ECN", 0, b), nil
}

// removes reports the pair libipt_ECN prints as --ecn-tcp-remove.
func (e *ecnTarget) removes() bool {
	return e.op == ecnECE|ecnCWR && !e.ece && !e.cwr
}

func (e *ecnTarget) options(ece, cwr, ect string) string {
	s := ""
	if e.op&ecnECE != 0 {
		s += fmt.Sprintf(ece, b2i(e.ece))
	}
	if e.op&ecnCWR != 0 {
		s += fmt.Sprintf(cwr, b2i(e.cwr))
	}
	if e.op&ecnIP != 0 {
		s += fmt.Sprintf(ect, e.ect)
	}
	return s
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (e *ecnTarget) Save(Context) string {
	if e.removes() {
		return "-j ECN --ecn-tcp-remove"
	}
	return "-j ECN" + e.options(" --ecn-tcp-ece %d", " --ecn-tcp-cwr %d", " --ecn-ip-ect %d")
}

// List prints "ECN TCP remove" or "ECN ECE=0 CWR=1 ECT codepoint=3".
func (e *ecnTarget) List(bool) string {
	if e.removes() {
		return " ECN TCP remove"
	}
	return " ECN" + e.options(" ECE=%d", " CWR=%d", " ECT codepoint=%d")
}

func decodeECNTargetBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt target ECN rev %d is not supported", rev)
	}
	if err := checkSize("ECN", rev, data, 3); err != nil {
		return nil, err
	}
	b := blob(data)
	op, ect, bits := b.get8(0), b.get8(1), b.get8(2)
	if op&^(ecnIP|ecnECE|ecnCWR) != 0 || ect > 3 || bits > 3 || !b.zero(3, len(b)-3) {
		return nil, decodeErr("xt target ECN: operation 0x%x ect %d bits 0x%x", op, ect, bits)
	}
	e := &ecnTarget{op: op, ect: ect, ece: bits&1 != 0, cwr: bits&2 != 0}
	// What save and -L cannot show does not round-trip: refuse it.
	if op&ecnIP == 0 && ect != 0 || op&ecnECE == 0 && e.ece || op&ecnCWR == 0 && e.cwr {
		return nil, decodeErr("xt target ECN: values without their operation")
	}
	return e, nil
}
