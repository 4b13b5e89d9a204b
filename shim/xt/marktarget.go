package xt

import (
	"fmt"
	"strconv"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// markOp turns one MARK/CONNMARK value option into the (value, mask) pair
// the kernel applies as (old & ~mask) ^ value, as libxt_MARK/CONNMARK do.
func markOp(ext string, o syntax.Option) (uint32, uint32, error) {
	v, err := oneArg(ext, o)
	if err != nil {
		return 0, 0, err
	}
	if err := noInvert(ext, o); err != nil {
		return 0, 0, err
	}
	switch o.Name {
	case "set-xmark":
		return parseMarkMask(ext, o.Name, v)
	case "set-mark":
		mark, mask, err := parseMarkMask(ext, o.Name, v)
		return mark, mark | mask, err
	}
	n, ok := parseUint32(v)
	if !ok {
		return 0, 0, badValue(ext, o.Name, v)
	}
	switch o.Name {
	case "and-mark":
		return 0, ^n, nil
	case "or-mark":
		return n, n, nil
	case "xor-mark":
		return n, 0, nil
	}
	return 0, 0, unsupportedOption(ext, o.Name)
}

// markTarget is -j MARK (struct xt_mark_tginfo2, rev 2); every variant
// becomes a value/mask pair, saved as --set-xmark.
type markTarget struct{ mark, mask uint32 }

func parseMarkTarget(ctx Context, t syntax.Target) (Ext, error) {
	var e *markTarget
	prev := ""
	for _, o := range t.Options {
		if e != nil {
			return nil, tableExclusive(t.Name, true, prev, o.Name)
		}
		prev = o.Name
		v, m, err := markOp(t.Name, o)
		if err != nil {
			return nil, err
		}
		e = &markTarget{v, m}
	}
	if e == nil {
		return nil, paramErr("MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required")
	}
	return e, nil
}

func (e *markTarget) Name() string                          { return "MARK" }
func (e *markTarget) Revision() (string, uint8, bool, bool) { return "MARK", 2, true, true }
func (e *markTarget) Save(ctx Context) string               { return string(e.appendSave(nil, ctx)) }
func (e *markTarget) appendSave(dst []byte, _ Context) []byte {
	dst = append(dst, "-j MARK --set-xmark 0x"...)
	dst = strconv.AppendUint(dst, uint64(e.mark), 16)
	dst = append(dst, "/0x"...)
	return strconv.AppendUint(dst, uint64(e.mask), 16)
}

func (e *markTarget) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(8)
	b.u32(0, e.mark)
	b.u32(4, e.mask)
	return []expr.Any{&expr.Target{Name: "MARK", Rev: 2, Info: rawInfo(b)}}, nil
}

func decodeMarkTargetBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 2 {
		return nil, decodeErr("xt target MARK rev %d is not supported", rev)
	}
	if err := checkSize("MARK", rev, data, 8); err != nil {
		return nil, err
	}
	return &markTarget{blob(data).get32(0), blob(data).get32(4)}, nil
}

// CONNMARK modes.
const (
	connmarkSet     = 0
	connmarkSave    = 1
	connmarkRestore = 2
)

// connmark is -j CONNMARK (struct xt_connmark_tginfo2, rev 2). The shift
// options are not encoded.
type connmark struct {
	ctmark, ctmask, nfmask uint32
	mode                   uint8
}

func parseConnmark(ctx Context, t syntax.Target) (Ext, error) {
	e := &connmark{ctmask: 0xffffffff, nfmask: 0xffffffff}
	var haveMode bool
	var ctmask, nfmask *uint32
	for _, o := range t.Options {
		switch o.Name {
		case "set-xmark", "set-mark", "and-mark", "or-mark", "xor-mark":
			v, m, err := markOp(t.Name, o)
			if err != nil {
				return nil, err
			}
			e.mode, e.ctmark, e.ctmask = connmarkSet, v, m
		case "save-mark", "restore-mark":
			if err := noArg(t.Name, o); err != nil {
				return nil, err
			}
			e.mode = connmarkSave
			if o.Name == "restore-mark" {
				e.mode = connmarkRestore
			}
		case "mask", "ctmask", "nfmask":
			v, err := oneArg(t.Name, o)
			if err != nil {
				return nil, err
			}
			n, ok := parseUint32(v)
			if !ok {
				return nil, badValue(t.Name, o.Name, v)
			}
			if o.Name != "nfmask" {
				ctmask = &n
			}
			if o.Name != "ctmask" {
				nfmask = &n
			}
			continue
		default:
			return nil, unsupportedOption(t.Name, o.Name)
		}
		if haveMode {
			return nil, paramErr("CONNMARK target: Only one of --set-xmark, --save-mark or --restore-mark may be given")
		}
		haveMode = true
	}
	if !haveMode {
		return nil, paramErr("CONNMARK target: No operation specified")
	}
	if ctmask != nil || nfmask != nil {
		if e.mode == connmarkSet {
			return nil, unsupportedOption(t.Name, "mask")
		}
		if ctmask != nil {
			e.ctmask = *ctmask
		}
		if nfmask != nil {
			e.nfmask = *nfmask
		}
	}
	return e, nil
}

func (e *connmark) Name() string                          { return "CONNMARK" }
func (e *connmark) Revision() (string, uint8, bool, bool) { return "CONNMARK", 2, true, true }

func (e *connmark) Save(Context) string {
	switch e.mode {
	case connmarkSet:
		return fmt.Sprintf("-j CONNMARK --set-xmark 0x%x/0x%x", e.ctmark, e.ctmask)
	case connmarkSave:
		return fmt.Sprintf("-j CONNMARK --save-mark --nfmask 0x%x --ctmask 0x%x", e.nfmask, e.ctmask)
	default:
		return fmt.Sprintf("-j CONNMARK --restore-mark --nfmask 0x%x --ctmask 0x%x", e.nfmask, e.ctmask)
	}
}

func (e *connmark) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(15)
	b.u32(0, e.ctmark)
	b.u32(4, e.ctmask)
	b.u32(8, e.nfmask)
	b.u8(14, e.mode)
	return []expr.Any{&expr.Target{Name: "CONNMARK", Rev: 2, Info: rawInfo(b)}}, nil
}

func decodeConnmarkBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 2 {
		return nil, decodeErr("xt target CONNMARK rev %d is not supported", rev)
	}
	if err := checkSize("CONNMARK", rev, data, 15); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &connmark{ctmark: b.get32(0), ctmask: b.get32(4), nfmask: b.get32(8), mode: b.get8(14)}
	if e.mode > connmarkRestore || !b.zero(12, 2) || !b.zero(15, len(b)-15) {
		return nil, decodeErr("xt target CONNMARK: shift or unknown mode not supported")
	}
	return e, nil
}
