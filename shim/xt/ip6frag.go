package xt

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// ip6t_frag flags and inverse flags.
const (
	fragIDs   = 0x01
	fragLen   = 0x02
	fragRes   = 0x04
	fragFirst = 0x08
	fragMore  = 0x10
	fragLast  = 0x20

	fragInvIDs = 0x01
	fragInvLen = 0x02
)

// fragMatch is -m frag (struct ip6t_frag): the IPv6 fragment header's
// identification range, length and flags.
type fragMatch struct {
	ids             [2]uint32
	hdrlen          uint32
	flags, invflags uint8
}

func parseFrag(ctx Context, m syntax.Match) (Ext, error) {
	e := &fragMatch{ids: [2]uint32{0, 0xffffffff}}
	var given []string
	for _, o := range m.Options {
		switch o.Name {
		case "fragid":
			v, err := oneArg(m.Name, o)
			if err != nil {
				return nil, err
			}
			r, n, err := parseU32Range(m.Name, o.Name, v)
			if err != nil {
				return nil, err
			}
			if n == 1 {
				r[1] = r[0]
			}
			e.ids = r
			e.flags |= fragIDs
			if o.Invert {
				e.invflags |= fragInvIDs
			}
		case "fraglen":
			v, err := oneArg(m.Name, o)
			if err != nil {
				return nil, err
			}
			n, tail, ok := strtoulPrefix(v)
			if !ok || tail != "" {
				return nil, badRange(m.Name, o.Name, 0, 0xffffffff)
			}
			e.hdrlen = n
			e.flags |= fragLen
			if o.Invert {
				e.invflags |= fragInvLen
			}
		case "fragres", "fragfirst", "fragmore", "fraglast":
			if err := noArg(m.Name, o); err != nil {
				return nil, err
			}
			if o.Name == "fragmore" && indexOf(given, "fraglast") >= 0 || o.Name == "fraglast" && indexOf(given, "fragmore") >= 0 {
				return nil, tableExclusive(m.Name, false, "fragmore", "fraglast")
			}
			e.flags |= map[string]uint8{"fragres": fragRes, "fragfirst": fragFirst, "fragmore": fragMore, "fraglast": fragLast}[o.Name]
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
		given = append(given, o.Name)
	}
	return e, nil
}

func (e *fragMatch) Name() string                          { return "frag" }
func (e *fragMatch) Revision() (string, uint8, bool, bool) { return "frag", 0, false, true }
func (e *fragMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(14)
	b.u32(0, e.ids[0])
	b.u32(4, e.ids[1])
	b.u32(8, e.hdrlen)
	b.u8(12, e.flags)
	b.u8(13, e.invflags)
	return xtMatch("frag", 0, b), nil
}

// flagWords lists the flag options (or -L words) set in e.flags.
func (e *fragMatch) flagWords(words [4]string) string {
	s := ""
	for i, bit := range []uint8{fragRes, fragFirst, fragMore, fragLast} {
		if e.flags&bit != 0 {
			s += " " + words[i]
		}
	}
	return s
}

func (e *fragMatch) Save(Context) string {
	s := "-m frag"
	if !(e.ids[0] == 0 && e.ids[1] == 0xffffffff) {
		s += " " + invertSave(e.invflags&fragInvIDs != 0) + "--fragid " + strconv.FormatUint(uint64(e.ids[0]), 10)
		if e.ids[0] != e.ids[1] {
			s += ":" + strconv.FormatUint(uint64(e.ids[1]), 10)
		}
	}
	if e.flags&fragLen != 0 {
		s += fmt.Sprintf(" %s--fraglen %d", invertSave(e.invflags&fragInvLen != 0), e.hdrlen)
	}
	return s + e.flagWords([4]string{"--fragres", "--fragfirst", "--fragmore", "--fraglast"})
}

// List prints "frag ids:1:42", "frag id:!1 length:!42 reserved first" or
// "frag  first more" (libip6t_frag prints "frag " before the IDs).
func (e *fragMatch) List(bool) string {
	s := " frag " + listIDRange("id", e.ids, e.invflags&fragInvIDs != 0)
	if e.flags&fragLen != 0 {
		inv := ""
		if e.invflags&fragInvLen != 0 {
			inv = "!"
		}
		s += fmt.Sprintf(" length:%s%d", inv, e.hdrlen)
	}
	return s + e.flagWords([4]string{"reserved", "first", "more", "last"})
}

// listIDRange prints a u32 range as libip6t_frag's and libip6t_rt's
// print_ids/print_nums do: nothing for the full unnegated range, "id:5",
// "ids:!1:42".
func listIDRange(name string, r [2]uint32, invert bool) string {
	if r[0] == 0 && r[1] == 0xffffffff && !invert {
		return ""
	}
	inv := ""
	if invert {
		inv = "!"
	}
	if r[0] == r[1] {
		return fmt.Sprintf("%s:%s%d", name, inv, r[0])
	}
	return fmt.Sprintf("%ss:%s%d:%d", name, inv, r[0], r[1])
}

func decodeFragBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match frag rev %d is not supported", rev)
	}
	if err := checkSize("frag", rev, data, 14); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &fragMatch{ids: [2]uint32{b.get32(0), b.get32(4)}, hdrlen: b.get32(8), flags: b.get8(12), invflags: b.get8(13)}
	// What save cannot show would not round-trip: a length without its
	// flag, an inverted range without the IDs flag, unknown bits.
	full := e.ids[0] == 0 && e.ids[1] == 0xffffffff
	if e.flags&^0x3f != 0 || e.invflags&^(fragInvIDs|fragInvLen) != 0 || !b.zero(14, len(b)-14) ||
		e.flags&fragLen == 0 && (e.hdrlen != 0 || e.invflags&fragInvLen != 0) ||
		e.flags&fragIDs == 0 && (!full || e.invflags&fragInvIDs != 0) ||
		e.flags&(fragMore|fragLast) == fragMore|fragLast {
		return nil, decodeErr("xt match frag: flags 0x%x invflags 0x%x", e.flags, e.invflags)
	}
	return e, nil
}

// mhTypes are the Mobility Header types libip6t_mh knows by name (full
// name, short name).
var mhTypes = [][2]string{{"binding-refresh-request", "brr"}, {"home-test-init", "hoti"},
	{"careof-test-init", "coti"}, {"home-test", "hot"}, {"careof-test", "cot"}, {"binding-update", "bu"},
	{"binding-acknowledgement", "ba"}, {"binding-error", "be"}}

// mhType reads one MH type as libip6t_mh's name_to_type: a
// case-insensitive prefix of a name or short name, in the table's order
// (an exact name wins over an earlier prefix match), else a number up to
// 255.
func mhType(s string) (uint8, error) {
	match := -1
	for i := 0; i < 2*len(mhTypes); i++ {
		n := mhTypes[i/2][i%2]
		if len(s) <= len(n) && strings.EqualFold(n[:len(s)], s) {
			if match < 0 || len(n) == len(s) {
				match = i / 2
			}
		}
	}
	if match >= 0 {
		return uint8(match), nil
	}
	v, tail, ok := strtoulPrefix(s)
	if !ok || tail != "" || v > 0xff {
		return 0, paramErr("Invalid MH type `%s'", s)
	}
	return uint8(v), nil
}

// mhMatch is -m mh (struct ip6t_mh): a Mobility Header type range.
type mhMatch struct {
	types  [2]uint8
	invert bool
}

func parseMH(ctx Context, m syntax.Match) (Ext, error) {
	e := &mhMatch{types: [2]uint8{0, 0xff}}
	for _, o := range m.Options {
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		if o.Name != "mh-type" {
			return nil, unsupportedOption(m.Name, o.Name)
		}
		lo, hi, found := strings.Cut(v, ":")
		if !found {
			t, err := mhType(v)
			if err != nil {
				return nil, err
			}
			e.types = [2]uint8{t, t}
		} else {
			e.types = [2]uint8{0, 0xff}
			if lo != "" {
				if e.types[0], err = mhType(lo); err != nil {
					return nil, err
				}
			}
			if hi != "" {
				if e.types[1], err = mhType(hi); err != nil {
					return nil, err
				}
			}
			if e.types[0] > e.types[1] {
				return nil, paramErr("Invalid MH type range (min > max)")
			}
		}
		e.invert = o.Invert
	}
	return e, nil
}

func (e *mhMatch) Name() string                          { return "mh" }
func (e *mhMatch) Revision() (string, uint8, bool, bool) { return "mh", 0, false, true }
func (e *mhMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(3)
	b.u8(0, e.types[0])
	b.u8(1, e.types[1])
	if e.invert {
		b.u8(2, 1)
	}
	return xtMatch("mh", 0, b), nil
}

func (e *mhMatch) full() bool { return e.types[0] == 0 && e.types[1] == 0xff }

func (e *mhMatch) Save(Context) string {
	if e.full() {
		return "-m mh"
	}
	s := "-m mh " + invertSave(e.invert) + "--mh-type " + strconv.Itoa(int(e.types[0]))
	if e.types[0] != e.types[1] {
		s += ":" + strconv.Itoa(int(e.types[1]))
	}
	return s
}

// List prints "mh careof-test:123", "mh !4" (numeric), "mh".
func (e *mhMatch) List(numeric bool) string {
	if e.full() && !e.invert {
		return " mh"
	}
	name := func(t uint8) string {
		if !numeric && int(t) < len(mhTypes) {
			return mhTypes[t][0]
		}
		return strconv.Itoa(int(t))
	}
	s := " mh "
	if e.invert {
		s += "!"
	}
	s += name(e.types[0])
	if e.types[0] != e.types[1] {
		s += ":" + name(e.types[1])
	}
	return s
}

func decodeMHBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match mh rev %d is not supported", rev)
	}
	if err := checkSize("mh", rev, data, 3); err != nil {
		return nil, err
	}
	b := blob(data)
	if b.get8(2) > 1 || !b.zero(3, len(b)-3) {
		return nil, decodeErr("xt match mh: invflags 0x%x", b.get8(2))
	}
	return &mhMatch{types: [2]uint8{b.get8(0), b.get8(1)}, invert: b.get8(2) == 1}, nil
}

// eui64Match is -m eui64: the source address's interface identifier is
// the EUI-64 of the source MAC. Its info is one unused int.
type eui64Match struct{}

func parseEUI64(ctx Context, m syntax.Match) (Ext, error) {
	if len(m.Options) > 0 {
		return nil, unsupportedOption(m.Name, m.Options[0].Name)
	}
	return eui64Match{}, nil
}

func (eui64Match) Name() string                          { return "eui64" }
func (eui64Match) Revision() (string, uint8, bool, bool) { return "eui64", 0, false, true }
func (eui64Match) Exprs(Context) ([]expr.Any, error)     { return xtMatch("eui64", 0, newBlob(4)), nil }
func (eui64Match) Save(Context) string                   { return "-m eui64" }

// List prints nothing: libip6t_eui64 has no print function.
func (eui64Match) List(bool) string { return "" }

func decodeEUI64Blob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match eui64 rev %d is not supported", rev)
	}
	if err := checkSize("eui64", rev, data, 4); err != nil {
		return nil, err
	}
	if !blob(data).zero(0, len(data)) {
		return nil, decodeErr("xt match eui64: info is not zero")
	}
	return eui64Match{}, nil
}
