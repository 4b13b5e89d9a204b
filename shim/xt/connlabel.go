package xt

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// struct xt_connlabel_mtinfo: bit, options (u16 each).
const (
	connlabelInvert = 0x1 // XT_CONNLABEL_OP_INVERT
	connlabelSet    = 0x2 // XT_CONNLABEL_OP_SET
	// connlabelConf is where libnetfilter_conntrack reads label names.
	connlabelConf = "/etc/xtables/connlabel.conf"
	// connlabelMaxBits is the highest bit number plus one the file may
	// name (libnetfilter_conntrack's MAX_BITS).
	connlabelMaxBits = 1024
)

// connlabels is the label map of connlabelConf as libnetfilter_conntrack
// reads it: names by bit, bits by name; missing tells why there is none
// (the text of the warning libxt_connlabel prints), empty that the file
// names no label, which libxt_connlabel reports as a resource problem
// (exit 4) wherever it looks a name up, in the middle of a listing: such
// rules are left to a real iptables.
type connlabels struct {
	byBit   map[int]string
	byName  map[string]int
	count   int // highest bit named plus one
	missing string
	empty   bool
}

// connlabelFile is the file read; tests point it elsewhere.
var connlabelFile = connlabelConf

func loadConnlabels() *connlabels {
	f, err := os.Open(connlabelFile)
	if err != nil {
		var errno syscall.Errno
		msg := err.Error()
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) && errors.As(pe.Err, &errno) {
			msg = fmt.Sprintf("%s: %s", connlabelFile, strerror(errno))
		}
		return &connlabels{missing: "Warning: cannot open " + msg}
	}
	defer f.Close()
	l := &connlabels{byBit: map[int]string{}, byName: map[string]int{}}
	r := bufio.NewReader(f)
	for {
		// fgets with a 1024-byte buffer: longer lines come in pieces.
		line, err := readPiece(r, 1023)
		if line == "" && err != nil {
			break
		}
		if line[0] == '#' {
			continue
		}
		v, rest, digits, _ := strtoul(line)
		if !digits || v >= connlabelMaxBits {
			continue
		}
		bit := int(v)
		if _, seen := l.byBit[bit]; seen {
			continue
		}
		name := trimLabel(rest)
		if name == "" || !saneLabel(name) {
			continue
		}
		if _, dup := l.byName[name]; dup {
			continue
		}
		l.byName[name], l.byBit[bit] = bit, name
		l.count = max(l.count, bit+1)
	}
	l.empty = len(l.byBit) == 0
	return l
}

// readPiece reads up to n bytes of a line, including its newline.
func readPiece(r *bufio.Reader, n int) (string, error) {
	var b strings.Builder
	for b.Len() < n {
		c, err := r.ReadByte()
		if err != nil {
			return b.String(), err
		}
		b.WriteByte(c)
		if c == '\n' {
			break
		}
	}
	return b.String(), nil
}

func trimLabel(s string) string {
	posixSpace := func(c byte) bool { return c == ' ' || c == '\f' || c == '\r' || c == '\t' || c == '\v' }
	for s != "" && posixSpace(s[0]) {
		s = s[1:]
	}
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	for len(s) > 1 && posixSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// saneLabel is the character set libnetfilter_conntrack accepts in a name.
func saneLabel(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ' ' || c == '-') {
			return false
		}
	}
	return true
}

// strerror is glibc's text for the errors opening a file can give.
func strerror(e syscall.Errno) string {
	switch e {
	case syscall.ENOENT:
		return "No such file or directory"
	case syscall.EACCES:
		return "Permission denied"
	case syscall.ENOTDIR:
		return "Not a directory"
	}
	s := e.Error()
	return strings.ToUpper(s[:1]) + s[1:]
}

// name is libxt_connlabel's connlabel_get_name: the label's name, "" when
// it has none (or the file cannot be read).
func (l *connlabels) name(bit uint16) string {
	if l.missing != "" || l.empty || int(bit) >= l.count {
		return ""
	}
	return l.byBit[int(bit)]
}

// connlabel is -m connlabel. Its names come from connlabelConf; without
// that file libxt_connlabel warns each time it would look one up.
type connlabel struct {
	bit, options uint16
	labels       *connlabels
}

func parseConnlabel(ctx Context, m syntax.Match) (Ext, error) {
	e := &connlabel{}
	haveLabel := false
	for _, o := range m.Options {
		switch o.Name {
		case "label":
			v, err := oneArg(m.Name, o)
			if err != nil {
				return nil, err
			}
			v = cutNUL(v)
			if v == "" {
				return nil, paramErr("Argument must have a minimum length of 1 characters\n")
			}
			n, rest, digits, overflow := strtoul(v)
			tmp := int32(uint32(n))
			if overflow {
				tmp = -1
			}
			if !digits || rest != "" || tmp < 0 {
				// A name: libxt_connlabel looks it up in the label
				// file, and warns on stderr before failing when the
				// file cannot be opened.
				l := loadConnlabels()
				if l.empty {
					return nil, unsupportedOption(m.Name, o.Name+" "+v)
				}
				b, ok := l.byName[v]
				if !ok {
					return nil, warnedParamErr(l.missing, "label '%s' not found or invalid value", v)
				}
				tmp = int32(b)
			}
			e.bit = uint16(tmp)
			haveLabel = true
			if o.Invert {
				e.options |= connlabelInvert
			}
		case "set":
			if err := noArg(m.Name, o); err != nil {
				return nil, err
			}
			e.options |= connlabelSet
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
	}
	if !haveLabel {
		return nil, mustSpecify(m.Name, "label")
	}
	return e, nil
}

// warnedParamErr is a parameter problem printed after the warning line
// warning, if any.
func warnedParamErr(warning, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	d := &syntax.Diagnostic{Form: syntax.FormVersioned, Template: msg}
	if warning != "" {
		d.Prelude = warning + "\n"
	}
	return &ipterr.Error{Class: ipterr.Parameter, Msg: msg, Err: d}
}

func (e *connlabel) Name() string                          { return "connlabel" }
func (e *connlabel) Revision() (string, uint8, bool, bool) { return "connlabel", 0, false, true }

func (e *connlabel) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(4)
	b.u16(0, e.bit)
	b.u16(2, e.options)
	return xtMatch("connlabel", 0, b), nil
}

func (e *connlabel) labelMap() *connlabels {
	if e.labels == nil {
		e.labels = loadConnlabels()
	}
	return e.labels
}

func (e *connlabel) Save(Context) string {
	var b strings.Builder
	b.WriteString("-m connlabel")
	if e.options&connlabelInvert != 0 {
		b.WriteString(" !")
	}
	if n := e.labelMap().name(e.bit); n != "" {
		fmt.Fprintf(&b, " --label \"%s\"", n)
	} else {
		fmt.Fprintf(&b, " --label \"%d\"", e.bit)
	}
	if e.options&connlabelSet != 0 {
		b.WriteString(" --set")
	}
	return b.String()
}

// List prints "connlabel ! 'name' set", the number with -n or without a
// name.
func (e *connlabel) List(numeric bool) string {
	var b strings.Builder
	b.WriteString(" connlabel")
	if e.options&connlabelInvert != 0 {
		b.WriteString(" !")
	}
	if n := e.labelMap().name(e.bit); n != "" && !numeric {
		fmt.Fprintf(&b, " '%s'", n)
	} else {
		fmt.Fprintf(&b, " %d", e.bit)
	}
	if e.options&connlabelSet != 0 {
		b.WriteString(" set")
	}
	return b.String()
}

// Warnings is what libxt_connlabel prints on stderr each time the rule is
// printed (save, -S, -L): that the label file cannot be opened.
func (e *connlabel) Warnings() []string {
	if m := e.labelMap().missing; m != "" {
		return []string{m}
	}
	return nil
}

func decodeConnlabelBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match connlabel rev %d is not supported", rev)
	}
	if err := checkSize("connlabel", rev, data, 4); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &connlabel{bit: b.get16(0), options: b.get16(2)}
	if e.options&^(connlabelInvert|connlabelSet) != 0 || !b.zero(4, len(b)-4) {
		return nil, decodeErr("xt match connlabel: options %#x", e.options)
	}
	if e.labelMap().empty {
		return nil, decodeErr("xt match connlabel: %s names no label", connlabelFile)
	}
	return e, nil
}
