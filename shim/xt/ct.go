package xt

import (
	"strconv"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// xt_ct_target_info_v1 flags.
const (
	ctNotrack        = 0x01
	ctNotrackAlias   = 0x02
	ctZoneDirOrig    = 0x04
	ctZoneDirRepl    = 0x08
	ctZoneMark       = 0x10
	ctTargetUserSize = 64 // up to the kernel's private pointer
	ctAlignedSize    = 72
	ctHelperLen      = 16
	ctTimeoutLen     = 32
)

// ctEvents and ctExpEvents are libxt_CT's event names, in its order,
// with their bit numbers.
var (
	ctEvents = []struct {
		name string
		bit  uint
	}{{"new", 0}, {"related", 1}, {"destroy", 2}, {"reply", 3}, {"assured", 4}, {"protoinfo", 5},
		{"helper", 6}, {"mark", 7}, {"natseqinfo", 8}, {"secmark", 9}}
	ctExpEvents = []struct {
		name string
		bit  uint
	}{{"new", 0}}
)

// ctTarget is -j CT (struct xt_ct_target_info_v1, revision 2), and -j
// NOTRACK, which 1.8.9 writes as CT with the notrack and alias flags.
type ctTarget struct {
	flags, zone       uint16
	events, expEvents uint32
	helper, timeout   string
}

func parseNotrack(ctx Context, t syntax.Target) (Ext, error) {
	for _, o := range t.Options {
		return nil, unsupportedOption(t.Name, o.Name)
	}
	return &ctTarget{flags: ctNotrack | ctNotrackAlias}, nil
}

func parseCT(ctx Context, t syntax.Target) (Ext, error) {
	e := &ctTarget{}
	for _, o := range t.Options {
		if o.Name == "notrack" {
			e.flags |= ctNotrack
			continue
		}
		v, err := oneArg(t.Name, o)
		if err != nil {
			return nil, err
		}
		v = cutNUL(v)
		switch o.Name {
		case "helper":
			if len(v) > ctHelperLen-1 {
				return nil, paramErr("CT: option \"--helper\" must be less than %d characters", ctHelperLen-1)
			}
			e.helper = v
		case "timeout":
			if len(v) > ctTimeoutLen-1 {
				return nil, paramErr("CT: option \"--timeout\" must be less than %d characters", ctTimeoutLen-1)
			}
			e.timeout = v
		case "ctevents", "expevents":
			table := ctEvents
			if o.Name == "expevents" {
				table = ctExpEvents
			}
			var mask uint32
			for _, w := range strings.Split(v, ",") {
				found := false
				for _, ev := range table {
					if ev.name == w {
						mask |= 1 << ev.bit
						found = true
					}
				}
				if !found {
					return nil, paramErr("Unknown event type \"%s\"", w)
				}
			}
			if o.Name == "ctevents" {
				e.events = mask
			} else {
				e.expEvents = mask
			}
		case "zone", "zone-orig", "zone-reply":
			e.flags &^= ctZoneDirOrig | ctZoneDirRepl | ctZoneMark
			switch o.Name {
			case "zone-orig":
				e.flags |= ctZoneDirOrig
			case "zone-reply":
				e.flags |= ctZoneDirRepl
			}
			if v == "mark" {
				e.flags |= ctZoneMark
				e.zone = 0
				continue
			}
			n, tail, ok := strtoulPrefix(v)
			if !ok || tail != "" || n > 0xffff {
				return nil, paramErr("Cannot parse %s as a zone ID", v)
			}
			e.zone = uint16(n)
		default:
			return nil, unsupportedOption(t.Name, o.Name)
		}
	}
	return e, nil
}

// Name is the kernel's target name, which -L prints in its target column
// for NOTRACK too.
func (e *ctTarget) Name() string                          { return "CT" }
func (e *ctTarget) Revision() (string, uint8, bool, bool) { return "CT", 2, true, true }

func (e *ctTarget) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(ctAlignedSize)
	b.u16(0, e.flags)
	b.u16(2, e.zone)
	b.u32(4, e.events)
	b.u32(8, e.expEvents)
	b.str(12, ctHelperLen, e.helper)
	b.str(28, ctTimeoutLen, e.timeout)
	return xtTarget("CT", 2, b), nil
}

// options renders the options as libxt_CT saves ("--") or prints ("")
// them.
func (e *ctTarget) options(dashes string) string {
	var b strings.Builder
	if e.flags&ctNotrack != 0 {
		b.WriteString(" " + dashes + "notrack")
	}
	if e.helper != "" {
		b.WriteString(" " + dashes + "helper " + e.helper)
	}
	if e.timeout != "" {
		b.WriteString(" " + dashes + "timeout " + e.timeout)
	}
	for _, ev := range []struct {
		opt   string
		mask  uint32
		table []struct {
			name string
			bit  uint
		}
	}{{"ctevents", e.events, ctEvents}, {"expevents", e.expEvents, ctExpEvents}} {
		if ev.mask == 0 {
			continue
		}
		b.WriteString(" " + dashes + ev.opt + " ")
		sep := ""
		for _, n := range ev.table {
			if ev.mask&(1<<n.bit) != 0 {
				b.WriteString(sep + n.name)
				sep = ","
			}
		}
	}
	dir := ""
	switch {
	case e.flags&ctZoneDirOrig != 0:
		dir = "-orig"
	case e.flags&ctZoneDirRepl != 0:
		dir = "-reply"
	}
	if e.flags&ctZoneMark != 0 {
		b.WriteString(" " + dashes + "zone" + dir + " mark")
	} else if e.zone != 0 {
		b.WriteString(" " + dashes + "zone" + dir + " " + strconv.Itoa(int(e.zone)))
	}
	return b.String()
}

func (e *ctTarget) Save(Context) string {
	if e.flags&ctNotrackAlias != 0 {
		return "-j NOTRACK"
	}
	return "-j CT" + e.options("--")
}

// List prints as libxt_CT's print does: "NOTRACK", "CT notrack", "CT
// zone 5".
func (e *ctTarget) List(bool) string {
	if e.flags&ctNotrackAlias != 0 {
		return " NOTRACK"
	}
	return " CT" + e.options("")
}

func decodeCTBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 2 {
		return nil, decodeErr("xt target CT rev %d is not supported", rev)
	}
	if len(data) != ctAlignedSize && len(data) != ctTargetUserSize {
		return nil, decodeErr("xt target CT rev %d: info is %d bytes, want %d", rev, len(data), ctAlignedSize)
	}
	b := blob(data)
	e := &ctTarget{flags: b.get16(0), zone: b.get16(2), events: b.get32(4), expEvents: b.get32(8)}
	h, ok1 := b.getStr(12, ctHelperLen)
	tm, ok2 := b.getStr(28, ctTimeoutLen)
	if !ok1 || !ok2 || e.flags&^0x1f != 0 || e.flags&ctNotrackAlias != 0 && e.flags != ctNotrack|ctNotrackAlias ||
		e.events&^0x3ff != 0 || e.expEvents&^1 != 0 || e.flags&ctZoneMark != 0 && e.zone != 0 {
		return nil, decodeErr("xt target CT: flags or names have no iptables form")
	}
	e.helper, e.timeout = h, tm
	return e, nil
}
