package xt

import (
	"encoding/binary"
	"testing"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// foreignForm is a form iptables-nft 1.8.9 does not write but other
// versions do (older ones write xt matches, newer ones other native
// shapes, 1.8.11 --compat writes xt for everything); readers must accept
// them. Blobs follow the kernel headers named in each case.
type foreignForm struct {
	what  string
	proto string
	exprs []expr.Any
	save  string
}

func le32s(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.NativeEndian.AppendUint32(b, v)
	}
	return b
}

var foreignForms = []foreignForm{
	{
		what: "xt mark rev 1 (struct xt_mark_mtinfo1: mark, mask, invert)",
		exprs: []expr.Any{&expr.Match{Name: "mark", Rev: 1,
			Info: rawInfo(append(le32s(0x4000, 0x4000), 1, 0, 0, 0, 0, 0, 0, 0))}},
		save: "-m mark ! --mark 0x4000/0x4000",
	},
	{
		what:  "xt tcp rev 0 with a port (struct xt_tcp)",
		proto: "tcp",
		exprs: []expr.Any{&expr.Match{Name: "tcp", Rev: 0,
			Info: rawInfo([]byte{0, 0, 0xff, 0xff, 80, 0, 80, 0, 0, 0, 0, 2, 0, 0, 0, 0})}},
		save: "-m tcp ! --dport 80",
	},
	{
		what: "xt limit rev 0 (struct xt_rateinfo: avg 3/min, burst 7, kernel state after)",
		exprs: []expr.Any{&expr.Match{Name: "limit", Rev: 0,
			Info: rawInfo(append(le32s(limitScale*60/3, 7), make([]byte, 32)...))}},
		save: "-m limit --limit 3/min --limit-burst 7",
	},
	{
		what:  "native port range as cmp gte (newer iptables-nft for \"--dport 90:\")",
		proto: "udp",
		exprs: []expr.Any{loadTransport(2, 2), cmpReg(expr.CmpOpGte, be16(90))},
		save:  "-m udp --dport 90:65535",
	},
	{
		what:  "native sport and dport tested separately, both inverted (1.8.10+)",
		proto: "tcp",
		exprs: []expr.Any{loadTransport(0, 2), cmpReg(expr.CmpOpNeq, be16(1)), loadTransport(2, 2), cmpReg(expr.CmpOpNeq, be16(2))},
		save:  "-m tcp ! --sport 1 ! --dport 2",
	},
}

func TestDecodeForeignForms(t *testing.T) {
	for _, f := range foreignForms {
		ctx := Context{Family: syntax.IPv4, Protocol: syntax.Field{Set: f.proto != "", Value: f.proto}}
		e, n, err := DecodeMatch(ctx, f.exprs)
		if err != nil {
			t.Errorf("%s: %v", f.what, err)
			continue
		}
		if n != len(f.exprs) {
			t.Errorf("%s: consumed %d of %d expressions", f.what, n, len(f.exprs))
		}
		if got := e.Save(ctx); got != f.save {
			t.Errorf("%s: save %q, want %q", f.what, got, f.save)
		}
	}
}

// TestDecodeRefuses checks that what a decoder cannot represent exactly is
// refused (and marked unsupported), never read as a broader rule.
func TestDecodeRefuses(t *testing.T) {
	tcp := Context{Family: syntax.IPv4, Protocol: syntax.Field{Set: true, Value: "tcp"}}
	cases := []struct {
		what  string
		ctx   Context
		exprs []expr.Any
	}{
		{"unknown xt match", tcp, []expr.Any{&expr.Match{Name: "osf", Info: rawInfo(make([]byte, 8))}}},
		{"conntrack with an unknown flag", tcp, []expr.Any{&expr.Match{Name: "conntrack", Rev: 3,
			Info: rawInfo(func() []byte { b := newBlob(ctInfoSize); b.u16(ctOffMatchFlags, 1<<14); return b }())}}},
		{"conntrack address without its flag", tcp, []expr.Any{&expr.Match{Name: "conntrack", Rev: 3,
			Info: rawInfo(func() []byte { b := newBlob(ctInfoSize); b[0] = 10; b.u16(ctOffMatchFlags, 1); return b }())}}},
		{"conntrack IPv4 address with IPv6 bytes", tcp, []expr.Any{&expr.Match{Name: "conntrack", Rev: 3,
			Info: rawInfo(func() []byte { b := newBlob(ctInfoSize); b[8] = 1; b.u16(ctOffMatchFlags, 1<<2); return b }())}}},
		{"conntrack rev 2", tcp, []expr.Any{&expr.Match{Name: "conntrack", Rev: 2, Info: rawInfo(make([]byte, 168))}}},
		{"comment without NUL", tcp, []expr.Any{&expr.Match{Name: "comment", Info: rawInfo(func() []byte {
			b := newBlob(commentLen)
			for i := range b {
				b[i] = 'a'
			}
			return b
		}())}}},
		{"short set blob", tcp, []expr.Any{&expr.Match{Name: "set", Rev: 4, Info: rawInfo(make([]byte, 8))}}},
		{"port test without -p", Context{Family: syntax.IPv4}, []expr.Any{loadTransport(2, 2), cmpReg(expr.CmpOpEq, be16(80))}},
		{"port load without compare", tcp, []expr.Any{loadTransport(2, 2), &expr.Counter{}}},
		{"mark with xor", tcp, []expr.Any{&expr.Meta{Key: expr.MetaKeyMARK, Register: 1},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: le32s(1), Xor: le32s(1)}, cmpReg(expr.CmpOpEq, le32s(1))}},
		{"limit over", tcp, []expr.Any{&expr.Limit{Type: expr.LimitTypePkts, Rate: 1, Unit: 1, Over: true}}},
		{"meta other than mark", tcp, []expr.Any{&expr.Meta{Key: expr.MetaKeySKUID, Register: 1}, cmpReg(expr.CmpOpEq, le32s(0))}},
		{"network header payload", tcp, []expr.Any{&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 9, Len: 1}}},
	}
	for _, c := range cases {
		e, _, err := DecodeMatch(c.ctx, c.exprs)
		if err == nil {
			t.Errorf("%s: decoded as %q, want a refusal", c.what, e.Save(c.ctx))
			continue
		}
		if !IsUnsupported(err) {
			t.Errorf("%s: refusal %v is not marked unsupported", c.what, err)
		}
	}
	if _, _, err := DecodeTarget(tcp, []expr.Any{&expr.Target{Name: "ULOG", Info: rawInfo(make([]byte, 88))}}); !IsUnsupported(err) {
		t.Errorf("unknown target: %v, want unsupported", err)
	}
	for _, m := range []syntax.Match{{Name: "unclean", Known: true}, {Name: "comment"}} {
		if _, err := ParseMatch(tcp, m); !IsUnsupported(err) {
			t.Errorf("match %+v: %v, want unsupported", m, err)
		}
	}
	if _, err := ParseTarget(tcp, syntax.Target{Name: "MARK"}); !IsUnsupported(err) {
		t.Errorf("MARK not Known: %v, want unsupported", err)
	}
}
