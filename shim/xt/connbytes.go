package xt

import (
	"fmt"
	"math/bits"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// connbytesMatch is -m connbytes (struct xt_connbytes_info): a range of a
// connection's packets, bytes or average packet size, in one or both
// directions. "!" is stored as the range with its ends swapped.
type connbytesMatch struct {
	from, to  uint64
	what, dir uint8
}

var (
	connbytesModes = []string{"packets", "bytes", "avgpkt"}
	connbytesDirs  = []string{"original", "reply", "both"}
)

// parseU64Range reads "a[:b]" as xtopt's XTTYPE_UINT64RC: each number as
// strtoull base 0, the first error naming the rest of the argument.
func parseU64Range(ext, opt, arg string) ([2]uint64, int, error) {
	var r [2]uint64
	n := 0
	for rest := arg; ; {
		if n == len(r) {
			return r, n, paramErr("%s: Too many components for option \"--%s\" (max: %d)\n", ext, opt, len(r))
		}
		num, end := rest, ""
		for i := 0; i < len(rest); i++ {
			if rest[i] == ':' {
				num, end = rest[:i], rest[i:]
				break
			}
		}
		switch {
		case num == "" && n == 1:
			r[n] = ^uint64(0)
		case num == "":
			r[n] = 0
		default:
			v, tail, digits, overflow := strtoul(num)
			if !digits || overflow || num[0] < '0' || num[0] > '9' {
				return r, n, paramErr("%s: bad value for option \"--%s\" near \"%s\", or out of range (0-%d).\n", ext, opt, rest, ^uint64(0))
			}
			if tail != "" {
				return r, n, paramErr("%s: Argument to \"--%s\" has unexpected characters near \"%s\".\n", ext, opt, tail+end)
			}
			r[n] = v
		}
		n++
		if end == "" {
			return r, n, nil
		}
		rest = end[1:]
	}
}

func parseConnbytes(ctx Context, m syntax.Match) (Ext, error) {
	e := &connbytesMatch{}
	var haveRange, haveMode, haveDir bool
	for _, o := range m.Options {
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		switch o.Name {
		case "connbytes":
			r, n, err := parseU64Range(m.Name, o.Name, v)
			if err != nil {
				return nil, err
			}
			e.from, e.to = r[0], ^uint64(0)
			if n == 2 {
				e.to = r[1]
			}
			if e.to < e.from {
				return nil, paramErr("%d should be less than %d", e.from, e.to)
			}
			if o.Invert {
				e.from, e.to = e.to, e.from
			}
			haveRange = true
		case "connbytes-mode":
			i := indexOf(connbytesModes, v)
			if i < 0 {
				return nil, paramErr("Unknown --connbytes-mode `%s'", v)
			}
			e.what, haveMode = uint8(i), true
		case "connbytes-dir":
			i := indexOf(connbytesDirs, v)
			if i < 0 {
				return nil, paramErr("Unknown --connbytes-dir `%s'", v)
			}
			e.dir, haveDir = uint8(i), true
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
	}
	// xtopt checks mandatory options in the table's order.
	switch {
	case !haveRange:
		return nil, mustSpecify("connbytes", "connbytes")
	case !haveDir:
		return nil, mustSpecify("connbytes", "connbytes-dir")
	case !haveMode:
		return nil, mustSpecify("connbytes", "connbytes-mode")
	}
	return e, nil
}

func (e *connbytesMatch) Name() string                          { return "connbytes" }
func (e *connbytesMatch) Revision() (string, uint8, bool, bool) { return "connbytes", 0, false, true }
func (e *connbytesMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(18)
	b.u64(0, e.from)
	b.u64(8, e.to)
	b.u8(16, e.what)
	b.u8(17, e.dir)
	return xtMatch("connbytes", 0, b), nil
}

// rangeText is libxt_connbytes' print_from_to: "! " for a swapped range,
// then from, then ":to" unless to is 0 or the maximum.
func (e *connbytesMatch) rangeText(prefix string) string {
	from, to, inv := e.from, e.to, ""
	if from > to {
		from, to, inv = to, from, "! "
	}
	s := fmt.Sprintf("%s%sconnbytes %d", inv, prefix, from)
	if to != 0 && to < ^uint64(0) {
		s += fmt.Sprintf(":%d", to)
	}
	return s
}

func (e *connbytesMatch) Save(Context) string {
	return fmt.Sprintf("-m connbytes %s --connbytes-mode %s --connbytes-dir %s", e.rangeText("--"), connbytesModes[e.what], connbytesDirs[e.dir])
}

// List prints "! connbytes 10:1000 connbytes mode bytes connbytes direction reply".
func (e *connbytesMatch) List(bool) string {
	return fmt.Sprintf(" %s connbytes mode %s connbytes direction %s", e.rangeText(""), connbytesModes[e.what], connbytesDirs[e.dir])
}

func decodeConnbytesBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match connbytes rev %d is not supported", rev)
	}
	if err := checkSize("connbytes", rev, data, 18); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &connbytesMatch{from: b.get64(0), to: b.get64(8), what: b.get8(16), dir: b.get8(17)}
	if int(e.what) >= len(connbytesModes) || int(e.dir) >= len(connbytesDirs) || !b.zero(18, len(b)-18) {
		return nil, decodeErr("xt match connbytes: mode %d direction %d", e.what, e.dir)
	}
	return e, nil
}

// connlimit flags (XT_CONNLIMIT_INVERT, XT_CONNLIMIT_DADDR).
const (
	connlimitInvert = 0x01
	connlimitDaddr  = 0x02
)

// connlimitMatch is -m connlimit revision 1 (struct xt_connlimit_info):
// the number of connections per source (or destination) prefix. The mask
// field is 16 bytes in both families; libxt_connlimit starts it all ones.
// The kernel's private pointer (bytes 24-31) is not part of the rule.
type connlimitMatch struct {
	mask  [16]byte
	limit uint32
	flags uint32
	ip6   bool
}

func parseConnlimit(ctx Context, m syntax.Match) (Ext, error) {
	e := &connlimitMatch{ip6: ctx.Family == syntax.IPv6}
	for i := range e.mask {
		e.mask[i] = 0xff
	}
	var given []string
	limitSet := false
	for _, o := range m.Options {
		for _, g := range given {
			if g == "connlimit-upto" && o.Name == "connlimit-above" || g == "connlimit-above" && o.Name == "connlimit-upto" ||
				g == "connlimit-saddr" && o.Name == "connlimit-daddr" || g == "connlimit-daddr" && o.Name == "connlimit-saddr" {
				return nil, tableExclusive(m.Name, false, g, o.Name)
			}
		}
		given = append(given, o.Name)
		switch o.Name {
		case "connlimit-upto", "connlimit-above":
			v, err := oneArg(m.Name, o)
			if err != nil {
				return nil, err
			}
			n, tail, ok := strtoulPrefix(v)
			if !ok || tail != "" {
				return nil, badRange(m.Name, o.Name, 0, 0xffffffff)
			}
			e.limit, limitSet = n, true
			// upto is the inverted sense of above; "!" flips either.
			if (o.Name == "connlimit-upto") != o.Invert {
				e.flags |= connlimitInvert
			} else {
				e.flags &^= connlimitInvert
			}
		case "connlimit-mask":
			v, err := oneArg(m.Name, o)
			if err != nil {
				return nil, err
			}
			// A mask with no prefix length leaves libxtables' all-ones
			// mask: the whole address, in all 16 bytes.
			mask, _, err := parsePlenMask(ctx, m.Name, o.Name, cutNUL(v))
			if err != nil {
				return nil, err
			}
			e.mask = mask
		case "connlimit-saddr":
			e.flags &^= connlimitDaddr
		case "connlimit-daddr":
			e.flags |= connlimitDaddr
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
	}
	if !limitSet {
		return nil, paramErr("You must specify \"--connlimit-above\" or \"--connlimit-upto\".")
	}
	return e, nil
}

func (e *connlimitMatch) Name() string                          { return "connlimit" }
func (e *connlimitMatch) Revision() (string, uint8, bool, bool) { return "connlimit", 1, false, true }
func (e *connlimitMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(32)
	copy(b, e.mask[:])
	b.u32(16, e.limit)
	b.u32(20, e.flags)
	return xtMatch("connlimit", 1, b), nil
}

// maskBits is libxt_connlimit's count_bits4/count_bits6: the prefix
// length a mask stands for, counted from its lowest set bit.
func (e *connlimitMatch) maskBits() int {
	words := 1
	if e.ip6 {
		words = 4
	}
	total := 0
	for w := 0; w < words; w++ {
		v := uint32(e.mask[4*w])<<24 | uint32(e.mask[4*w+1])<<16 | uint32(e.mask[4*w+2])<<8 | uint32(e.mask[4*w+3])
		total += 32 - bits.Len32(^v)
	}
	return total
}

func (e *connlimitMatch) Save(Context) string {
	s := fmt.Sprintf("-m connlimit --connlimit-above %d", e.limit)
	if e.flags&connlimitInvert != 0 {
		s = fmt.Sprintf("-m connlimit --connlimit-upto %d", e.limit)
	}
	s += fmt.Sprintf(" --connlimit-mask %d", e.maskBits())
	if e.flags&connlimitDaddr != 0 {
		return s + " --connlimit-daddr"
	}
	return s + " --connlimit-saddr"
}

// List prints "#conn src/32 > 3" or "#conn dst/24 <= 3".
func (e *connlimitMatch) List(bool) string {
	dir, op := "src", ">"
	if e.flags&connlimitDaddr != 0 {
		dir = "dst"
	}
	if e.flags&connlimitInvert != 0 {
		op = "<="
	}
	return fmt.Sprintf(" #conn %s/%d %s %d", dir, e.maskBits(), op, e.limit)
}

func decodeConnlimitBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 1 {
		return nil, decodeErr("xt match connlimit rev %d is not supported", rev)
	}
	if err := checkSize("connlimit", rev, data, 32); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &connlimitMatch{limit: b.get32(16), flags: b.get32(20), ip6: ctx.Family == syntax.IPv6}
	copy(e.mask[:], b[:16])
	if e.flags&^(connlimitInvert|connlimitDaddr) != 0 {
		return nil, decodeErr("xt match connlimit: flags 0x%x", e.flags)
	}
	return e, nil
}
