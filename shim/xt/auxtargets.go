package xt

import (
	"fmt"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// This file holds AUDIT, IDLETIMER and SYNPROXY: small fixed-layout
// targets of both families.

// auditTypes are xt_AUDIT's types by number.
var auditTypes = []string{"accept", "drop", "reject"}

// auditTarget is -j AUDIT --type T (struct xt_audit_info, rev 0).
type auditTarget struct{ typ uint8 }

func parseAudit(ctx Context, t syntax.Target) (Ext, error) {
	var e *auditTarget
	once := onceOnly{}
	for _, o := range t.Options {
		if err := once.use(t.Name, o.Name); err != nil {
			return nil, err
		}
		if o.Name != "type" {
			return nil, unsupportedOption(t.Name, o.Name)
		}
		v, err := oneArg(t.Name, o)
		if err != nil {
			return nil, err
		}
		v = cutNUL(v)
		e = nil
		for i, name := range auditTypes {
			if strings.EqualFold(v, name) {
				e = &auditTarget{typ: uint8(i)}
			}
		}
		if e == nil {
			return nil, paramErr("Bad action type value \"%s\"", v)
		}
	}
	if e == nil {
		return nil, mustSpecify(t.Name, "type")
	}
	return e, nil
}

func (e *auditTarget) Name() string                          { return "AUDIT" }
func (e *auditTarget) Revision() (string, uint8, bool, bool) { return "AUDIT", 0, true, true }
func (e *auditTarget) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(1)
	b.u8(0, e.typ)
	return xtTarget("AUDIT", 0, b), nil
}
func (e *auditTarget) Save(Context) string { return "-j AUDIT --type " + auditTypes[e.typ] }

// List prints "AUDIT accept".
func (e *auditTarget) List(bool) string { return " AUDIT " + auditTypes[e.typ] }

func decodeAuditBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt target AUDIT rev %d is not supported", rev)
	}
	if err := checkSize("AUDIT", rev, data, 1); err != nil {
		return nil, err
	}
	b := blob(data)
	if int(b.get8(0)) >= len(auditTypes) || !b.zero(1, len(b)-1) {
		return nil, decodeErr("xt target AUDIT: type %d has no iptables form", b.get8(0))
	}
	return &auditTarget{typ: b.get8(0)}, nil
}

// IDLETIMER rev 1 (struct idletimer_tg_info_v1): the kernel keeps a
// pointer after the user part and zeroes it in dumps.
const (
	idletimerLabelSize = 28
	idletimerUserSize  = 34
	idletimerSize      = 48
	idletimerAlarm     = 1
	// Revision 0: the label, then the kernel's pointer at 32.
	idletimerV0UserSize = 32
	idletimerV0Size     = 40
)

// idletimer is -j IDLETIMER --timeout N --label L [--alarm]. iptables
// before 1.8.5 wrote revision 0 (struct idletimer_tg_info: no timer
// type); one read back is written back as it was.
type idletimer struct {
	timeout   uint32
	label     string
	timerType uint8
	rev0      bool
}

func parseIdletimer(ctx Context, t syntax.Target) (Ext, error) {
	e := &idletimer{}
	var haveTimeout, haveLabel bool
	once := onceOnly{}
	for _, o := range t.Options {
		if err := once.use(t.Name, o.Name); err != nil {
			return nil, err
		}
		switch o.Name {
		case "timeout":
			v, err := oneArg(t.Name, o)
			if err != nil {
				return nil, err
			}
			n, err := parseXTUint(t.Name, o.Name, cutNUL(v), 0, 0xffffffff)
			if err != nil {
				return nil, err
			}
			e.timeout, haveTimeout = uint32(n), true
		case "label":
			v, err := oneArg(t.Name, o)
			if err != nil {
				return nil, err
			}
			e.label, haveLabel = xtString(v, idletimerLabelSize), true
		case "alarm":
			e.timerType = idletimerAlarm
		default:
			return nil, unsupportedOption(t.Name, o.Name)
		}
	}
	if !haveTimeout {
		return nil, mustSpecify(t.Name, "timeout")
	}
	if !haveLabel {
		return nil, mustSpecify(t.Name, "label")
	}
	return e, nil
}

func (e *idletimer) Name() string { return "IDLETIMER" }
func (e *idletimer) Revision() (string, uint8, bool, bool) {
	if e.rev0 {
		return "IDLETIMER", 0, true, true
	}
	return "IDLETIMER", 1, true, true
}

func (e *idletimer) Exprs(Context) ([]expr.Any, error) {
	if e.rev0 {
		b := newBlob(idletimerV0Size)
		b.u32(0, e.timeout)
		b.str(4, idletimerLabelSize, e.label)
		return xtTarget("IDLETIMER", 0, b), nil
	}
	b := newBlob(idletimerSize)
	b.u32(0, e.timeout)
	b.str(4, idletimerLabelSize, e.label)
	b.u8(33, e.timerType)
	return xtTarget("IDLETIMER", 1, b), nil
}

func (e *idletimer) Save(Context) string {
	s := fmt.Sprintf("-j IDLETIMER --timeout %d --label %s", e.timeout, e.label)
	if e.timerType == idletimerAlarm {
		s += " --alarm"
	}
	return s
}

// List prints "timeout:42 label:foo alarm".
func (e *idletimer) List(bool) string {
	s := fmt.Sprintf(" timeout:%d label:%s", e.timeout, e.label)
	if e.timerType == idletimerAlarm {
		s += " alarm"
	}
	return s
}

func decodeIdletimerBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev == 0 {
		if err := checkSize("IDLETIMER", rev, data, idletimerV0Size); err != nil {
			return nil, err
		}
		b := blob(data)
		label, ok := b.getStr(4, idletimerLabelSize)
		if !ok || !b.zero(4+len(label), idletimerLabelSize-len(label)) || !b.zero(idletimerV0UserSize, len(b)-idletimerV0UserSize) {
			return nil, decodeErr("xt target IDLETIMER: label has no iptables form")
		}
		return &idletimer{timeout: b.get32(0), label: label, rev0: true}, nil
	}
	if rev != 1 {
		return nil, decodeErr("xt target IDLETIMER rev %d is not supported", rev)
	}
	if err := checkSize("IDLETIMER", rev, data, idletimerSize); err != nil {
		return nil, err
	}
	b := blob(data)
	label, ok := b.getStr(4, idletimerLabelSize)
	// send_nl_msg (byte 32) is unused and never set by iptables.
	if !ok || !b.zero(4+len(label), idletimerLabelSize-len(label)) || b.get8(32) != 0 || b.get8(33) > idletimerAlarm || !b.zero(idletimerUserSize, len(b)-idletimerUserSize) {
		return nil, decodeErr("xt target IDLETIMER: label or timer type has no iptables form")
	}
	return &idletimer{timeout: b.get32(0), label: label, timerType: b.get8(33)}, nil
}

// SYNPROXY option bits (NF_SYNPROXY_OPT_*).
const (
	synproxyMSS       = 0x01
	synproxyWscale    = 0x02
	synproxySackPerm  = 0x04
	synproxyTimestamp = 0x08
	synproxyECN       = 0x10
)

// synproxy is -j SYNPROXY (struct xt_synproxy_info, rev 0).
type synproxy struct {
	options, wscale uint8
	mss             uint16
}

func parseSynproxy(ctx Context, t syntax.Target) (Ext, error) {
	e := &synproxy{}
	once := onceOnly{}
	for _, o := range t.Options {
		if err := once.use(t.Name, o.Name); err != nil {
			return nil, err
		}
		switch o.Name {
		case "sack-perm":
			e.options |= synproxySackPerm
		case "timestamp":
			e.options |= synproxyTimestamp
		case "ecn":
			e.options |= synproxyECN
		case "wscale", "mss":
			v, err := oneArg(t.Name, o)
			if err != nil {
				return nil, err
			}
			n, err := parseXTUint(t.Name, o.Name, cutNUL(v), 0, 0xffffffff)
			if err != nil {
				return nil, err
			}
			// libxt_SYNPROXY stores the u32 into narrower fields.
			if o.Name == "wscale" {
				e.options |= synproxyWscale
				e.wscale = uint8(n)
			} else {
				e.options |= synproxyMSS
				e.mss = uint16(n)
			}
		default:
			return nil, unsupportedOption(t.Name, o.Name)
		}
	}
	return e, nil
}

func (e *synproxy) Name() string                          { return "SYNPROXY" }
func (e *synproxy) Revision() (string, uint8, bool, bool) { return "SYNPROXY", 0, true, true }
func (e *synproxy) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(4)
	b.u8(0, e.options)
	b.u8(1, e.wscale)
	b.u16(2, e.mss)
	return xtTarget("SYNPROXY", 0, b), nil
}

// words renders the options with the given prefix, in libxt_SYNPROXY's
// order.
func (e *synproxy) words(prefix string) []string {
	var out []string
	if e.options&synproxySackPerm != 0 {
		out = append(out, prefix+"sack-perm")
	}
	if e.options&synproxyTimestamp != 0 {
		out = append(out, prefix+"timestamp")
	}
	if e.options&synproxyWscale != 0 {
		out = append(out, fmt.Sprintf("%swscale %d", prefix, e.wscale))
	}
	if e.options&synproxyMSS != 0 {
		out = append(out, fmt.Sprintf("%smss %d", prefix, e.mss))
	}
	if e.options&synproxyECN != 0 {
		out = append(out, prefix+"ecn")
	}
	return out
}

func (e *synproxy) Save(Context) string {
	return strings.TrimSpace("-j SYNPROXY " + strings.Join(e.words("--"), " "))
}

// List prints "SYNPROXY sack-perm timestamp wscale 9 mss 1460 ", with
// libxt_SYNPROXY's trailing space.
func (e *synproxy) List(bool) string {
	s := " SYNPROXY "
	for _, w := range e.words("") {
		s += w + " "
	}
	return s
}

func decodeSynproxyBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt target SYNPROXY rev %d is not supported", rev)
	}
	if err := checkSize("SYNPROXY", rev, data, 4); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &synproxy{options: b.get8(0), wscale: b.get8(1), mss: b.get16(2)}
	if e.options&^0x1f != 0 || !b.zero(4, len(b)-4) {
		return nil, decodeErr("xt target SYNPROXY: options %#x have no iptables form", e.options)
	}
	return e, nil
}
