package xt

import (
	"fmt"
	"math"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// This file holds the LED target. Its blob follows from the rule text; a
// kernel without xt_LED refuses the rule on commit (see WarnsWhenMissing).

const (
	ledSize    = 40 // struct xt_led_info: id[27], always_blink, delay, pointer
	ledIDLen   = 27
	ledPrefix  = "netfilter-"
	ledMaxName = ledIDLen - len(ledPrefix) - 1 // libxt_LED's option maximum: 16
	ledDelayOn = math.MaxUint32                // --led-delay inf
)

// ledTarget is -j LED, revision 0.
type ledTarget struct {
	id    string // without the "netfilter-" prefix libxt_LED adds
	blink bool
	delay uint32
}

func parseLED(ctx Context, t syntax.Target) (Ext, error) {
	e := &ledTarget{}
	given := false
	for _, o := range t.Options {
		switch o.Name {
		case "led-trigger-id":
			v, err := oneArg(t.Name, o)
			if err != nil {
				return nil, err
			}
			if len(v) > ledMaxName {
				return nil, paramErr("Argument must have a maximum length of %d characters\n", ledMaxName)
			}
			e.id, given = cutNUL(v), true
		case "led-delay":
			v, err := oneArg(t.Name, o)
			if err != nil {
				return nil, err
			}
			if len(v) >= 3 && strings.EqualFold(v[:3], "inf") {
				e.delay = ledDelayOn
				continue
			}
			n, ok := cNumber(v, math.MaxUint32)
			if !ok {
				return nil, paramErr("Delay value must be within range 0..%d", uint32(math.MaxUint32))
			}
			e.delay = uint32(n)
		case "led-always-blink":
			if err := noArg(t.Name, o); err != nil {
				return nil, err
			}
			e.blink = true
		default:
			return nil, unsupportedOption(t.Name, o.Name)
		}
	}
	if !given {
		return nil, mustSpecify(t.Name, "led-trigger-id")
	}
	return e, nil
}

func (e *ledTarget) Name() string                          { return "LED" }
func (e *ledTarget) Revision() (string, uint8, bool, bool) { return "LED", 0, true, true }
func (e *ledTarget) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(ledSize)
	b.str(0, ledIDLen, ledPrefix+e.id)
	if e.blink {
		b.u8(27, 1)
	}
	b.u32(28, e.delay)
	return xtTarget("LED", 0, b), nil
}

// quotedID is the trigger id between double quotes, '"' and '\' escaped
// with a backslash, as libxt_LED prints it.
func (e *ledTarget) quotedID() string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(e.id); i++ {
		if e.id[i] == '"' || e.id[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(e.id[i])
	}
	b.WriteByte('"')
	return b.String()
}

// Save prints as libxt_LED 1.8.9 does: the delay (a u32 printed with %d)
// only when not 0, so that inf reads back as -1.
func (e *ledTarget) Save(Context) string {
	s := "-j LED --led-trigger-id " + e.quotedID()
	if e.delay != 0 {
		s += fmt.Sprintf(" --led-delay %d", int32(e.delay))
	}
	if e.blink {
		s += " --led-always-blink"
	}
	return s
}

// List is -L's text (libxt_LED's print).
func (e *ledTarget) List(bool) string {
	s := " led-trigger-id:" + e.quotedID()
	if e.delay == ledDelayOn {
		s += " led-delay:inf"
	} else {
		s += fmt.Sprintf(" led-delay:%dms", int32(e.delay))
	}
	if e.blink {
		s += " led-always-blink"
	}
	return s
}

func decodeLEDBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt target LED rev %d is not supported", rev)
	}
	if err := checkSize("LED", rev, data, ledSize); err != nil {
		return nil, err
	}
	b := blob(data)
	id, ok := b.getStr(0, ledIDLen)
	blink := b.get8(27)
	// The id always carries libxt_LED's prefix; the pointer (offset 32) is
	// the kernel's. Delays above 2^31 (inf among them) print negative, as
	// 1.8.9's do.
	if !ok || !strings.HasPrefix(id, ledPrefix) || len(id) > ledIDLen-1 || !b.zero(len(id), ledIDLen-len(id)) ||
		blink > 1 || !b.zero(32, len(b)-32) {
		return nil, decodeErr("xt target LED: unknown data")
	}
	return &ledTarget{id: id[len(ledPrefix):], blink: blink == 1, delay: b.get32(28)}, nil
}
