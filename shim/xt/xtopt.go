package xt

import (
	"net/netip"
	"strings"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// This file holds the libxtables option types (xtoptions.c) that NETMAP,
// DNPT/SNPT, HMARK, TEE, TPROXY and their kin share: whole-string
// integers, host addresses, prefix lengths or masks, ports and strings.

// xtStrtoul is xtables_strtoul with no end pointer: the whole of s is a
// number (base 0, leading white space, no minus sign) between min and max
// (max 0: no upper limit).
func xtStrtoul(s string, min, max uint64) (uint64, bool) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	if strings.HasPrefix(t, "-") {
		return 0, false
	}
	v, rest, digits, overflow := strtoul(s)
	if !digits || overflow || rest != "" || v < min || (max != 0 && v > max) {
		return 0, false
	}
	return v, true
}

// parseXTUint is XTTYPE_UINT8/16/32 with the option's minimum: the
// value, or libxtables' range complaint.
func parseXTUint(ext, opt, s string, min, max uint64) (uint64, error) {
	v, ok := xtStrtoul(s, min, max)
	if !ok {
		return 0, badRange(ext, opt, min, max)
	}
	return v, nil
}

// hostBits is the address length of a family in bits.
func hostBits(f syntax.Family) int {
	if f == syntax.IPv6 {
		return 128
	}
	return 32
}

// parseXTHost is XTTYPE_HOST for a numeric address of the rule's family,
// read as getaddrinfo reads it (IPv4 with inet_aton, so "10.1" is
// 10.0.0.1). Host names would need a resolver, and an address of the
// other family or with a zone takes getaddrinfo paths not modelled here:
// those are left to a real iptables.
func parseXTHost(ctx Context, ext, opt, s string) (netip.Addr, error) {
	if ctx.Family == syntax.IPv4 {
		if a, ok := inetAton(s); ok {
			return a, nil
		}
	} else if a, err := netip.ParseAddr(s); err == nil && a.Is6() && a.Zone() == "" {
		return a, nil
	}
	return netip.Addr{}, unsupportedOption(ext, opt+" "+s)
}

// inetAton is glibc's inet_aton with nothing allowed after the address:
// one to four numbers (C base 0) separated by dots, the last filling the
// remaining bytes.
func inetAton(s string) (netip.Addr, bool) {
	var parts []uint64
	for rest := s; ; {
		if rest == "" || rest[0] < '0' || rest[0] > '9' {
			return netip.Addr{}, false
		}
		v, tail, _, overflow := strtoul(rest)
		if overflow || v > 0xffffffff {
			return netip.Addr{}, false
		}
		parts = append(parts, v)
		if tail == "" {
			break
		}
		if tail[0] != '.' || len(parts) == 4 || v > 0xff {
			return netip.Addr{}, false
		}
		rest = tail[1:]
	}
	last := parts[len(parts)-1]
	if len(parts) > 1 && last >= 1<<(8*(5-len(parts))) {
		return netip.Addr{}, false
	}
	var w uint32
	for i, p := range parts[:len(parts)-1] {
		w |= uint32(p) << (24 - 8*i)
	}
	w |= uint32(last)
	return netip.AddrFrom4([4]byte{byte(w >> 24), byte(w >> 16), byte(w >> 8), byte(w)}), true
}

// parsePlenMask is XTTYPE_PLENMASK: a prefix length (0 to the family's
// bits, any base) or a numeric mask, as the 16-byte mask libxtables stores.
// A mask that is not a prefix leaves libxtables' prefix length at 255,
// which sets every mask byte.
func parsePlenMask(ctx Context, ext, opt, s string) ([16]byte, int, error) {
	var mask [16]byte
	bits := hostBits(ctx.Family)
	n, ok := xtStrtoul(s, 0, uint64(bits))
	if !ok {
		// getaddrinfo with AI_NUMERICHOST: inet_aton or inet_pton.
		m, ok := inetAton(s)
		if ctx.Family == syntax.IPv6 {
			a, err := netip.ParseAddr(s)
			m, ok = a, err == nil && a.Is6() && a.Zone() == ""
		}
		if !ok {
			return mask, 0, paramErr("%s: bad value for option \"--%s\", neither a valid network mask nor valid CIDR (%d-%d).\n", ext, opt, 0, bits)
		}
		l, contiguous := maskPrefix(m.AsSlice())
		if !contiguous {
			return allOnes, 255, nil
		}
		n = uint64(l)
	}
	copy(mask[:], prefixMask(int(n), 128))
	return mask, int(n), nil
}

// maskPrefix returns the number of leading one bits of m, and whether the
// rest is zero.
func maskPrefix(m []byte) (int, bool) {
	n := 0
	for n < len(m)*8 && m[n/8]&(0x80>>(n%8)) != 0 {
		n++
	}
	for i := n; i < len(m)*8; i++ {
		if m[i/8]&(0x80>>(i%8)) != 0 {
			return n, false
		}
	}
	return n, true
}

// hostMask is a parsed XTTYPE_HOSTMASK: the address as given and the mask.
type hostMask struct {
	addr netip.Addr
	mask [16]byte
	plen int // libxtables' hlen: the prefix length, 255 for a non-prefix mask
}

// parseXTHostMask is XTTYPE_HOSTMASK: ADDR[/LEN or /MASK].
func parseXTHostMask(ctx Context, ext, opt, s string) (hostMask, error) {
	host, m, hasMask := strings.Cut(s, "/")
	a, err := parseXTHost(ctx, ext, opt, host)
	if err != nil {
		return hostMask{}, err
	}
	h := hostMask{addr: a, mask: allOnes, plen: hostBits(ctx.Family)}
	if hasMask {
		if h.mask, h.plen, err = parsePlenMask(ctx, ext, opt, m); err != nil {
			return hostMask{}, err
		}
	}
	return h, nil
}

// parseXTPort is XTTYPE_PORT: a decimal port or a service name of any
// protocol.
func parseXTPort(ext, opt, s string) (uint16, error) {
	if n, ok := decimalPort(s); ok {
		return n, nil
	}
	if s == "" || strings.TrimLeft(s, " \t\n\v\f\r+-0123456789") == "" {
		// getaddrinfo's strtoul would take it, wrapping large values.
		return 0, unsupportedOption(ext, opt+" "+s)
	}
	if p, ok := lookupAnyService(s); ok {
		return p, nil
	}
	return 0, paramErr("Port \"%s\" does not resolve to anything.\n", s)
}

func decimalPort(s string) (uint16, bool) {
	if s == "" || len(s) > 5 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return uint16(n), n <= 0xffff
}

// xtString is XTTYPE_STRING stored into a char[size] field: at most
// size-1 bytes are kept.
func xtString(s string, size int) string {
	s = cutNUL(s)
	if len(s) >= size {
		return s[:size-1]
	}
	return s
}

// addrAt reads an address of the family from a 16-byte nf_inet_addr
// field; an IPv4 address must leave the other 12 bytes zero.
func addrAt(f syntax.Family, b []byte) (netip.Addr, bool) {
	if f == syntax.IPv6 {
		a, _ := netip.AddrFromSlice(b[:16])
		return a, true
	}
	a, _ := netip.AddrFromSlice(b[:4])
	return a, blob(b).zero(4, 12)
}

// ntop prints an address as inet_ntop does, which differs from Go for
// IPv6 addresses whose first 96 bits are zero (::a.b.c.d; not :: or ::1,
// whose zero run is longer).
func ntop(a netip.Addr) string {
	if a.Is6() && !a.Is4In6() {
		b := a.As16()
		if blob(b[:]).zero(0, 12) && (b[12] != 0 || b[13] != 0) {
			return "::" + netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}).String()
		}
	}
	return a.String()
}

// xtStrtoulPrefix is xtables_strtoul with an end pointer: the number at
// the start of s (base 0, leading white space, no minus sign) up to max,
// and what follows it.
func xtStrtoulPrefix(s string, max uint64) (uint64, string, bool) {
	if strings.HasPrefix(strings.TrimLeft(s, " \t\n\v\f\r"), "-") {
		return 0, "", false
	}
	v, rest, digits, overflow := strtoul(s)
	if !digits || overflow || v > max {
		return 0, "", false
	}
	return v, rest, true
}

// parseXTMarkMask is XTTYPE_MARKMASK32 (xtables_parse_val_mask without
// names): VALUE[/MASK], the mask all ones when not given.
func parseXTMarkMask(ext, opt, s string) (uint32, uint32, error) {
	bad := paramErr("%s: bad integer value for option \"--%s\", or out of range.\n", ext, opt)
	garbage := paramErr("%s: trailing garbage after value for option \"--%s\".\n", ext, opt)
	v, rest, ok := xtStrtoulPrefix(s, 0xffffffff)
	switch {
	case !ok:
		return 0, 0, bad
	case rest == "":
		return uint32(v), 0xffffffff, nil
	case rest[0] != '/':
		return 0, 0, garbage
	}
	m, rest, ok := xtStrtoulPrefix(rest[1:], 0xffffffff)
	switch {
	case !ok:
		return 0, 0, bad
	case rest != "":
		return 0, 0, garbage
	}
	return uint32(v), uint32(m), nil
}

// onceOnly is libxtables' refusal of an option given twice (the command
// line parser also checks it; this is for callers that bypass it).
type onceOnly map[string]bool

func (o onceOnly) use(ext, opt string) error {
	if o[opt] {
		return paramErr("%s: option \"--%s\" can only be used once.\n", ext, opt)
	}
	o[opt] = true
	return nil
}
