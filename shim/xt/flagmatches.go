package xt

import (
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// This file holds the matches whose whole info is a byte of flags, one
// flag option each (socket, rpfilter), and devgroup.

// flagMatch is a match whose info is one byte of flags set by options
// without arguments, printed in a fixed order.
type flagMatch struct {
	name  string
	rev   uint8
	flags uint8
	spec  *flagSpec
}

// flagSpec describes one such match: its options with their bits, in the
// order save prints them, and the word -L prints before them.
type flagSpec struct {
	name, listWord string
	rev            uint8
	opts           []flagOpt
	// listPrefix is what -L prints before each option's name ("--" for
	// socket, which prints its save form).
	listPrefix string
}

type flagOpt struct {
	name string
	bit  uint8
}

// socketSpec is -m socket revision 3 (struct xt_socket_mtinfo3).
var socketSpec = &flagSpec{name: "socket", listWord: "socket", rev: 3, listPrefix: "--", opts: []flagOpt{
	{"transparent", 1 << 0}, {"nowildcard", 1 << 1}, {"restore-skmark", 1 << 2},
}}

// rpfilterSpec is -m rpfilter (struct xt_rpfilter_info, revision 0).
var rpfilterSpec = &flagSpec{name: "rpfilter", listWord: "rpfilter", rev: 0, opts: []flagOpt{
	{"loose", 1 << 0}, {"validmark", 1 << 1}, {"accept-local", 1 << 2}, {"invert", 1 << 3},
}}

func (s *flagSpec) mask() uint8 {
	var m uint8
	for _, o := range s.opts {
		m |= o.bit
	}
	return m
}

func parseFlagMatch(spec *flagSpec) matchParser {
	return func(ctx Context, m syntax.Match) (Ext, error) {
		e := &flagMatch{name: spec.name, rev: spec.rev, spec: spec}
		for _, o := range m.Options {
			if err := noArg(m.Name, o); err != nil {
				return nil, err
			}
			found := false
			for _, f := range spec.opts {
				if f.name == o.Name {
					e.flags |= f.bit
					found = true
				}
			}
			if !found {
				return nil, unsupportedOption(m.Name, o.Name)
			}
		}
		return e, nil
	}
}

func (e *flagMatch) Name() string { return e.name }
func (e *flagMatch) Revision() (string, uint8, bool, bool) {
	return e.name, e.rev, false, true
}

func (e *flagMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(1)
	b.u8(0, e.flags)
	return xtMatch(e.name, uint32(e.rev), b), nil
}

func (e *flagMatch) optionsText(prefix string) string {
	var b strings.Builder
	for _, f := range e.spec.opts {
		if e.flags&f.bit != 0 {
			b.WriteString(" " + prefix + f.name)
		}
	}
	return b.String()
}

func (e *flagMatch) Save(Context) string { return "-m " + e.name + e.optionsText("--") }

// List prints "socket --transparent" or "rpfilter loose invert".
func (e *flagMatch) List(bool) string {
	return " " + e.spec.listWord + e.optionsText(e.spec.listPrefix)
}

func decodeFlagBlob(spec *flagSpec) blobDecoder {
	return func(ctx Context, rev uint32, data []byte) (Ext, error) {
		if rev != uint32(spec.rev) {
			return nil, decodeErr("xt match %s rev %d is not supported", spec.name, rev)
		}
		if err := checkSize(spec.name, rev, data, 1); err != nil {
			return nil, err
		}
		b := blob(data)
		if b[0]&^spec.mask() != 0 || !b.zero(1, len(b)-1) {
			return nil, decodeErr("xt match %s: flags %#x", spec.name, b[0])
		}
		return &flagMatch{name: spec.name, rev: spec.rev, flags: b[0], spec: spec}, nil
	}
}

// devgroup flags (XT_DEVGROUP_*).
const (
	devgroupMatchSrc  = 0x1
	devgroupInvertSrc = 0x2
	devgroupMatchDst  = 0x4
	devgroupInvertDst = 0x8
)

// devgroupsFile is iproute2's device group names, which libxt_devgroup
// reads and prints (also in save) unless -n.
const devgroupsFile = "/etc/iproute2/group"

// devgroupMatch is -m devgroup (struct xt_devgroup_info).
type devgroupMatch struct {
	flags, srcGroup, srcMask, dstGroup, dstMask uint32
}

func parseDevgroup(ctx Context, m syntax.Match) (Ext, error) {
	e := &devgroupMatch{}
	for _, o := range m.Options {
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		g, mask, err := parseValMask(m.Name, o.Name, cutNUL(v), devgroupsFile)
		if err != nil {
			return nil, err
		}
		switch o.Name {
		case "src-group":
			e.srcGroup, e.srcMask = g, mask
			e.flags |= devgroupMatchSrc
			if o.Invert {
				e.flags |= devgroupInvertSrc
			}
		case "dst-group":
			e.dstGroup, e.dstMask = g, mask
			e.flags |= devgroupMatchDst
			if o.Invert {
				e.flags |= devgroupInvertDst
			}
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
	}
	if len(m.Options) == 0 {
		return nil, paramErr("devgroup match: You must specify either '--src-group' or '--dst-group'")
	}
	return e, nil
}

func (e *devgroupMatch) Name() string                          { return "devgroup" }
func (e *devgroupMatch) Revision() (string, uint8, bool, bool) { return "devgroup", 0, false, true }

func (e *devgroupMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(20)
	b.u32(0, e.flags)
	b.u32(4, e.srcGroup)
	b.u32(8, e.srcMask)
	b.u32(12, e.dstGroup)
	b.u32(16, e.dstMask)
	return xtMatch("devgroup", 0, b), nil
}

// show is devgroup_show: each group with its "!" and the name or
// value[/mask] libxtables prints.
func (e *devgroupMatch) show(prefix string, numeric bool) string {
	var b strings.Builder
	if e.flags&devgroupMatchSrc != 0 {
		if e.flags&devgroupInvertSrc != 0 {
			b.WriteString(" !")
		}
		b.WriteString(" " + prefix + "src-group " + valMaskText(e.srcGroup, e.srcMask, numeric, devgroupsFile))
	}
	if e.flags&devgroupMatchDst != 0 {
		if e.flags&devgroupInvertDst != 0 {
			b.WriteString(" !")
		}
		b.WriteString(" " + prefix + "dst-group " + valMaskText(e.dstGroup, e.dstMask, numeric, devgroupsFile))
	}
	return b.String()
}

func (e *devgroupMatch) Save(Context) string { return "-m devgroup" + e.show("--", false) }

// List prints "src-group default ! dst-group 0x2/0xff".
func (e *devgroupMatch) List(numeric bool) string { return e.show("", numeric) }

func decodeDevgroupBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match devgroup rev %d is not supported", rev)
	}
	if err := checkSize("devgroup", rev, data, 20); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &devgroupMatch{flags: b.get32(0), srcGroup: b.get32(4), srcMask: b.get32(8), dstGroup: b.get32(12), dstMask: b.get32(16)}
	if e.flags&^uint32(0xf) != 0 || !b.zero(20, len(b)-20) {
		return nil, decodeErr("xt match devgroup: flags %#x", e.flags)
	}
	return e, nil
}
