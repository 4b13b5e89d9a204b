package xt

import (
	"strconv"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// tcpOptNames are the TCP option names libxt_TCPOPTSTRIP accepts (and -L
// prints without -n), in its table's order.
var tcpOptNames = []struct {
	name string
	num  uint8
}{{"wscale", 3}, {"mss", 2}, {"sack-permitted", 4}, {"sack", 5}, {"timestamp", 8}, {"md5", 19}}

// tcpoptstripSize is struct xt_tcpoptstrip_target_info: a 256-bit map.
const tcpoptstripSize = 32

// tcpoptstrip is -j TCPOPTSTRIP (struct xt_tcpoptstrip_target_info, rev
// 0): the TCP options to strip, one bit each in eight host-order words.
type tcpoptstrip struct{ bmap [8]uint32 }

func (e *tcpoptstrip) has(n int) bool { return e.bmap[n>>5]&(1<<(n&31)) != 0 }

func parseTCPOptStrip(ctx Context, t syntax.Target) (Ext, error) {
	e := &tcpoptstrip{}
	once := onceOnly{}
	for _, o := range t.Options {
		if err := once.use(t.Name, o.Name); err != nil {
			return nil, err
		}
		if o.Name != "strip-options" {
			return nil, unsupportedOption(t.Name, o.Name)
		}
		v, err := oneArg(t.Name, o)
		if err != nil {
			return nil, err
		}
		for _, arg := range strings.Split(cutNUL(v), ",") {
			n := -1
			for _, w := range tcpOptNames {
				if w.name == arg {
					n = int(w.num)
				}
			}
			if n < 0 {
				v, ok := xtStrtoul(arg, 0, 255)
				if !ok {
					return nil, paramErr("Bad TCP option value \"%s\"", arg)
				}
				n = int(v)
			}
			if n < 2 {
				return nil, paramErr("Option value may not be 0 or 1")
			}
			if e.has(n) {
				return nil, paramErr("Option \"%s\" already specified", arg)
			}
			e.bmap[n>>5] |= 1 << (n & 31)
		}
	}
	return e, nil
}

func (e *tcpoptstrip) Name() string                          { return "TCPOPTSTRIP" }
func (e *tcpoptstrip) Revision() (string, uint8, bool, bool) { return "TCPOPTSTRIP", 0, true, true }

func (e *tcpoptstrip) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(tcpoptstripSize)
	for i, w := range e.bmap {
		b.u32(4*i, w)
	}
	return xtTarget("TCPOPTSTRIP", 0, b), nil
}

// list prints the options, by name unless numeric.
func (e *tcpoptstrip) list(numeric bool) string {
	var out []string
	for n := 0; n < 256; n++ {
		if !e.has(n) {
			continue
		}
		s := strconv.Itoa(n)
		if !numeric {
			for _, w := range tcpOptNames {
				if int(w.num) == n {
					s = w.name
				}
			}
		}
		out = append(out, s)
	}
	return strings.Join(out, ",")
}

func (e *tcpoptstrip) empty() bool { return e.bmap == [8]uint32{} }

func (e *tcpoptstrip) Save(Context) string {
	if e.empty() {
		return "-j TCPOPTSTRIP"
	}
	return "-j TCPOPTSTRIP --strip-options " + e.list(true)
}

// List prints "TCPOPTSTRIP options mss,wscale" (nothing for no options).
func (e *tcpoptstrip) List(numeric bool) string {
	if e.empty() {
		return ""
	}
	return " TCPOPTSTRIP options " + e.list(numeric)
}

func decodeTCPOptStripBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt target TCPOPTSTRIP rev %d is not supported", rev)
	}
	if err := checkSize("TCPOPTSTRIP", rev, data, tcpoptstripSize); err != nil {
		return nil, err
	}
	e := &tcpoptstrip{}
	for i := range e.bmap {
		e.bmap[i] = blob(data).get32(4 * i)
	}
	return e, nil
}
