package syntax

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// IsHostName reports whether s has the shape of a host name (letters,
// digits, dots, dashes and underscores, with at least one letter), which
// iptables would look up. A numeric-looking word that is no address (say
// 1.2.3.4.5) fails the lookup in iptables too, so it is not a name here.
func IsHostName(s string) bool {
	letter := false
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letter = true
		case c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_':
		default:
			return false
		}
	}
	return letter
}

// HostLookup resolves a host name to its addresses of a family, as
// getaddrinfo does for iptables (/etc/hosts, then DNS); an error or no
// address means the name does not resolve.
type HostLookup func(host string, fam Family) ([]netip.Addr, error)

// ExpandAddresses turns a command whose -s or -d hold host names or comma
// lists into the commands iptables carries out for it: one per source and
// destination address, sources outer, in the order given and resolved
// (duplicates kept, as iptables keeps them), each name replaced by its
// addresses with the name's mask. A command with one literal address per
// field (or none) comes back alone and untouched. A name that does not
// resolve fails as iptables fails; so does -R with more than one address.
func ExpandAddresses(c *Command, lookup HostLookup) ([]*Command, error) {
	if c.Rule == nil || !needsExpansion(c.Rule.Source) && !needsExpansion(c.Rule.Dest) {
		return []*Command{c}, nil
	}
	srcs, err := expandField(c.Rule.Source, c.Family, lookup)
	if err != nil {
		return nil, err
	}
	dsts, err := expandField(c.Rule.Dest, c.Family, lookup)
	if err != nil {
		return nil, err
	}
	if (c.Rule.Source.Invert || c.Rule.Dest.Invert) && (len(srcs) > 1 || len(dsts) > 1) {
		return nil, errInvertMultiple()
	}
	if c.Op == OpReplace && (len(srcs) > 1 || len(dsts) > 1) {
		return nil, paramErr("Replacement rule does not specify a unique address")
	}
	out := make([]*Command, 0, len(srcs)*len(dsts))
	for _, s := range srcs {
		for _, d := range dsts {
			cc := *c
			r := *c.Rule
			r.Source.Value, r.Dest.Value = s, d
			cc.Rule = &r
			out = append(out, &cc)
		}
	}
	return out, nil
}

func needsExpansion(f Field) bool {
	if !f.Set {
		return false
	}
	if strings.Contains(f.Value, ",") {
		return true
	}
	host, _, _ := strings.Cut(f.Value, "/")
	_, err := netip.ParseAddr(host)
	return err != nil
}

// expandField returns the literal values of one field ("" once when the
// field is not set).
func expandField(f Field, fam Family, lookup HostLookup) ([]string, error) {
	if !f.Set {
		return []string{""}, nil
	}
	var out []string
	for item := range strings.SplitSeq(f.Value, ",") {
		host, mask, hasMask := strings.Cut(item, "/")
		if _, err := netip.ParseAddr(host); err == nil || !IsHostName(host) {
			out = append(out, item)
			continue
		}
		addrs, err := lookup(host, fam)
		if err != nil || len(addrs) == 0 {
			return nil, paramErr("host/network `%s' not found", host)
		}
		for _, a := range addrs {
			v := a.Unmap().String()
			if hasMask {
				v += "/" + mask
			}
			out = append(out, v)
		}
	}
	return out, nil
}

// errInvertMultiple is iptables' refusal of "!" on -s or -d when either
// names more than one address (after host names are resolved).
func errInvertMultiple() error {
	return paramErr("! not allowed with multiple source or destination IP addresses")
}

// CanonicalAddress reads one -s/-d item (ADDR, ADDR/PREFIX, ADDR/MASK, or
// a host name with either) as libxtables does, and returns it in the form
// the rest of the shim reads: a numeric address as Go prints it, with
// "/PREFIX" or "/MASK" when a mask was given, and a host name as it was.
// libxtables reads an IPv4 address with its own parser first ("10" is
// 10.0.0.0, "127.1" is 127.1.0.0, each byte in C's base 0, so "010" is 8),
// then through getaddrinfo (inet_aton's forms: "4294967295"); an IPv6
// address through inet_pton, then getaddrinfo (a scope such as "%lo"). A
// mask is a prefix length in C's base 0 ("0x10", "+8") or an address,
// given back as a decimal length (or the address when not contiguous); a
// null mask makes the host part meaningless ("any/0"), as in iptables.
func CanonicalAddress(item string, fam Family) (string, error) {
	host, mask, hasMask := item, "", false
	if i := strings.LastIndexByte(item, '/'); i >= 0 {
		host, mask, hasMask = item[:i], item[i+1:], true
	}
	suffix := ""
	if hasMask {
		m, ok := parseMask(mask, fam)
		if !ok {
			return "", paramErr("invalid mask `%s' specified", mask)
		}
		if m.Bits() == 0 {
			if fam == IPv6 {
				return "::/0", nil
			}
			return "0.0.0.0/0", nil
		}
		suffix = "/" + strconv.Itoa(m.Bits())
		if m.Bits() < 0 {
			suffix = "/" + m.Addr().String()
		}
	}
	if a, ok := numericAddress(host, fam); ok {
		return a.String() + suffix, nil
	}
	if IsHostName(host) {
		return host + suffix, nil
	}
	return "", paramErr("host/network `%s' not found", host)
}

// parseMask reads a mask: a prefix length, or an address (contiguous or
// not). A non-contiguous mask comes back as a prefix of length -1 with the
// mask as its address.
func parseMask(s string, fam Family) (netip.Prefix, bool) {
	bits := 32
	if fam == IPv6 {
		bits = 128
	}
	var m netip.Addr
	switch {
	case fam == IPv4 && strings.Contains(s, "."):
		a, ok := dottedQuad(s, true)
		if !ok {
			return netip.Prefix{}, false
		}
		m = a
	case fam == IPv6 && strings.Contains(s, ":"):
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return netip.Prefix{}, false
		}
		m = a
	default:
		n, ok := cStrtoul(s, uint64(bits))
		if !ok {
			return netip.Prefix{}, false
		}
		zero := netip.IPv4Unspecified()
		if fam == IPv6 {
			zero = netip.IPv6Unspecified()
		}
		return netip.PrefixFrom(zero, int(n)), true
	}
	b := m.AsSlice()
	ones, ended := 0, false
	for _, x := range b {
		for i := 7; i >= 0; i-- {
			set := x&(1<<i) != 0
			switch {
			case set && ended:
				return netip.PrefixFrom(m, -1), true
			case set:
				ones++
			default:
				ended = true
			}
		}
	}
	return netip.PrefixFrom(m, ones), true
}

// numericAddress is libxtables' numeric reading of an address of fam,
// with getaddrinfo's numeric forms after it.
func numericAddress(s string, fam Family) (netip.Addr, bool) {
	if fam == IPv6 {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is6() {
			return netip.Addr{}, false
		}
		if z := a.Zone(); z != "" && !knownScope(z) {
			return netip.Addr{}, false
		}
		return a.WithZone(""), true
	}
	if a, ok := dottedQuad(s, false); ok {
		return a, true
	}
	return inetAton(s)
}

// knownScope reports whether getaddrinfo accepts zone as the scope of a
// link-local address: a number or an interface of this network namespace.
func knownScope(zone string) bool {
	if _, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return true
	}
	_, err := net.InterfaceByName(zone)
	return err == nil
}

// dottedQuad is libxtables' own IPv4 parser: up to four bytes in C's base
// 0; an address of fewer parts is a network, its missing bytes zero. A
// mask must have all four.
func dottedQuad(s string, isMask bool) (netip.Addr, bool) {
	var b [4]byte
	parts := strings.SplitN(s, ".", 4)
	if isMask && len(parts) != 4 {
		return netip.Addr{}, false
	}
	for i, p := range parts {
		n, ok := cStrtoul(p, 255)
		if !ok {
			return netip.Addr{}, false
		}
		b[i] = byte(n)
	}
	return netip.AddrFrom4(b), true
}

// inetAton reads the numeric forms getaddrinfo takes for IPv4 (glibc's
// inet_aton, exact): a, a.b, a.b.c or a.b.c.d, the last part filling the
// remaining bytes, each part in C's base 0.
func inetAton(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v uint64
	for i, p := range parts {
		if p == "" || p[0] < '0' || p[0] > '9' {
			return netip.Addr{}, false
		}
		last := i == len(parts)-1
		max := uint64(255)
		if last {
			max = 1<<(8*(5-len(parts))) - 1
		}
		n, ok := cStrtoul(p, max)
		if !ok {
			return netip.Addr{}, false
		}
		if last {
			v |= n
		} else {
			v |= n << (8 * (3 - i))
		}
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// cStrtoul is libxtables' xtables_strtoui over a whole string: leading
// white space and '+' allowed, no '-', C's base 0 (0x hexadecimal, a
// leading 0 octal), at most max.
func cStrtoul(s string, max uint64) (uint64, bool) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	if strings.HasPrefix(t, "-") {
		return 0, false
	}
	t = strings.TrimPrefix(t, "+")
	base := 10
	switch {
	case len(t) > 1 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X'):
		base, t = 16, t[2:]
	case len(t) > 1 && t[0] == '0':
		base, t = 8, t[1:]
	}
	if t == "" || t[0] == '+' || t[0] == '-' {
		return 0, false
	}
	n, err := strconv.ParseUint(t, base, 64)
	if err != nil || n > max {
		return 0, false
	}
	return n, true
}
