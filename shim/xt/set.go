package xt

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// ipset match flag bits (enum ip_set_kopt): bit 0 inverts, bit n marks
// dimension n as "src".
const (
	ipsetInvMatch = 0x01
	ipsetDimMax   = 6
)

// setMatch is -m set --match-set (struct xt_set_info_match_v4). The blob
// holds the kernel's set index, so encoding and decoding need the
// namespace's ipsets.
type setMatch struct {
	name   string
	dirs   []bool // true = src, per dimension
	invert bool
	// flags is the v4 flags word (ipset_cmd_flags bits below).
	flags uint32
	// packets and bytes are the counter tests (struct
	// ip_set_counter_match: value, op).
	packets, bytes setCounter
}

// setCounter is one counter test; op 0 means none.
type setCounter struct {
	value uint64
	op    uint8
}

// ipset_cmd_flags bits the set match uses, in save order.
var setFlagOpts = []struct {
	opt    string
	bit    uint32
	invert bool // the option is given (and saved) as "! --opt"
}{{"return-nomatch", 0x80, false}, {"update-counters", 0x08, true}, {"update-subcounters", 0x10, true}}

// Counter comparison ops (enum ip_set_counter_op) by option suffix.
const (
	setOpEq = 1
	setOpNe = 2
	setOpLt = 3
	setOpGt = 4
)

var setOpNames = map[uint8]string{setOpEq: "eq", setOpNe: "eq", setOpLt: "lt", setOpGt: "gt"}

func parseSetMatch(ctx Context, m syntax.Match) (Ext, error) {
	var e *setMatch
	var flags uint32
	var packets, bytes setCounter
	for _, o := range m.Options {
		if handled, err := parseSetExtra(m.Name, o, &flags, &packets, &bytes); handled || err != nil {
			if err != nil {
				return nil, err
			}
			continue
		}
		if o.Name != "match-set" {
			return nil, unsupportedOption(m.Name, o.Name)
		}
		if len(o.Args) != 2 {
			return nil, unsupportedOption(m.Name, o.Name)
		}
		e = &setMatch{name: o.Args[0], invert: o.Invert}
		for _, d := range strings.Split(o.Args[1], ",") {
			switch d {
			case "src":
				e.dirs = append(e.dirs, true)
			case "dst":
				e.dirs = append(e.dirs, false)
			default:
				// sic: libxt_set's spelling.
				return nil, paramErr("You must spefify (the comma separated list of) 'src' or 'dst'.")
			}
		}
		if len(e.dirs) > ipsetDimMax {
			return nil, paramErr("Can't be more src/dst options than %d.", ipsetDimMax)
		}
	}
	if e == nil {
		return nil, paramErr("You must specify `--match-set' with proper arguments")
	}
	e.flags, e.packets, e.bytes = flags, packets, bytes
	if ctx.IPSets == nil {
		return nil, unsupportedOption(m.Name, "match-set")
	}
	if _, err := e.index(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *setMatch) Name() string                          { return "set" }
func (e *setMatch) Revision() (string, uint8, bool, bool) { return "set", 4, false, true }

func (e *setMatch) Exprs(ctx Context) ([]expr.Any, error) {
	if ctx.IPSets == nil {
		return nil, unsupportedOption("set", "match-set")
	}
	idx, err := e.index(ctx)
	if err != nil {
		return nil, err
	}
	b := newBlob(44)
	b.u16(0, idx)
	b.u8(2, uint8(len(e.dirs)))
	var flags uint8
	for i, src := range e.dirs {
		if src {
			flags |= 1 << (i + 1)
		}
	}
	if e.invert {
		flags |= ipsetInvMatch
	}
	b.u8(3, flags)
	b.u64(8, e.packets.value)
	b.u8(16, e.packets.op)
	b.u64(24, e.bytes.value)
	b.u8(32, e.bytes.op)
	b.u32(40, e.flags)
	return []expr.Any{&expr.Match{Name: "set", Rev: 4, Info: rawInfo(b)}}, nil
}

func (e *setMatch) Save(Context) string {
	var b strings.Builder
	b.WriteString("-m set")
	dirs := make([]string, len(e.dirs))
	for i, src := range e.dirs {
		dirs[i] = "dst"
		if src {
			dirs[i] = "src"
		}
	}
	writeOpt(&b, e.invert, "--match-set", e.name+" "+strings.Join(dirs, ","))
	for _, f := range setFlagOpts {
		if e.flags&f.bit != 0 {
			writeOpt(&b, f.invert, "--"+f.opt, "")
		}
	}
	for _, c := range []struct {
		name string
		c    setCounter
	}{{"packets", e.packets}, {"bytes", e.bytes}} {
		if c.c.op != 0 {
			writeOpt(&b, c.c.op == setOpNe, "--"+c.name+"-"+setOpNames[c.c.op], strconv.FormatUint(c.c.value, 10))
		}
	}
	return b.String()
}

// decodeSetBlob accepts only the plain form (no counter tests, no
// --return-nomatch or counter-update flags): anything else is refused.
func decodeSetBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 4 {
		return nil, decodeErr("xt match set rev %d is not supported", rev)
	}
	if err := checkSize("set", rev, data, 44); err != nil {
		return nil, err
	}
	b := blob(data)
	dim, flags := b.get8(2), b.get8(3)
	packets := setCounter{b.get64(8), b.get8(16)}
	bytes := setCounter{b.get64(24), b.get8(32)}
	known := uint32(0)
	for _, f := range setFlagOpts {
		known |= f.bit
	}
	if dim == 0 || dim > ipsetDimMax || flags>>(dim+1) != 0 || !b.zero(4, 4) || !b.zero(17, 7) || !b.zero(33, 7) ||
		!b.zero(44, len(b)-44) || packets.op > setOpGt || bytes.op > setOpGt ||
		(packets.op == 0 && packets.value != 0) || (bytes.op == 0 && bytes.value != 0) || b.get32(40)&^known != 0 {
		return nil, decodeErr("xt match set: unknown flags or counter tests")
	}
	if ctx.IPSets == nil {
		return nil, decodeErr("xt match set: no ipset resolver")
	}
	name, err := ctx.IPSets.Name(b.get16(0))
	if err != nil {
		return nil, decodeErr("xt match set: set index %d: %v", b.get16(0), err)
	}
	// The kernel only accepts a set of the rule's family; a set the
	// resolver refuses for this family (or that was renamed or replaced)
	// is not the set the rule was made with.
	if idx, err := ctx.IPSets.Index(name); err != nil || idx != b.get16(0) {
		return nil, decodeErr("xt match set: set index %d (%s) does not resolve back for this family", b.get16(0), name)
	}
	e := &setMatch{name: name, invert: flags&ipsetInvMatch != 0, flags: b.get32(40), packets: packets, bytes: bytes}
	for i := 1; i <= int(dim); i++ {
		e.dirs = append(e.dirs, flags&(1<<i) != 0)
	}
	return e, nil
}

// parseSetExtra handles the set match's flag and counter options; handled
// is false for any other option.
func parseSetExtra(ext string, o syntax.Option, flags *uint32, packets, bytes *setCounter) (bool, error) {
	for _, f := range setFlagOpts {
		if o.Name != f.opt {
			continue
		}
		if err := noArg(ext, o); err != nil {
			return true, err
		}
		// "--update-counters" restates the default; only its negation
		// sets a bit.
		if o.Invert == f.invert {
			*flags |= f.bit
		} else if !f.invert {
			return true, noInvert(ext, o)
		}
		return true, nil
	}
	kind, op, ok := strings.Cut(o.Name, "-")
	if !ok || (kind != "packets" && kind != "bytes") {
		return false, nil
	}
	c := packets
	if kind == "bytes" {
		c = bytes
	}
	v, err := oneArg(ext, o)
	if err != nil {
		return true, err
	}
	n, perr := strconv.ParseUint(v, 10, 64)
	if perr != nil {
		return true, paramErr("Cannot parse %s as a number", v)
	}
	switch op {
	case "eq":
		c.op = setOpEq
		if o.Invert {
			c.op = setOpNe
		}
	case "lt":
		c.op = setOpLt
	case "gt":
		c.op = setOpGt
	default:
		return false, nil
	}
	if o.Invert && op != "eq" {
		return true, noInvert(ext, o)
	}
	c.value = n
	return true, nil
}

// index resolves the set's name. A resolver's own *ipterr.Error (such as
// libxt_set's "wrong family" message) passes through; any other failure is
// reported as libxt_set reports a missing set.
func (e *setMatch) index(ctx Context) (uint16, error) {
	idx, err := ctx.IPSets.Index(e.name)
	var ie *ipterr.Error
	if errors.As(err, &ie) {
		return 0, err
	}
	if err != nil {
		return 0, &ipterr.Error{Class: ipterr.Parameter, Msg: fmt.Sprintf("Set %s doesn't exist.\n", e.name), Err: err}
	}
	return idx, nil
}
