package syntax

import (
	"net/netip"
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
