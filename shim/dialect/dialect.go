// Package dialect names the ways iptables-nft versions encode the same
// iptables rule in nf_tables, and maps versions to them.
//
// Every iptables-nft version reads back what it writes, but not always what
// another version writes: iptables-nft 1.8.7 reads a native `meta mark`
// match as nothing at all, so a rule written by 1.8.8 or later,
// `-m mark --mark 0x8000/0x8000 -j DROP`, becomes `-j DROP` in its save
// output, and kube-proxy restoring that output drops every packet
// (kubernetes/kubernetes#112477). The shim reads every dialect and writes
// the host's own; docs/dialects.md has the mapping per extension.
package dialect

import (
	"fmt"
	"strconv"
	"strings"
)

// Dialect is an encoding, named by the oldest iptables-nft version that
// writes it. The zero value is V189, the shim's default.
type Dialect string

const (
	// V187 is iptables-nft 1.8.0 to 1.8.7: tcp/udp ports and flags as xt
	// tcp/udp rev 0 matches, -m mark as xt mark rev 1; base matches in
	// the order iifname, oifname, l4proto, saddr, daddr. Every later
	// version reads it.
	V187 Dialect = "1.8.7"
	// V189 is iptables-nft 1.8.8 to 1.8.10: tcp/udp ports and flags as
	// payload/cmp/range/bitwise, -m mark as meta mark [bitwise] cmp.
	V189 Dialect = "1.8.9"
	// V1811 is iptables-nft 1.8.11: as V189, but an IPv4 -p is a 1-byte
	// network-header payload load at offset 9 instead of meta l4proto,
	// and the base matches come in the order saddr, daddr, iifname,
	// oifname, protocol.
	V1811 Dialect = "1.8.11"
)

// All are the dialects, oldest first.
var All = []Dialect{V187, V189, V1811}

// Auto is the setting value that asks for the host's dialect to be
// detected.
const Auto = "auto"

// Or returns d, or V189 when d is empty.
func (d Dialect) Or() Dialect {
	if d == "" {
		return V189
	}
	return d
}

// String is the dialect's name, "1.8.9" for the zero value.
func (d Dialect) String() string { return string(d.Or()) }

// Parse reads a setting value: "auto" (returned as ""), a dialect's name,
// or any iptables version from 1.8.0 on ("1.8.8" is V189), with or
// without a leading "v".
func Parse(s string) (Dialect, error) {
	if s == Auto {
		return "", nil
	}
	d, ok := OfVersion(s)
	if !ok {
		return "", fmt.Errorf("nft-dialect %q is not auto, 1.8.7, 1.8.9 or 1.8.11", s)
	}
	return d, nil
}

// OfVersion maps an iptables version ("1.8.7", "v1.8.11", Debian's
// "1.8.9-2") to the dialect its nft variant writes. Versions before 1.8.0
// have no nft variant; versions after 1.8.11 are taken to write 1.8.11's
// dialect until known otherwise.
func OfVersion(v string) (Dialect, bool) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	if i := strings.IndexAny(v, "-+~ "); i >= 0 {
		v = v[:i]
	}
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return "", false
	}
	var n [3]int
	for i, p := range parts {
		x, err := strconv.Atoi(p)
		if err != nil || x < 0 {
			return "", false
		}
		n[i] = x
	}
	switch {
	case n[0] != 1 || n[1] < 8:
		if n[0] > 1 {
			return V1811, true
		}
		return "", false
	case n[1] > 8 || n[2] >= 11:
		return V1811, true
	case n[2] >= 8:
		return V189, true
	}
	return V187, true
}

// ReadsNativeMatches reports whether iptables-nft of dialect reader
// understands the native forms (payload tcp/udp, meta mark) that dialect
// writer uses. 1.8.7 does not: it drops the native matches it meets
// silently.
func ReadsNativeMatches(reader, writer Dialect) bool {
	return reader.Or() != V187 || writer.Or() == V187
}

// Skew says in words for doctor what running the image's iptables-nft
// (version imageVersion, dialect image) on a host of dialect host does; ""
// when they speak the same dialect.
func Skew(imageVersion string, image, host Dialect) string {
	image, host = image.Or(), host.Or()
	switch {
	case image == host:
		return ""
	case Misreads(image, host) != "":
		return fmt.Sprintf("this image's iptables-nft %s misreads the host's %s rules: kube-proxy would rewrite KUBE-FIREWALL as drop-all (kubernetes#112477)", imageVersion, host)
	case Misreads(host, image) != "":
		return fmt.Sprintf("the host's iptables-nft %s misreads what this image's %s writes: the host's own iptables-save would show kubelet's KUBE-FIREWALL as drop-all, and write it back so (kubernetes#112477)", host, imageVersion)
	}
	return fmt.Sprintf("this image's iptables-nft %s writes another dialect than the host's %s; each reads the other's rules", imageVersion, host)
}

// Misreads describes, in words for doctor, how iptables-nft of dialect
// reader misreads rules written in dialect writer; "" when it reads them
// as written.
func Misreads(reader, writer Dialect) string {
	reader, writer = reader.Or(), writer.Or()
	switch {
	case reader == writer:
		return ""
	case reader == V187:
		return fmt.Sprintf("iptables-nft %s drops the native -m mark and --dport/--sport matches %s writes: kube-proxy would rewrite KUBE-FIREWALL as drop-all (kubernetes#112477)", reader, writer)
	}
	// 1.8.8 and later read each other's forms (measured with the real
	// 1.8.9 and 1.8.11 binaries both ways).
	return ""
}

// Clue is one observation about which dialect wrote the host's rules.
type Clue struct {
	// Hint is what the observation allows: a dialect, or a bound.
	Hint Hint `json:"hint,omitempty"`
	// What says where it was seen, for doctor: "filter KUBE-FIREWALL rule
	// 1: -m mark stored as xt mark rev 1".
	What string `json:"what"`
	// Rule is the rule it was seen in, when it was seen in one: what a
	// cached finding is re-checked against (see Basis).
	Rule *RuleRef `json:"rule,omitempty"`
}

// RuleRef locates one nf_tables rule of a family's ruleset.
type RuleRef struct {
	Table  string `json:"table"`
	Chain  string `json:"chain"`
	Handle uint64 `json:"handle"`
}

// Hint is what one clue says about the writer.
type Hint int

const (
	// AtMost187 is an xt form where 1.8.8 and later write a native one
	// (tcp/udp ports, mark).
	AtMost187 Hint = iota + 1
	// AtLeast188 is a native form 1.8.7 cannot read (meta mark, payload
	// ports).
	AtLeast188
	// AtMost1810 is an IPv4 -p as meta l4proto, which 1.8.11 no longer
	// writes.
	AtMost1810
	// Is1811 is an IPv4 -p as a payload load, or the base matches in
	// 1.8.11's order.
	Is1811
)

// MarshalText makes a hint its String in JSON.
func (h Hint) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText reads what MarshalText wrote.
func (h *Hint) UnmarshalText(b []byte) error {
	for c := AtMost187; c <= Is1811; c++ {
		if c.String() == string(b) {
			*h = c
			return nil
		}
	}
	*h = 0
	return nil
}

// String names a hint for people.
func (h Hint) String() string {
	switch h {
	case AtMost187:
		return "iptables-nft <= 1.8.7"
	case AtLeast188:
		return "iptables-nft >= 1.8.8"
	case AtMost1810:
		return "iptables-nft <= 1.8.10"
	case Is1811:
		return "iptables-nft >= 1.8.11"
	}
	return "nothing"
}

// Finding is the host's dialect as far as the evidence tells it.
type Finding struct {
	// Dialect is the conclusion; "" when the evidence decides nothing.
	Dialect Dialect `json:"dialect"`
	// Source is where the conclusion came from: "rules", "setting",
	// "package database", "host binary", "fallback", "default".
	Source string `json:"source"`
	// Why is one sentence for doctor.
	Why string `json:"why"`
	// Clues are the observations, at most one per hint.
	Clues []Clue `json:"clues,omitempty"`
	// Newer is set when the rules show 1.8.8 or later without telling
	// 1.8.9 from 1.8.11 (no IPv4 -p among them): a host package or
	// binary of 1.8.11 then decides.
	Newer bool `json:"-"`
}

// Conclude turns the clues seen in a host's rules into a finding. Mixed
// evidence (rules of 1.8.7 and of a later version side by side) concludes
// 1.8.7: its forms are the ones every version reads.
func Conclude(clues []Clue) Finding {
	has := map[Hint]bool{}
	for _, c := range clues {
		has[c.Hint] = true
	}
	f := Finding{Source: "rules", Clues: clues}
	switch {
	case has[AtMost187] && (has[AtLeast188] || has[Is1811]):
		f.Dialect = V187
		f.Why = "rules of iptables-nft 1.8.7 and of a later version side by side: writing 1.8.7's forms, which every version reads"
	case has[Is1811]:
		f.Dialect = V1811
		f.Why = "rules written by iptables-nft 1.8.11"
	case has[AtLeast188] && has[AtMost1810]:
		f.Dialect = V189
		f.Why = "rules written by iptables-nft 1.8.8 to 1.8.10"
	case has[AtLeast188]:
		f.Dialect, f.Newer = V189, true
		f.Why = "rules written by iptables-nft 1.8.8 or later"
	case has[AtMost187]:
		f.Dialect = V187
		f.Why = "rules written by iptables-nft 1.8.7 or older"
	case has[AtMost1810]:
		f.Why = "rules written before iptables-nft 1.8.11, not telling 1.8.7 from later"
	default:
		f.Why = "no rule tells which iptables-nft version wrote it"
	}
	return f
}

// ImageSkew says, for the router's nft=auto choice, why the image's
// iptables-nft (version imageVersion) should not carry out a call on this
// host: a short reason for the call log, "" when it may (the same dialect,
// an unknown version, or a host dialect that is only the default guess).
// unsafe is set when one side misreads the other's rules. host finds the
// host's dialect; it is asked only for a version that names a dialect.
func ImageSkew(imageVersion string, host func() Finding) (why string, unsafe bool) {
	image, ok := OfVersion(imageVersion)
	if !ok {
		return "", false
	}
	h := host()
	if h.Dialect == image || h.Source == "default" {
		return "", false
	}
	why = "image's iptables-nft " + imageVersion + " speaks " + string(image) + ", host speaks " + string(h.Dialect) + " (" + h.Source + ")"
	return why, Unsafe(image, h.Dialect)
}

// Unsafe reports whether iptables-nft of dialect a and of dialect b cannot
// share a ruleset: one of them misreads what the other writes.
func Unsafe(a, b Dialect) bool { return Misreads(a, b) != "" || Misreads(b, a) != "" }
