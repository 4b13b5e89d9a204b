package xt

import (
	"strconv"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// bpfMaxInstr is XT_BPF_MAX_NUM_INSTR.
const bpfMaxInstr = 64

// bpfInstr is one classic BPF instruction (struct sock_filter).
type bpfInstr struct {
	code   uint16
	jt, jf uint8
	k      uint32
}

// bpfMatch is -m bpf --bytecode, revision 1 (struct xt_bpf_info_v1, 528
// bytes: u16 mode, u16 count, s32 fd, 64 sock_filter instructions, then
// the kernel's pointer). The program is rule text; the kernel builds the
// filter from it. --object-pinned, which hands the kernel a file
// descriptor of a pinned program opened by iptables, is not native.
type bpfMatch struct{ prog []bpfInstr }

func parseBPF(ctx Context, m syntax.Match) (Ext, error) {
	var e *bpfMatch
	for _, o := range m.Options {
		if o.Name != "bytecode" {
			return nil, unsupportedOption(m.Name, o.Name)
		}
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		prog, err := parseBPFProgram(cutNUL(v))
		if err != nil {
			return nil, err
		}
		e = &bpfMatch{prog: prog}
	}
	if e == nil {
		return nil, paramErr("bpf: one of --bytecode or --pinned is required")
	}
	return e, nil
}

// parseBPFProgram reads "N,code jt jf k,..." as libxt_bpf 1.8.9 does with
// sscanf: the count, then each comma-separated instruction; numbers as
// scanf's %hu/%hhu/%u read them (white space first, a sign, wrapped to
// the field's width).
func parseBPFProgram(s string) ([]bpfInstr, error) {
	n, rest, ok := scanUnsigned(s)
	if !ok || rest == "" || rest[0] != ',' {
		return nil, paramErr("bpf: error parsing program length")
	}
	count := uint16(n)
	if count == 0 {
		return nil, paramErr("bpf: illegal zero length program")
	}
	if count > bpfMaxInstr {
		return nil, paramErr("bpf: number of instructions exceeds maximum")
	}
	var prog []bpfInstr
	token := s
	for {
		i := strings.IndexByte(token, ',')
		if i < 0 || i+1 == len(token) {
			break
		}
		token = token[i+1:]
		if len(prog) >= int(count) {
			return nil, paramErr("bpf: real program length exceeds the encoded length parameter")
		}
		var vals [4]uint64
		rest := token
		for f := range vals {
			v, r, ok := scanUnsigned(rest)
			if !ok {
				return nil, paramErr("bpf: error at instr %d", len(prog))
			}
			vals[f], rest = v, r
		}
		prog = append(prog, bpfInstr{code: uint16(vals[0]), jt: uint8(vals[1]), jf: uint8(vals[2]), k: uint32(vals[3])})
	}
	if len(prog) != int(count) {
		return nil, paramErr("bpf: parsed program length is less than the encoded length parameter")
	}
	return prog, nil
}

// scanUnsigned reads one unsigned decimal conversion as glibc's scanf
// does: leading white space skipped, an optional sign, digits (a negative
// number wraps, an overflow saturates), returning what follows it.
func scanUnsigned(s string) (uint64, string, bool) {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, s, false
	}
	v, err := strconv.ParseUint(s[:i], 10, 64)
	if err != nil {
		v = ^uint64(0)
	}
	if neg {
		v = -v
	}
	return v, s[i:], true
}

func (e *bpfMatch) Name() string                          { return "bpf" }
func (e *bpfMatch) Revision() (string, uint8, bool, bool) { return "bpf", 1, false, true }
func (e *bpfMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(528)
	b.u16(2, uint16(len(e.prog)))
	for i, in := range e.prog {
		off := 8 + 8*i
		b.u16(off, in.code)
		b.u8(off+2, in.jt)
		b.u8(off+3, in.jf)
		b.u32(off+4, in.k)
	}
	return xtMatch("bpf", 1, b), nil
}

// code is the program as libxt_bpf prints it: "code jt jf k" joined by
// commas.
func (e *bpfMatch) code() string {
	parts := make([]string, len(e.prog))
	for i, in := range e.prog {
		parts[i] = strconv.Itoa(int(in.code)) + " " + strconv.Itoa(int(in.jt)) + " " + strconv.Itoa(int(in.jf)) + " " + strconv.FormatUint(uint64(in.k), 10)
	}
	return strings.Join(parts, ",")
}

// Save prints as libxt_bpf 1.8.9 does.
func (e *bpfMatch) Save(Context) string {
	return "-m bpf --bytecode \"" + strconv.Itoa(len(e.prog)) + "," + e.code() + "\""
}

// List is libxt_bpf's print, which has no leading space and ends the
// program with a NUL byte (printf's %c of '\0').
func (e *bpfMatch) List(bool) string { return "match bpf " + e.code() + "\x00" }

func decodeBPFBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 1 {
		return nil, decodeErr("xt match bpf rev %d is not supported", rev)
	}
	if err := checkSize("bpf", rev, data, 528); err != nil {
		return nil, err
	}
	b := blob(data)
	n := int(b.get16(2))
	// Only the bytecode mode (0) with its program and nothing after it;
	// the pinned mode names a file descriptor of the writer's process.
	if b.get16(0) != 0 || n == 0 || n > bpfMaxInstr || b.get32(4) != 0 || !b.zero(8+8*n, len(b)-8-8*n) {
		return nil, decodeErr("xt match bpf: unknown data")
	}
	e := &bpfMatch{}
	for i := 0; i < n; i++ {
		off := 8 + 8*i
		e.prog = append(e.prog, bpfInstr{code: b.get16(off), jt: b.get8(off + 2), jf: b.get8(off + 3), k: b.get32(off + 4)})
	}
	return e, nil
}
