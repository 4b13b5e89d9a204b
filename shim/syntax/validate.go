package syntax

import (
	"strconv"
	"strings"
	"unicode"
)

// protoNumber parses a numeric protocol.
func protoNumber(s string) (int, bool) {
	if len(s) > 1 && s[0] == '0' {
		// xtables_strtoui with base 0: 0x hex, leading-0 octal.
		n, ok := strtoul(s, 8)
		return int(n), ok
	}
	n, ok := decimal(s, 255)
	return int(n), ok
}

// decimal is strconv.ParseUint(s, 10, bits) == nil for the largest value
// max of bits, without the error value ParseUint allocates: names are
// tried as numbers first on every rule ("-p tcp").
func decimal(s string, max uint64) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
		if n > max {
			return 0, false
		}
	}
	return n, true
}

// protoNameOf is the name iptables loads a match by for protocol number n.
func protoNameOf(n int) string {
	switch n {
	case 1:
		return "icmp"
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 58:
		return "ipv6-icmp"
	case 132:
		return "sctp"
	}
	return ""
}

// ProtocolNumber returns the IP protocol number of a -p value as iptables
// 1.8.9 resolves it (case-insensitive names, decimal numbers).
func ProtocolNumber(proto string) (int, bool) {
	p := strings.ToLower(proto)
	if n, ok := protoNumber(p); ok {
		return n, true
	}
	return protocolByName(p)
}

func checkProtocol(p string) error {
	if _, ok := ProtocolNumber(p); !ok {
		return paramErr("unknown protocol \"%s\" specified", p)
	}
	return nil
}

// checkAddresses validates a -s/-d value, a comma-separated list of
// addresses or host names with optional prefix length or netmask, and
// returns it with each address in its canonical form (CanonicalAddress).
// A host name is only checked for its shape here: iptables resolves it
// while parsing, but the parse must not depend on DNS, so whoever carries
// the rule out resolves it (ExpandAddresses) and reports a name that does
// not resolve with the same message.
func checkAddresses(v string, fam Family) (string, error) {
	if !strings.Contains(v, ",") {
		return CanonicalAddress(v, fam)
	}
	items := strings.Split(v, ",")
	for i, a := range items {
		c, err := CanonicalAddress(a, fam)
		if err != nil {
			return "", err
		}
		items[i] = c
	}
	return strings.Join(items, ","), nil
}

func checkInterface(v string) error {
	if v == "" {
		return paramErr("Empty interface is likely to be undesired")
	}
	if len(v) >= 16 {
		return paramErr("interface name `%s' must be shorter than IFNAMSIZ (15)", v)
	}
	return nil
}

// maxChainNameLen is XT_EXTENSION_MAXNAMELEN-1 - the longest chain name.
const maxChainNameLen = 28

// checkNewChainName applies iptables' checks on a chain it is asked to
// create or rename to.
func checkNewChainName(name string, fam Family) error {
	if name == "" {
		return paramErr("empty chain name is not allowed")
	}
	if name[0] == '-' || name[0] == '!' {
		return paramErr("chain name not allowed to start with `%c'", name[0])
	}
	if KnownTarget(name, fam) || ExtensionShipped(name, true, fam) {
		return paramErr("chain name may not clash with target name")
	}
	if strings.IndexFunc(name, unicode.IsSpace) >= 0 {
		return paramErr("Invalid chain name `%s'", name)
	}
	if len(name) > maxChainNameLen {
		return paramErr("chain name `%s' too long (must be under %d chars)", name, maxChainNameLen+1)
	}
	return nil
}

// strtoul mimics C strtoul(s, &end, 0) over the whole string: base prefix
// 0x or 0 allowed, nothing may follow.
func strtoul(s string, bits int) (uint64, bool) {
	if s == "" || s[0] == '-' || s[0] == '+' {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 0, bits)
	if err != nil && strings.HasPrefix(s, "0") && !strings.HasPrefix(s, "0x") && !strings.HasPrefix(s, "0X") {
		// ParseUint base 0 wants "0o" for octal; C takes a bare leading 0.
		n, err = strconv.ParseUint(s[1:], 8, bits)
		if s == "0" {
			n, err = 0, nil
		}
	}
	return n, err == nil
}

func isCTState(s string) bool {
	switch s {
	case "INVALID", "NEW", "ESTABLISHED", "RELATED", "UNTRACKED", "SNAT", "DNAT":
		return true
	}
	return false
}

func isAddrType(s string) bool {
	switch s {
	case "UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST", "BLACKHOLE", "UNREACHABLE",
		"PROHIBIT", "THROW", "NAT", "XRESOLVE":
		return true
	}
	return false
}

// isRejectType reports whether REJECT's --reject-with accepts v for fam.
func isRejectType(v string, fam Family) bool {
	switch fam {
	case IPv6:
		switch v {
		case "icmp6-no-route", "no-route", "icmp6-adm-prohibited", "adm-prohibited", "icmp6-addr-unreachable",
			"addr-unreach", "icmp6-port-unreachable", "port-unreach", "tcp-reset", "icmp6-policy-fail",
			"policy-fail", "icmp6-reject-route", "reject-route":
			return true
		}
	case IPv4:
		switch v {
		case "icmp-net-unreachable", "net-unreach", "icmp-host-unreachable", "host-unreach",
			"icmp-proto-unreachable", "proto-unreach", "icmp-port-unreachable", "port-unreach",
			"icmp-net-prohibited", "net-prohib", "icmp-host-prohibited", "host-prohib", "tcp-reset", "tcp-rst",
			"icmp-admin-prohibited", "admin-prohib":
			return true
		}
	}
	return false
}

// ParsePort resolves a port as iptables does: a decimal number up to 65535
// or a service name.
func ParsePort(s string) (int, bool) {
	if n, ok := decimal(s, 65535); ok {
		return int(n), true
	}
	return serviceByName(s)
}

func checkPortRange(v, ext string) error {
	lo, hi, isRange := strings.Cut(v, ":")
	for _, p := range []string{lo, hi} {
		if p == "" && isRange {
			continue
		}
		if err := checkPort(p, ext); err != nil {
			return err
		}
		if !isRange {
			break
		}
	}
	return nil
}

// checkPort checks one port as extension ext parses it. libxt_tcp and
// libxt_sctp take a number in C's base 0 or a service name of their
// protocol; libxt_udp (the option parser's XTTYPE_PORTRC) a decimal number
// or a service name of any protocol, with its own complaint. A multiport
// name is checked against any protocol here and against the rule's when
// the rule is encoded.
func checkPort(p, ext string) error {
	switch ext {
	case "udp":
		if _, ok := decimal(p, 65535); ok {
			return nil
		}
		if _, ok := lookupServiceProtos(p)["*"]; ok {
			return nil
		}
		return paramErr("Port \"%s\" does not resolve to anything.\n", p)
	}
	if _, ok := strtoul(p, 16); ok {
		return nil
	}
	protos := lookupServiceProtos(p)
	if ext == "tcp" || ext == "sctp" {
		if _, ok := protos[ext]; ok {
			return nil
		}
	} else if _, ok := protos["*"]; ok {
		return nil
	}
	return paramErr("invalid port/service `%s' specified", p)
}

// validate checks an option value of extension e with validator kind.
func validate(kind string, ext *extension, opt string, v string, fam Family) error {
	// e.name is the extension's name, as the messages below spell it.
	e := struct{ name string }{ext.Name()}
	switch kind {
	case "portrange":
		return checkPortRange(v, e.name)
	case "portlist":
		n := 0
		for p := range strings.SplitSeq(v, ",") {
			if err := checkPortRange(p, e.name); err != nil {
				return err
			}
			n++
			if strings.Contains(p, ":") {
				n++
			}
		}
		if n > 15 {
			return paramErr("too many ports specified")
		}
	case "markmask":
		val, mask, hasMask := strings.Cut(v, "/")
		_, ok1 := strtoul(val, 32)
		_, ok2 := strtoul(mask, 32)
		if !ok1 || (hasMask && !ok2) {
			return paramErr("%s: bad integer value for option \"--%s\", or out of range.\n", e.name, opt)
		}
	case "uint32":
		if _, ok := strtoul(v, 32); !ok {
			return paramErr("%s: bad value for option \"--%s\", or out of range (0-4294967295).\n", e.name, opt)
		}
	case "uint32nz": // libxt's XTTYPE_UINT32 with a minimum of 1
		if n, ok := strtoul(v, 32); !ok || n == 0 {
			return paramErr("%s: bad value for option \"--%s\", or out of range (1-4294967295).\n", e.name, opt)
		}
	case "uint8":
		if _, ok := strtoul(v, 8); !ok {
			return paramErr("%s: bad value for option \"--%s\", or out of range (0-255).\n", e.name, opt)
		}
	case "ctstate", "state":
		for s := range strings.SplitSeq(v, ",") {
			if !isCTState(s) || (kind == "state" && (s == "SNAT" || s == "DNAT")) {
				if kind == "state" {
					return paramErr("Bad state \"%s\"", s)
				}
				return paramErr("Bad ctstate \"%s\"", s)
			}
		}
	case "addrtype":
		for s := range strings.SplitSeq(v, ",") {
			if !isAddrType(strings.ToUpper(s)) {
				return paramErr("addrtype: bad type \"%s\"", s)
			}
		}
	case "statmode":
		if v != "random" && v != "nth" {
			return paramErr("Bad mode \"%s\"", v)
		}
	case "probability":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 {
			return paramErr("statistic: bad value for option \"--probability\", or out of range (0-1).\n")
		}
	case "rejectwith":
		if !isRejectType(v, fam) {
			return paramErr("unknown reject type \"%s\"", v)
		}
	case "loglevel":
		return checkLogLevel(v)
	case "rate":
		return checkRate(v)
	case "comment":
		if len(v) > 255 {
			return paramErr("comment: option \"--comment\" must be less than 256 characters.\n")
		}
	}
	return nil
}
