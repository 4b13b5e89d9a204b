package xt

import (
	"math/bits"
	"net/netip"
	"strings"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// Number readers shaped like the C library calls libxtables and the
// extensions use, for the extensions whose options are not xtopt types.

// strtoulRange is libxtables' xtables_strtoul: strtoumax(s, 0) with a leading
// minus refused and min <= v <= max (max 0 for no limit). With tail false
// nothing may follow the number; with tail true the rest is returned.
func strtoulRange(s string, min, max uint64, tail bool) (uint64, string, bool) {
	if strings.HasPrefix(strings.TrimLeft(s, " \t\n\v\f\r"), "-") {
		return 0, "", false
	}
	v, rest, digits, overflow := strtoul(s)
	if !digits || overflow || v < min || (max != 0 && v > max) {
		return 0, "", false
	}
	if !tail && rest != "" {
		return 0, "", false
	}
	return v, rest, true
}

// atoll is C's atoll (strtoll base 10, saturating): leading white space,
// an optional sign, then decimal digits; 0 when there are none.
func atoll(s string) int64 {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var v uint64
	sat := false
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := uint64(s[i] - '0')
		if v > (1<<63-d)/10 {
			sat = true
		}
		v = v*10 + d
	}
	switch {
	case sat && neg:
		return -1 << 63
	case sat:
		return 1<<63 - 1
	case neg:
		return -int64(v)
	}
	return int64(v)
}

// inetAton4 reads an IPv4 address as glibc's getaddrinfo(AI_NUMERICHOST)
// does (inet_aton without trailing text): one to four parts, each a C
// number in any base, the last filling the remaining bytes.
func inetAton4(s string) ([4]byte, bool) {
	var out [4]byte
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return out, false
	}
	var vals []uint64
	for _, p := range parts {
		if p == "" || p[0] < '0' || p[0] > '9' {
			return out, false
		}
		v, rest, digits, overflow := strtoul(p)
		if !digits || overflow || rest != "" {
			return out, false
		}
		vals = append(vals, v)
	}
	last := vals[len(vals)-1]
	lead := vals[:len(vals)-1]
	for _, v := range lead {
		if v > 0xff {
			return out, false
		}
	}
	if last >= 1<<(8*(4-len(lead))) {
		return out, false
	}
	var a uint32
	for i, v := range lead {
		a |= uint32(v) << (24 - 8*i)
	}
	a |= uint32(last)
	out[0], out[1], out[2], out[3] = byte(a>>24), byte(a>>16), byte(a>>8), byte(a)
	return out, true
}

// maskPrefixLen is xtables_ipmask_to_cidr/xtables_ip6mask_to_cidr: the
// prefix length of a contiguous mask, else -1.
func maskPrefixLen(mask []byte) int {
	n := 0
	for i, b := range mask {
		if b == 0xff {
			n += 8
			continue
		}
		ones := bits.LeadingZeros8(^b)
		if b<<ones != 0 {
			return -1
		}
		n += ones
		for _, c := range mask[i+1:] {
			if c != 0 {
				return -1
			}
		}
		return n
	}
	return n
}

// parsePlen is xtopt's XTTYPE_PLEN: a prefix length up to the family's
// address size, or a network mask in address form (a mask that is no
// prefix yields 255, libxtables' -1 in a byte). ok is false when the
// value is neither; unsupported marks address forms this package does
// not read as libc does (IPv6 zones).
func parsePlen(fam syntax.Family, s string) (n uint8, ok bool, unsupported bool) {
	max := uint64(32)
	if fam == syntax.IPv6 {
		max = 128
	}
	if v, _, good := strtoulRange(s, 0, max, false); good {
		return uint8(v), true, false
	}
	if fam == syntax.IPv4 {
		a, good := inetAton4(s)
		if !good {
			return 0, false, false
		}
		return uint8(maskPrefixLen(a[:])), true, false
	}
	if strings.ContainsRune(s, '%') {
		return 0, false, true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() {
		return 0, false, false
	}
	b := a.As16()
	return uint8(maskPrefixLen(b[:])), true, false
}
