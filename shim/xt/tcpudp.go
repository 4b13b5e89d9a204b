package xt

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// xt_tcp/xt_udp invflags.
const (
	invSrcPort = 0x01
	invDstPort = 0x02
	invFlags   = 0x04
	invOption  = 0x08
)

// tcpUDP is the tcp or udp match (struct xt_tcp / xt_udp). iptables-nft 1.8.9
// writes it natively (payload loads) unless it has a --tcp-option or is
// entirely default, in which case it writes the xt match.
type tcpUDP struct {
	proto      string // "tcp" or "udp"
	spts, dpts portRange
	option     uint8
	flgMask    uint8
	flgCmp     uint8
	invflags   uint8
	// decoded holds the expressions a native match was read from, so that
	// re-encoding it reproduces the kernel's state exactly even where
	// iptables-nft reads a form back as a different (equivalent) one.
	decoded []expr.Any
	// fromBlob is set when the match was read from an xt blob: it is
	// written back as that blob, since a blob may hold tests 1.8.9 writes
	// as nothing at all (an inverted full port range).
	fromBlob bool
}

func newTCPUDP(proto string) *tcpUDP {
	return &tcpUDP{proto: proto, spts: fullPorts, dpts: fullPorts}
}

func parseTCPUDP(ctx Context, m syntax.Match) (Ext, error) {
	e := newTCPUDP(m.Name)
	want := uint8(protoTCP)
	if m.Name == "udp" {
		want = protoUDP
	}
	// libxt_tcp/udp look at -p's value only: "! -p tcp -m tcp" passes.
	if p, ok := protoNum(ctx.Protocol.Value); !ok || !ctx.Protocol.Set || p != want {
		return nil, paramErr("%s match requires '-p %s'", strings.ToUpper(m.Name), m.Name)
	}
	for _, o := range m.Options {
		var err error
		switch o.Name {
		case "sport", "source-port":
			err = e.setPorts(&e.spts, invSrcPort, o)
		case "dport", "destination-port":
			err = e.setPorts(&e.dpts, invDstPort, o)
		case "syn":
			if e.proto != "tcp" {
				return nil, unsupportedOption(m.Name, o.Name)
			}
			e.flgMask, e.flgCmp = tcpFIN|tcpSYN|tcpRST|tcpACK, tcpSYN
			if o.Invert {
				e.invflags |= invFlags
			}
		case "tcp-flags":
			if e.proto != "tcp" || len(o.Args) != 2 {
				return nil, unsupportedOption(m.Name, o.Name)
			}
			if e.flgMask, err = parseTCPFlags(o.Args[0]); err != nil {
				return nil, err
			}
			if e.flgCmp, err = parseTCPFlags(o.Args[1]); err != nil {
				return nil, err
			}
			if o.Invert {
				e.invflags |= invFlags
			}
		case "tcp-option":
			if e.proto != "tcp" || len(o.Args) != 1 {
				return nil, unsupportedOption(m.Name, o.Name)
			}
			n, perr := strconv.ParseUint(o.Args[0], 10, 8)
			if perr != nil || n == 0 {
				return nil, paramErr("Bad TCP option \"%s\"", o.Args[0])
			}
			e.option = uint8(n)
			if o.Invert {
				e.invflags |= invOption
			}
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
		if err != nil {
			return nil, err
		}
	}
	return e, nil
}

func (e *tcpUDP) setPorts(r *portRange, inv uint8, o syntax.Option) error {
	if len(o.Args) != 1 {
		return unsupportedOption(e.proto, o.Name)
	}
	pr, err := parsePortRange(o.Args[0], e.proto)
	if err != nil {
		return err
	}
	*r = pr
	if o.Invert {
		e.invflags |= inv
	}
	return nil
}

func (e *tcpUDP) Name() string { return e.proto }

// compat reports whether iptables-nft 1.8.9 writes this match as an xt
// match: with a TCP option test, or with nothing to test at all.
func (e *tcpUDP) compat() bool {
	if e.option != 0 || e.invflags&invOption != 0 {
		return true
	}
	return e.spts.full() && e.dpts.full() && e.flgMask == 0 && e.invflags == 0
}

func (e *tcpUDP) Revision() (string, uint8, bool, bool) {
	return e.proto, 0, false, e.compat() || e.fromBlob
}

func (e *tcpUDP) blob() blob {
	b := newBlob(12)
	b.u16(0, e.spts.Min)
	b.u16(2, e.spts.Max)
	b.u16(4, e.dpts.Min)
	b.u16(6, e.dpts.Max)
	if e.proto == "udp" {
		b.u8(8, e.invflags)
		return b
	}
	b.u8(8, e.option)
	b.u8(9, e.flgMask)
	b.u8(10, e.flgCmp)
	b.u8(11, e.invflags)
	return b
}

func (e *tcpUDP) Exprs(ctx Context) ([]expr.Any, error) {
	if e.decoded != nil {
		return e.decoded, nil
	}
	if e.compat() || e.fromBlob {
		return []expr.Any{&expr.Match{Name: e.proto, Rev: 0, Info: rawInfo(e.blob())}}, nil
	}
	var out []expr.Any
	if e.flgMask != 0 {
		out = append(out, loadTransport(13, 1), maskReg([]byte{e.flgMask}), cmpReg(eqOp(e.invflags&invFlags != 0), []byte{e.flgCmp}))
	}
	sInv, dInv := e.invflags&invSrcPort != 0, e.invflags&invDstPort != 0
	// 1.8.9 folds two single non-zero ports with the same sense into one
	// 4-byte compare (so "! --sport a ! --dport b" matches when either
	// differs, a quirk later versions fixed).
	if e.spts.single() && e.spts.Min != 0 && e.dpts.single() && e.dpts.Min != 0 && sInv == dInv {
		v := binary.BigEndian.AppendUint16(be16(e.spts.Min), e.dpts.Min)
		return append(out, loadTransport(0, 4), cmpReg(eqOp(sInv), v)), nil
	}
	out = append(out, portExprs(0, e.spts, sInv)...)
	return append(out, portExprs(2, e.dpts, dInv)...), nil
}

// portExprs is 1.8.9's test of one port field; the full range, inverted or
// not, is dropped entirely.
func portExprs(off uint32, r portRange, inv bool) []expr.Any {
	switch {
	case r.full():
		return nil
	case r.single():
		return []expr.Any{loadTransport(off, 2), cmpReg(eqOp(inv), be16(r.Min))}
	case r.Min == 0:
		op := expr.CmpOpLte
		if inv {
			op = expr.CmpOpGt
		}
		return []expr.Any{loadTransport(off, 2), cmpReg(op, be16(r.Max))}
	default:
		return []expr.Any{loadTransport(off, 2), &expr.Range{Op: eqOp(inv), Register: reg1, FromData: be16(r.Min), ToData: be16(r.Max)}}
	}
}

func (e *tcpUDP) Save(ctx Context) string {
	var b strings.Builder
	b.WriteString("-m " + e.proto)
	if !e.spts.full() {
		writeOpt(&b, e.invflags&invSrcPort != 0, "--sport", e.spts.String())
	}
	if !e.dpts.full() {
		writeOpt(&b, e.invflags&invDstPort != 0, "--dport", e.dpts.String())
	}
	if e.option != 0 || e.invflags&invOption != 0 {
		writeOpt(&b, e.invflags&invOption != 0, "--tcp-option", strconv.Itoa(int(e.option)))
	}
	if e.flgMask != 0 || e.invflags&invFlags != 0 {
		writeOpt(&b, e.invflags&invFlags != 0, "--tcp-flags", tcpFlagsString(e.flgMask)+" "+tcpFlagsString(e.flgCmp))
	}
	return b.String()
}

// writeOpt appends " [!] opt[ value]".
func writeOpt(b *strings.Builder, inv bool, opt, value string) {
	if inv {
		b.WriteString(" !")
	}
	b.WriteString(" " + opt)
	if value != "" {
		b.WriteString(" " + value)
	}
}

func decodeTCPUDPBlob(name string) blobDecoder {
	return func(ctx Context, rev uint32, data []byte) (Ext, error) {
		size := 12
		if name == "udp" {
			size = 10
		}
		if rev != 0 {
			return nil, decodeErr("xt match %s rev %d is not supported", name, rev)
		}
		if err := checkSize(name, rev, data, size); err != nil {
			return nil, err
		}
		b := blob(data)
		e := newTCPUDP(name)
		e.fromBlob = true
		e.spts = portRange{b.get16(0), b.get16(2)}
		e.dpts = portRange{b.get16(4), b.get16(6)}
		// iptables cannot express an empty range; it would not survive a
		// save and restore.
		if e.spts.Min > e.spts.Max || e.dpts.Min > e.dpts.Max {
			return nil, decodeErr("xt match %s: port range with min > max", name)
		}
		if name == "udp" {
			e.invflags = b.get8(8)
			if e.invflags&^(invSrcPort|invDstPort) != 0 || !b.zero(9, len(b)-9) {
				return nil, decodeErr("xt match udp: unknown flags in info")
			}
		} else {
			e.option, e.flgMask, e.flgCmp, e.invflags = b.get8(8), b.get8(9), b.get8(10), b.get8(11)
			if e.invflags&^0x0f != 0 || (e.flgMask|e.flgCmp)&^0x3f != 0 || !b.zero(12, len(b)-12) {
				return nil, decodeErr("xt match tcp: unknown flags in info")
			}
		}
		return e, nil
	}
}

// decodeTCPUDPNative reads the payload tests iptables-nft writes for tcp and
// udp (1.8.9 and later forms) into one match, consuming every consecutive
// transport-header test.
func decodeTCPUDPNative(ctx Context, exprs []expr.Any) (Ext, int, error) {
	// As iptables-nft does, read the port tests by -p's value even when
	// -p is inverted.
	var p uint8
	if ctx.Protocol.Set {
		p, _ = protoNum(ctx.Protocol.Value)
	}
	var e *tcpUDP
	switch p {
	case protoTCP:
		e = newTCPUDP("tcp")
	case protoUDP:
		e = newTCPUDP("udp")
	default:
		return nil, 0, decodeErr("cannot decode %s: transport header test without -p tcp/udp", describe(exprs[0]))
	}
	var seenS, seenD, seenF bool
	i := 0
	for {
		pl, ok := at[*expr.Payload](exprs, i)
		if !ok || pl.Base != expr.PayloadBaseTransportHeader {
			break
		}
		if pl.OperationType != expr.PayloadLoad || pl.DestRegister != reg1 || pl.CsumType != 0 {
			return nil, 0, decodeErr("cannot decode %s", describe(pl))
		}
		switch {
		case pl.Offset == 13 && pl.Len == 1 && e.proto == "tcp" && !seenF:
			bw, ok1 := at[*expr.Bitwise](exprs, i+1)
			c, ok2 := at[*expr.Cmp](exprs, i+2)
			if !ok1 || !ok2 || bw.Len != 1 || len(bw.Mask) != 1 || len(bw.Xor) != 1 || bw.Xor[0] != 0 ||
				bw.SourceRegister != reg1 || bw.DestRegister != reg1 || c.Register != reg1 || len(c.Data) != 1 ||
				(c.Op != expr.CmpOpEq && c.Op != expr.CmpOpNeq) || (bw.Mask[0]|c.Data[0])&^0x3f != 0 || bw.Mask[0] == 0 {
				return nil, 0, decodeErr("cannot decode tcp flags test at %s", describe(pl))
			}
			e.flgMask, e.flgCmp = bw.Mask[0], c.Data[0]
			if c.Op == expr.CmpOpNeq {
				e.invflags |= invFlags
			}
			seenF = true
			i += 3
		case pl.Offset == 0 && pl.Len == 4 && !seenS && !seenD:
			c, ok := at[*expr.Cmp](exprs, i+1)
			if !ok || c.Register != reg1 || len(c.Data) != 4 || (c.Op != expr.CmpOpEq && c.Op != expr.CmpOpNeq) {
				return nil, 0, decodeErr("cannot decode port test at %s", describe(pl))
			}
			s, d := binary.BigEndian.Uint16(c.Data), binary.BigEndian.Uint16(c.Data[2:])
			e.spts, e.dpts = portRange{s, s}, portRange{d, d}
			if c.Op == expr.CmpOpNeq {
				e.invflags |= invSrcPort | invDstPort
			}
			seenS, seenD = true, true
			i += 2
		case pl.Len == 2 && (pl.Offset == 0 && !seenS || pl.Offset == 2 && !seenD):
			r, inv, n, ok := decodePortTest(exprs, i+1)
			if !ok {
				return nil, 0, decodeErr("cannot decode port test at %s", describe(pl))
			}
			if pl.Offset == 0 {
				e.spts, seenS = r, true
				if inv {
					e.invflags |= invSrcPort
				}
			} else {
				e.dpts, seenD = r, true
				if inv {
					e.invflags |= invDstPort
				}
			}
			i += 1 + n
		default:
			if i == 0 {
				return nil, 0, decodeErr("cannot decode %s as a %s match", describe(pl), e.proto)
			}
			e.decoded = exprs[:i:i]
			return e, i, nil
		}
	}
	e.decoded = exprs[:i:i]
	return e, i, nil
}

// decodePortTest reads the cmp or range that follows a 2-byte port load,
// and reports how many expressions that took: nft writes a port range as
// a gte and an lte cmp ("udp dport 67-69"), which iptables-nft 1.8.9
// reads as --dport 67:69.
func decodePortTest(exprs []expr.Any, i int) (portRange, bool, int, bool) {
	if r, ok := at[*expr.Range](exprs, i); ok {
		if r.Register != reg1 || len(r.FromData) != 2 || len(r.ToData) != 2 || (r.Op != expr.CmpOpEq && r.Op != expr.CmpOpNeq) {
			return portRange{}, false, 0, false
		}
		pr := portRange{binary.BigEndian.Uint16(r.FromData), binary.BigEndian.Uint16(r.ToData)}
		return pr, r.Op == expr.CmpOpNeq, 1, pr.Min <= pr.Max
	}
	c, ok := at[*expr.Cmp](exprs, i)
	if !ok || c.Register != reg1 || len(c.Data) != 2 {
		return portRange{}, false, 0, false
	}
	v := binary.BigEndian.Uint16(c.Data)
	switch c.Op {
	case expr.CmpOpEq:
		return portRange{v, v}, false, 1, true
	case expr.CmpOpNeq:
		return portRange{v, v}, true, 1, true
	case expr.CmpOpLte:
		return portRange{0, v}, false, 1, true
	case expr.CmpOpGt:
		// 1.8.9 writes "! --dport :N" as gt N and reads it back (as save
		// prints it) as the range above N, not inverted.
		return portRange{v + 1, 0xffff}, false, 1, v != 0xffff
	case expr.CmpOpGte:
		if hi, ok := at[*expr.Cmp](exprs, i+1); ok && hi.Op == expr.CmpOpLte && hi.Register == reg1 && len(hi.Data) == 2 {
			pr := portRange{v, binary.BigEndian.Uint16(hi.Data)}
			return pr, false, 2, pr.Min <= pr.Max
		}
		return portRange{v, 0xffff}, false, 1, true
	case expr.CmpOpLt:
		return portRange{0, v - 1}, false, 1, v != 0
	}
	return portRange{}, false, 0, false
}

// TCP flag bits and their names, in the order libxt_tcp prints them.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpPSH = 0x08
	tcpACK = 0x10
	tcpURG = 0x20
)

var tcpFlagNames = []struct {
	name string
	bit  uint8
}{{"FIN", tcpFIN}, {"SYN", tcpSYN}, {"RST", tcpRST}, {"PSH", tcpPSH}, {"ACK", tcpACK}, {"URG", tcpURG}}

func parseTCPFlags(s string) (uint8, error) {
	var v uint8
	for _, f := range strings.Split(s, ",") {
		switch u := strings.ToUpper(f); u {
		case "ALL":
			v |= 0x3f
		case "NONE":
		default:
			found := false
			for _, n := range tcpFlagNames {
				if n.name == u {
					v |= n.bit
					found = true
				}
			}
			if !found {
				return 0, paramErr("Unknown TCP flag `%s'", f)
			}
		}
	}
	return v, nil
}

func tcpFlagsString(v uint8) string {
	var names []string
	for _, n := range tcpFlagNames {
		if v&n.bit != 0 {
			names = append(names, n.name)
		}
	}
	if len(names) == 0 {
		return "NONE"
	}
	return strings.Join(names, ",")
}
