package xt

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// struct ip6t_srh1 (revision 1, which 1.8.9 writes): next_hdr, hdr_len,
// segs_left, last_entry (u8), tag (u16), then at 8 the previous, next and
// last SID addresses and their masks (in6_addr each), mt_flags and
// mt_invflags (u16) at 104; 108 bytes, padded to 112.
const (
	srhOffAddrs = 8
	srhOffFlags = 104
	srhSize     = 108
	srhFlagMask = 0x3fff
)

// srhNumOpts are the u8/u16 options in libip6t_srh's order: name, the
// field they set (0 next_hdr, 1 hdr_len, 2 segs_left, 3 last_entry, 4 tag)
// and the -L label. Each has bit 1<<index in mt_flags and mt_invflags.
var srhNumOpts = [...]struct {
	name, label string
	field       int
}{
	{"srh-next-hdr", "next-hdr", 0},
	{"srh-hdr-len-eq", "hdr-len-eq", 1}, {"srh-hdr-len-gt", "hdr-len-gt", 1}, {"srh-hdr-len-lt", "hdr-len-lt", 1},
	{"srh-segs-left-eq", "segs-left-eq", 2}, {"srh-segs-left-gt", "segs-left-gt", 2}, {"srh-segs-left-lt", "segs-left-lt", 2},
	{"srh-last-entry-eq", "last-entry-eq", 3}, {"srh-last-entry-gt", "last-entry-gt", 3}, {"srh-last-entry-lt", "last-entry-lt", 3},
	{"srh-tag", "tag", 4},
}

// srhSIDOpts are the SID options, bits 11-13, in order.
var srhSIDOpts = [...]string{"psid", "nsid", "lsid"}

// srh is -m srh (IPv6 segment routing header).
type srh struct {
	fields          [5]uint16 // next_hdr, hdr_len, segs_left, last_entry, tag
	addr, mask      [3][16]byte
	flags, invflags uint16
}

func parseSRH(ctx Context, m syntax.Match) (Ext, error) {
	e := &srh{}
next:
	for _, o := range m.Options {
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		for i, n := range srhNumOpts {
			if o.Name != n.name {
				continue
			}
			max := uint64(0xff)
			if n.field == 4 {
				max = 0xffff
			}
			x, ok := cNumber(v, max)
			if !ok {
				return nil, badRange(m.Name, o.Name, 0, max)
			}
			e.fields[n.field] = uint16(x)
			e.set(i, o.Invert)
			continue next
		}
		for i, n := range srhSIDOpts {
			if o.Name != "srh-"+n {
				continue
			}
			if e.addr[i], e.mask[i], err = parseHostMask6(m.Name, o.Name, v); err != nil {
				return nil, err
			}
			e.set(11+i, o.Invert)
			continue next
		}
		return nil, unsupportedOption(m.Name, o.Name)
	}
	return e, nil
}

func (e *srh) set(bit int, inv bool) {
	e.flags |= 1 << bit
	if inv {
		e.invflags |= 1 << bit
	}
}

// parseHostMask6 reads ADDR[/MASK] as libxtables' XTTYPE_HOSTMASK does for
// IPv6: the address as given (not masked), the mask a prefix length
// (strtoul base 0, 0-128) or a mask address, a mask that is not a prefix
// counting as /128. Host names are left to a real iptables (they need
// the resolver).
func parseHostMask6(ext, opt, s string) (addr, mask [16]byte, err error) {
	host, plen, hasMask := strings.Cut(s, "/")
	a, perr := netip.ParseAddr(host)
	switch {
	case perr == nil && a.Is4():
		return addr, mask, paramErr("getaddrinfo: Address family for hostname not supported\n")
	case perr != nil || a.Zone() != "":
		return addr, mask, unsupportedOption(ext, opt+" "+s)
	}
	addr = a.As16()
	bits := 128
	if hasMask {
		if n, ok := cNumber(plen, 128); ok {
			bits = int(n)
		} else if mk, err := netip.ParseAddr(plen); err == nil && mk.Is6() && mk.Zone() == "" {
			if n, ok := prefixLen(mk.As16()); ok {
				bits = n
			}
		} else {
			return addr, mask, paramErr("%s: bad value for option \"--%s\", neither a valid network mask nor valid CIDR (0-128).\n", ext, opt)
		}
	}
	copy(mask[:], prefixMask(bits, 128))
	return addr, mask, nil
}

// prefixLen is xtables_ip6mask_to_cidr: the prefix length of a
// contiguous mask; ok is false for any other.
func prefixLen(m [16]byte) (int, bool) {
	n := 0
	for n < 128 && m[n/8]&(0x80>>(n%8)) != 0 {
		n++
	}
	for i := n; i < 128; i++ {
		if m[i/8]&(0x80>>(i%8)) != 0 {
			return 0, false
		}
	}
	return n, true
}

func (e *srh) Name() string                          { return "srh" }
func (e *srh) Revision() (string, uint8, bool, bool) { return "srh", 1, false, true }

func (e *srh) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(srhSize)
	for i := 0; i < 4; i++ {
		b.u8(i, uint8(e.fields[i]))
	}
	b.u16(4, e.fields[4])
	for i := range e.addr {
		copy(b[srhOffAddrs+16*i:], e.addr[i][:])
		copy(b[srhOffAddrs+48+16*i:], e.mask[i][:])
	}
	b.u16(srhOffFlags, e.flags)
	b.u16(srhOffFlags+2, e.invflags)
	return xtMatch("srh", 1, b), nil
}

func (e *srh) sid(i int) string {
	n, _ := prefixLen(e.mask[i])
	return ntop6(e.addr[i]) + "/" + strconv.Itoa(n)
}

func (e *srh) Save(Context) string {
	var b strings.Builder
	b.WriteString("-m srh")
	for i, n := range srhNumOpts {
		if e.flags&(1<<i) != 0 {
			writeOpt(&b, e.invflags&(1<<i) != 0, "--"+n.name, strconv.Itoa(int(e.fields[n.field])))
		}
	}
	for i, n := range srhSIDOpts {
		if bit := uint16(1) << (11 + i); e.flags&bit != 0 {
			writeOpt(&b, e.invflags&bit != 0, "--srh-"+n, e.sid(i))
		}
	}
	return b.String()
}

// List prints "srh next-hdr:!17 tag:0 psid ! a::/64 nsid  b::/128".
func (e *srh) List(bool) string {
	var b strings.Builder
	b.WriteString(" srh")
	for i, n := range srhNumOpts {
		if e.flags&(1<<i) != 0 {
			fmt.Fprintf(&b, " %s:%s%d", n.label, bang(e.invflags&(1<<i) != 0), e.fields[n.field])
		}
	}
	for i, n := range srhSIDOpts {
		if bit := uint16(1) << (11 + i); e.flags&bit != 0 {
			fmt.Fprintf(&b, " %s %s %s", n, bang(e.invflags&bit != 0), e.sid(i))
		}
	}
	return b.String()
}

func bang(inv bool) string {
	if inv {
		return "!"
	}
	return ""
}

func decodeSRHBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 1 {
		return nil, decodeErr("xt match srh rev %d is not supported", rev)
	}
	if err := checkSize("srh", rev, data, srhSize); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &srh{flags: b.get16(srhOffFlags), invflags: b.get16(srhOffFlags + 2)}
	for i := 0; i < 4; i++ {
		e.fields[i] = uint16(b.get8(i))
	}
	e.fields[4] = b.get16(4)
	for i := range e.addr {
		copy(e.addr[i][:], b[srhOffAddrs+16*i:])
		copy(e.mask[i][:], b[srhOffAddrs+48+16*i:])
	}
	// Fields save does not show must be as libip6t_srh leaves them
	// (zero); a SID mask must be a prefix to print.
	if e.flags&^srhFlagMask != 0 || e.invflags&^e.flags != 0 || !b.zero(6, 2) || !b.zero(srhSize, len(b)-srhSize) {
		return nil, decodeErr("xt match srh: flags %#x invflags %#x", e.flags, e.invflags)
	}
	var used [5]bool
	for i, n := range srhNumOpts {
		used[n.field] = used[n.field] || e.flags&(1<<i) != 0
	}
	for f, u := range used {
		if !u && e.fields[f] != 0 {
			return nil, decodeErr("xt match srh: field %d set without its option", f)
		}
	}
	for i := range e.addr {
		_, ok := prefixLen(e.mask[i])
		if e.flags&(1<<(11+i)) == 0 && (e.addr[i] != [16]byte{} || e.mask[i] != [16]byte{}) || !ok {
			return nil, decodeErr("xt match srh: %s address or mask", srhSIDOpts[i])
		}
	}
	return e, nil
}

// ntop6 prints an IPv6 address as glibc's inet_ntop does: the longest
// (first) run of two or more zero groups as "::", and the last 32 bits as
// a dotted quad for IPv4-compatible (::a.b.c.d other than ::1) and
// IPv4-mapped addresses.
func ntop6(a [16]byte) string {
	var w [8]uint16
	for i := range w {
		w[i] = uint16(a[2*i])<<8 | uint16(a[2*i+1])
	}
	best, bestLen := -1, 0
	for i := 0; i < 8; {
		if w[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && w[j] == 0 {
			j++
		}
		if j-i > bestLen {
			best, bestLen = i, j-i
		}
		i = j
	}
	if bestLen < 2 {
		best = -1
	}
	var b strings.Builder
	for i := 0; i < 8; i++ {
		if best >= 0 && i >= best && i < best+bestLen {
			if i == best {
				b.WriteByte(':')
			}
			continue
		}
		if i != 0 {
			b.WriteByte(':')
		}
		if i == 6 && best == 0 && (bestLen == 6 || bestLen == 7 && w[7] != 1 || bestLen == 5 && w[5] == 0xffff) {
			fmt.Fprintf(&b, "%d.%d.%d.%d", a[12], a[13], a[14], a[15])
			break
		}
		b.WriteString(strconv.FormatUint(uint64(w[i]), 16))
	}
	if best >= 0 && best+bestLen == 8 {
		b.WriteByte(':')
	}
	return b.String()
}
