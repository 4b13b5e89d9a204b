package nftread

import (
	"fmt"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// AddrMask is an address and its mask, both in network byte order and of
// the family's length, with the address already masked (as iptables stores
// it: "-s 10.1.2.3/8" becomes 10.0.0.0/8).
type AddrMask struct {
	// Addr and Mask are of the family's address length.
	Addr, Mask []byte
}

// ParseAddrMask parses the value of -s/-d: ADDR, ADDR/PREFIX or
// ADDR/DOTTED-MASK. Host names and comma lists (which iptables expands to
// several rules) are outside what the native backend encodes.
func ParseAddrMask(fam syntax.Family, v string) (AddrMask, error) {
	if strings.Contains(v, ",") {
		return AddrMask{}, Unsupportedf("address list %q (expands to several rules)", v)
	}
	a, m, hasMask := strings.Cut(v, "/")
	ip, err := netip.ParseAddr(a)
	if err != nil && !looksNumeric(a) {
		return AddrMask{}, Unsupportedf("host/network `%s' (names are not resolved natively)", a)
	}
	if err != nil || (fam == syntax.IPv4) != ip.Is4() {
		return AddrMask{}, Paramf("host/network `%s' not found", a)
	}
	n := ip.BitLen()
	mask := make([]byte, n/8)
	switch {
	case !hasMask:
		fillPrefix(mask, n)
	case isDecimal(m):
		p, _ := strconv.Atoi(m)
		if p > n {
			return AddrMask{}, Paramf("invalid mask `%s' specified", m)
		}
		fillPrefix(mask, p)
	default:
		mip, err := netip.ParseAddr(m)
		if err != nil || mip.BitLen() != n {
			return AddrMask{}, Paramf("invalid mask `%s' specified", m)
		}
		copy(mask, mip.AsSlice())
	}
	addr := ip.AsSlice()
	for i := range addr {
		addr[i] &= mask[i]
	}
	return AddrMask{Addr: addr, Mask: mask}, nil
}

func looksNumeric(s string) bool {
	return strings.ContainsAny(s, ":") || strings.Trim(s, "0123456789.") == ""
}

func isDecimal(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func fillPrefix(mask []byte, p int) {
	for i := range mask {
		switch {
		case p >= 8:
			mask[i] = 0xff
			p -= 8
		case p > 0:
			mask[i] = byte(0xff << (8 - p))
			p = 0
		}
	}
}

// prefixLen returns the prefix length of a contiguous mask, -1 otherwise.
func prefixLen(mask []byte) int {
	n, ended := 0, false
	for _, b := range mask {
		if ended && b != 0 {
			return -1
		}
		ones := bits.LeadingZeros8(^b)
		if b != byte(0xff<<(8-ones)) && ones != 8 {
			return -1
		}
		n += ones
		if ones < 8 {
			ended = true
		}
	}
	return n
}

// String renders the address as iptables-save does: ADDR/PREFIX, or
// ADDR/MASK for a non-contiguous mask.
func (am AddrMask) String() string {
	ip, _ := netip.AddrFromSlice(am.Addr)
	if p := prefixLen(am.Mask); p >= 0 {
		return fmt.Sprintf("%s/%d", ip, p)
	}
	m, _ := netip.AddrFromSlice(am.Mask)
	return ip.String() + "/" + m.String()
}
