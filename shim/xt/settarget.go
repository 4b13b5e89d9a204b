package xt

import (
	"strconv"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// SET target flags (enum ipset_cmd_flags) and the unused set index.
const (
	ipsetFlagExist   = 0x01
	ipsetMapMark     = 0x100
	ipsetMapPrio     = 0x200
	ipsetMapQueue    = 0x400
	ipsetInvalidID   = 0xffff
	setTargetV3Size  = 20
	setNoTimeout     = 0xffffffff
	setTargetMapMask = ipsetMapMark | ipsetMapPrio | ipsetMapQueue
)

// setRef is one struct xt_set_info of the SET target: a set by name and
// its src/dst directions; unused when name is "".
type setRef struct {
	name string
	dirs []bool
}

// setTarget is -j SET (struct xt_set_info_target_v3, revision 3).
type setTarget struct {
	add, del, mapSet setRef
	flags, timeout   uint32
}

func parseSetDirs(s string) ([]bool, error) {
	var dirs []bool
	for _, d := range strings.Split(s, ",") {
		switch d {
		case "src":
			dirs = append(dirs, true)
		case "dst":
			dirs = append(dirs, false)
		default:
			return nil, paramErr("You must spefify (the comma separated list of) 'src' or 'dst'.")
		}
	}
	if len(dirs) > ipsetDimMax {
		return nil, paramErr("Can't be more src/dst options than %d.", ipsetDimMax)
	}
	return dirs, nil
}

func parseSetTarget(ctx Context, t syntax.Target) (Ext, error) {
	e := &setTarget{timeout: setNoTimeout}
	haveTimeout := false
	for _, o := range t.Options {
		switch o.Name {
		case "add-set", "del-set", "map-set":
			if len(o.Args) != 2 {
				return nil, unsupportedOption(t.Name, o.Name)
			}
			dirs, err := parseSetDirs(o.Args[1])
			if err != nil {
				return nil, err
			}
			r := setRef{name: o.Args[0], dirs: dirs}
			if ctx.IPSets == nil {
				return nil, unsupportedOption(t.Name, o.Name)
			}
			if _, err := (&setMatch{name: r.name}).index(ctx); err != nil {
				return nil, err
			}
			switch o.Name {
			case "add-set":
				e.add = r
			case "del-set":
				e.del = r
			default:
				e.mapSet = r
			}
		case "timeout":
			v, err := oneArg(t.Name, o)
			if err != nil {
				return nil, err
			}
			n, tail, ok := strtoulPrefix(v)
			if !ok || tail != "" {
				return nil, badRange(t.Name, o.Name, 0, 0xffffffff)
			}
			e.timeout, haveTimeout = n, true
		case "exist":
			e.flags |= ipsetFlagExist
		case "map-mark":
			e.flags |= ipsetMapMark
		case "map-prio":
			e.flags |= ipsetMapPrio
		case "map-queue":
			e.flags |= ipsetMapQueue
		default:
			return nil, unsupportedOption(t.Name, o.Name)
		}
	}
	switch {
	case e.add.name == "" && e.del.name == "" && e.mapSet.name == "":
		return nil, paramErr("You must specify either `--add-set' or `--del-set'")
	case e.add.name == "" && e.flags&ipsetFlagExist != 0:
		return nil, paramErr("Flag `--exist' can be used with `--add-set' only")
	case e.add.name == "" && haveTimeout:
		return nil, paramErr("Option `--timeout' can be used with `--add-set' only")
	case e.mapSet.name == "" && e.flags&setTargetMapMask != 0:
		return nil, paramErr("Flags `--map-mark', `--map-prio' and `--map-queue' can be used with `--map-set' only")
	}
	return e, nil
}

func (e *setTarget) Name() string                          { return "SET" }
func (e *setTarget) Revision() (string, uint8, bool, bool) { return "SET", 3, true, true }

func (e *setTarget) Exprs(ctx Context) ([]expr.Any, error) {
	b := newBlob(setTargetV3Size)
	for i, r := range []setRef{e.add, e.del, e.mapSet} {
		off := 4 * i
		if r.name == "" {
			b.u16(off, ipsetInvalidID)
			continue
		}
		if ctx.IPSets == nil {
			return nil, unsupportedOption("SET", "add-set")
		}
		idx, err := (&setMatch{name: r.name}).index(ctx)
		if err != nil {
			return nil, err
		}
		b.u16(off, idx)
		b.u8(off+2, uint8(len(r.dirs)))
		var flags uint8
		for d, src := range r.dirs {
			if src {
				flags |= 1 << (d + 1)
			}
		}
		b.u8(off+3, flags)
	}
	b.u32(12, e.flags)
	b.u32(16, e.timeout)
	return xtTarget("SET", 3, b), nil
}

// options renders as libxt_SET saves ("--") or prints ("") it.
func (e *setTarget) options(dashes string) string {
	var b strings.Builder
	ref := func(opt string, r setRef) {
		if r.name == "" {
			return
		}
		dirs := make([]string, len(r.dirs))
		for i, src := range r.dirs {
			dirs[i] = "dst"
			if src {
				dirs[i] = "src"
			}
		}
		b.WriteString(" " + dashes + opt + " " + r.name + " " + strings.Join(dirs, ","))
	}
	ref("add-set", e.add)
	if e.add.name != "" {
		if e.flags&ipsetFlagExist != 0 {
			b.WriteString(" " + dashes + "exist")
		}
		if e.timeout != setNoTimeout {
			b.WriteString(" " + dashes + "timeout " + strconv.FormatUint(uint64(e.timeout), 10))
		}
	}
	ref("del-set", e.del)
	ref("map-set", e.mapSet)
	for _, f := range []struct {
		bit  uint32
		name string
	}{{ipsetMapMark, "map-mark"}, {ipsetMapPrio, "map-prio"}, {ipsetMapQueue, "map-queue"}} {
		if e.flags&f.bit != 0 {
			b.WriteString(" " + dashes + f.name)
		}
	}
	return b.String()
}

func (e *setTarget) Save(Context) string { return "-j SET" + e.options("--") }

// List prints as libxt_SET's print does: "add-set s1 src exist".
func (e *setTarget) List(bool) string { return e.options("") }

func decodeSetTargetBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 3 {
		return nil, decodeErr("xt target SET rev %d is not supported", rev)
	}
	if err := checkSize("SET", rev, data, setTargetV3Size); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &setTarget{flags: b.get32(12), timeout: b.get32(16)}
	if e.flags&^(ipsetFlagExist|setTargetMapMask) != 0 || !b.zero(20, len(b)-20) {
		return nil, decodeErr("xt target SET: unknown flags")
	}
	for i, r := range []*setRef{&e.add, &e.del, &e.mapSet} {
		off := 4 * i
		idx, dim, flags := b.get16(off), b.get8(off+2), b.get8(off+3)
		if idx == ipsetInvalidID {
			continue
		}
		if dim == 0 || dim > ipsetDimMax || flags&1 != 0 || flags>>(dim+1) != 0 {
			return nil, decodeErr("xt target SET: bad set dimensions")
		}
		if ctx.IPSets == nil {
			return nil, decodeErr("xt target SET: no ipset resolver")
		}
		name, err := ctx.IPSets.Name(idx)
		if err != nil {
			return nil, decodeErr("xt target SET: set index %d: %v", idx, err)
		}
		r.name = name
		for d := 1; d <= int(dim); d++ {
			r.dirs = append(r.dirs, flags&(1<<d) != 0)
		}
	}
	if e.add.name == "" && e.del.name == "" && e.mapSet.name == "" {
		return nil, decodeErr("xt target SET: no set")
	}
	return e, nil
}
