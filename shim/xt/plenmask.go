package xt

import (
	"math/bits"
	"net/netip"
	"strings"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// parsePlenMask reads an XTTYPE_PLENMASK option value as libxtables 1.8.9
// does (xtopt_parse_plen): a prefix length of the family (xtables_strtoui:
// leading white space and "+" allowed, 0x hex and leading-0 octal), else a
// numeric address of the family (getaddrinfo with AI_NUMERICHOST) taken as
// a network mask. It returns the prefix length, or -1 for a mask whose
// bits are not contiguous: 1.8.9 then leaves the mask all ones.
func parsePlenMask(ext, opt, v string, fam syntax.Family) (int, error) {
	max := uint32(32)
	if fam == syntax.IPv6 {
		max = 128
	}
	if n, ok := xtablesStrtoui(v, max); ok {
		return int(n), nil
	}
	var mask []byte
	if fam == syntax.IPv6 {
		if a, err := netip.ParseAddr(v); err == nil && a.Is6() && a.Zone() == "" {
			a16 := a.As16()
			mask = a16[:]
		}
	} else if a, ok := inetAtonExact(v); ok {
		mask = a[:]
	}
	if mask == nil {
		return 0, paramErr("%s: bad value for option \"--%s\", neither a valid network mask nor valid CIDR (0-%d).\n", ext, opt, max)
	}
	return maskPrefixLen(mask), nil
}

// maskPrefixLen is xtables_ipmask_to_cidr / xtables_ip6mask_to_cidr: the
// number of leading one bits when the rest are zeros, else -1.
func maskPrefixLen(mask []byte) int {
	n := 0
	for n < len(mask)*8 && mask[n/8]&(0x80>>(n%8)) != 0 {
		n++
	}
	for i := n; i < len(mask)*8; i++ {
		if mask[i/8]&(0x80>>(i%8)) != 0 {
			return -1
		}
	}
	return n
}

// xtablesStrtoui is xtables_strtoui without an end pointer: the whole
// string as strtoumax reads it with base 0 (leading white space and a
// "+" allowed, a "-" not), at most max.
func xtablesStrtoui(s string, max uint32) (uint32, bool) {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	s = strings.TrimPrefix(s, "+")
	n, tail, ok := strtoulPrefix(s)
	return n, ok && tail == "" && n <= max
}

// inetAtonExact reads an IPv4 address as glibc's inet_aton_exact does
// (what getaddrinfo with AI_NUMERICHOST accepts): one to four parts, each
// a C number (0x hex, leading-0 octal), the last filling the bytes the
// others leave, nothing after it.
func inetAtonExact(s string) ([4]byte, bool) {
	var parts []uint32
	for {
		if s == "" || s[0] < '0' || s[0] > '9' {
			return [4]byte{}, false
		}
		v, tail, ok := strtoulPrefix(s)
		if !ok {
			return [4]byte{}, false
		}
		parts = append(parts, v)
		s = tail
		if s == "" {
			break
		}
		if s[0] != '.' || len(parts) == 4 || v > 0xff {
			return [4]byte{}, false
		}
		s = s[1:]
	}
	last := parts[len(parts)-1]
	if bits.Len32(last) > 8*(5-len(parts)) {
		return [4]byte{}, false
	}
	val := last
	for i, p := range parts[:len(parts)-1] {
		val |= p << (24 - 8*i)
	}
	return [4]byte{byte(val >> 24), byte(val >> 16), byte(val >> 8), byte(val)}, true
}
