package xt

import (
	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// This file holds the SELinux marking targets, SECMARK and CONNSECMARK.
// Their xt blobs follow from the rule text alone: libxt_SECMARK copies the
// context string as given, and the kernel (not iptables) turns it into a
// security id, refusing a context the running LSM does not know (ENOENT
// without SELinux) with the same answer to the shim as to iptables-nft.

// secmarkModeSel is SECMARK_MODE_SEL, the one mode libxt_SECMARK writes.
const secmarkModeSel = 1

// secmarkCtxLen is SECMARK_SECCTX_MAX, the size of the context field.
const secmarkCtxLen = 256

// secmarkTarget is -j SECMARK --selctx CTX, revision 1 (struct
// xt_secmark_target_info_v1, 264 bytes: u8 mode, char secctx[256], then
// the u32 security id the kernel fills in and does not dump).
type secmarkTarget struct{ ctx string }

func parseSecmark(ctx Context, t syntax.Target) (Ext, error) {
	var e *secmarkTarget
	for _, o := range t.Options {
		if o.Name != "selctx" {
			return nil, unsupportedOption(t.Name, o.Name)
		}
		v, err := oneArg(t.Name, o)
		if err != nil {
			return nil, err
		}
		// XTTYPE_STRING into secctx[256]: cut to 255 bytes.
		v = cutNUL(v)
		if len(v) > secmarkCtxLen-1 {
			v = v[:secmarkCtxLen-1]
		}
		e = &secmarkTarget{ctx: v}
	}
	if e == nil {
		return nil, mustSpecify(t.Name, "selctx")
	}
	return e, nil
}

func (e *secmarkTarget) Name() string                          { return "SECMARK" }
func (e *secmarkTarget) Revision() (string, uint8, bool, bool) { return "SECMARK", 1, true, true }
func (e *secmarkTarget) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(264)
	b.u8(0, secmarkModeSel)
	b.str(1, secmarkCtxLen, e.ctx)
	return xtTarget("SECMARK", 1, b), nil
}

// Save prints as libxt_SECMARK 1.8.9 does: the context as it is, unquoted.
func (e *secmarkTarget) Save(Context) string { return "-j SECMARK --selctx " + e.ctx }

// List is -L's text.
func (e *secmarkTarget) List(bool) string { return " SECMARK selctx " + e.ctx }

func decodeSecmarkBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 1 {
		return nil, decodeErr("xt target SECMARK rev %d is not supported", rev)
	}
	if err := checkSize("SECMARK", rev, data, 264); err != nil {
		return nil, err
	}
	b := blob(data)
	s, ok := b.getStr(1, secmarkCtxLen)
	// The security id (offset 260) is the kernel's and not dumped; a
	// writer's garbage after the string would not survive a save.
	if !ok || b.get8(0) != secmarkModeSel || !b.zero(1+len(s), len(b)-1-len(s)) {
		return nil, decodeErr("xt target SECMARK: unknown data")
	}
	return &secmarkTarget{ctx: s}, nil
}

// CONNSECMARK modes (struct xt_connsecmark_target_info).
const (
	connsecmarkSave    = 1
	connsecmarkRestore = 2
)

// connsecmarkTarget is -j CONNSECMARK --save or --restore.
type connsecmarkTarget struct{ mode uint8 }

func parseConnsecmark(ctx Context, t syntax.Target) (Ext, error) {
	e := &connsecmarkTarget{}
	var given []string
	for _, o := range t.Options {
		if err := noArg(t.Name, o); err != nil {
			return nil, err
		}
		switch o.Name {
		case "save":
			e.mode = connsecmarkSave
		case "restore":
			e.mode = connsecmarkRestore
		default:
			return nil, unsupportedOption(t.Name, o.Name)
		}
		given = append(given, o.Name)
	}
	// libxt_CONNSECMARK's final check, then libxtables' exclusion check.
	if len(given) == 0 {
		return nil, paramErr("CONNSECMARK target: parameter required")
	}
	if len(given) > 1 && given[0] != given[1] {
		return nil, tableExclusive(t.Name, true, given[0], given[1])
	}
	return e, nil
}

func (e *connsecmarkTarget) Name() string { return "CONNSECMARK" }
func (e *connsecmarkTarget) Revision() (string, uint8, bool, bool) {
	return "CONNSECMARK", 0, true, true
}
func (e *connsecmarkTarget) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(1)
	b.u8(0, e.mode)
	return xtTarget("CONNSECMARK", 0, b), nil
}
func (e *connsecmarkTarget) modeName() string {
	if e.mode == connsecmarkSave {
		return "save"
	}
	return "restore"
}

// Save prints as libxt_CONNSECMARK 1.8.9 does.
func (e *connsecmarkTarget) Save(Context) string { return "-j CONNSECMARK --" + e.modeName() }

// List is -L's text.
func (e *connsecmarkTarget) List(bool) string { return " CONNSECMARK " + e.modeName() }

func decodeConnsecmarkBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt target CONNSECMARK rev %d is not supported", rev)
	}
	if err := checkSize("CONNSECMARK", rev, data, 1); err != nil {
		return nil, err
	}
	b := blob(data)
	if m := b.get8(0); (m != connsecmarkSave && m != connsecmarkRestore) || !b.zero(1, len(b)-1) {
		return nil, decodeErr("xt target CONNSECMARK: mode %d has no iptables form", m)
	}
	return &connsecmarkTarget{mode: b.get8(0)}, nil
}
