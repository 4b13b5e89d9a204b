package xt

import (
	"fmt"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// Layout of struct xt_cgroup_info_v2: four flag bytes, then a union of
// the path (512 bytes) and the classid, then the kernel's private pointer.
const (
	cgOffUnion  = 4
	cgPathLen   = 512
	cgUserSize  = 520
	cgSize      = 528
	cgMaxUint32 = 0xffffffff
)

// cgroupMatch is -m cgroup, revision 2. The union is kept as bytes: a
// rule giving both --path and --cgroup writes one over the other, as
// libxt_cgroup does (the kernel then refuses the rule).
type cgroupMatch struct {
	hasPath, hasClassid, invPath, invClassid bool
	union                                    [cgPathLen]byte
}

func (e *cgroupMatch) path() string {
	s, _ := blob(e.union[:]).getStr(0, cgPathLen)
	return s
}

func (e *cgroupMatch) classid() uint32 { return blob(e.union[:]).get32(0) }

func parseCgroup(ctx Context, m syntax.Match) (Ext, error) {
	e := &cgroupMatch{}
	for _, o := range m.Options {
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		v = cutNUL(v)
		switch o.Name {
		case "path":
			if len(v) >= cgPathLen {
				v = v[:cgPathLen-1]
			}
			copy(e.union[:], v)
			e.union[len(v)] = 0
			e.hasPath = true
			e.invPath = e.invPath || o.Invert
		case "cgroup":
			n, _, ok := strtoulRange(v, 0, cgMaxUint32, false)
			if !ok {
				return nil, badRange(m.Name, o.Name, 0, cgMaxUint32)
			}
			blob(e.union[:]).u32(0, uint32(n))
			e.hasClassid = true
			e.invClassid = e.invClassid || o.Invert
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
	}
	return e, nil
}

func (e *cgroupMatch) Name() string                          { return "cgroup" }
func (e *cgroupMatch) Revision() (string, uint8, bool, bool) { return "cgroup", 2, false, true }

func boolByte(v bool) uint8 {
	if v {
		return 1
	}
	return 0
}

func (e *cgroupMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(cgSize)
	b.u8(0, boolByte(e.hasPath))
	b.u8(1, boolByte(e.hasClassid))
	b.u8(2, boolByte(e.invPath))
	b.u8(3, boolByte(e.invClassid))
	copy(b[cgOffUnion:], e.union[:])
	return xtMatch("cgroup", 2, b), nil
}

func (e *cgroupMatch) Save(Context) string {
	var b strings.Builder
	b.WriteString("-m cgroup")
	if e.hasPath {
		if e.invPath {
			b.WriteString(" !")
		}
		b.WriteString(" --path")
		b.WriteString(saveString(e.path()))
	}
	if e.hasClassid {
		if e.invClassid {
			b.WriteString(" !")
		}
		fmt.Fprintf(&b, " --cgroup %d", e.classid())
	}
	return b.String()
}

// List is cgroup_print_v2: "cgroup ! /path ! 5".
func (e *cgroupMatch) List(bool) string {
	var b strings.Builder
	b.WriteString(" cgroup")
	if e.hasPath {
		b.WriteString(" " + invertSave(e.invPath) + e.path())
	}
	if e.hasClassid {
		fmt.Fprintf(&b, " %s%d", invertSave(e.invClassid), e.classid())
	}
	return b.String()
}

func decodeCgroupBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 2 {
		return nil, decodeErr("xt match cgroup rev %d is not supported", rev)
	}
	if err := checkSize("cgroup", rev, data, cgSize); err != nil {
		return nil, err
	}
	b := blob(data)
	for i := 0; i < 4; i++ {
		if b[i] > 1 {
			return nil, decodeErr("xt match cgroup: flag byte %d is %d", i, b[i])
		}
	}
	e := &cgroupMatch{hasPath: b[0] == 1, hasClassid: b[1] == 1, invPath: b[2] == 1, invClassid: b[3] == 1}
	copy(e.union[:], b[cgOffUnion:cgOffUnion+cgPathLen])
	if e.hasPath {
		if _, ok := b.getStr(cgOffUnion, cgPathLen); !ok {
			return nil, decodeErr("xt match cgroup: path is not terminated")
		}
	}
	return e, nil
}
