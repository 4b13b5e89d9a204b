package syntax

import (
	"strings"

	"github.com/iptables-shim/iptables-shim/shim/extopts"
)

// arity is how many arguments an option takes: the extension table's
// (shim/extopts), which the global options share.
type arity = extopts.Arity

const (
	argNone     = extopts.ArgNone     // --syn
	argOne      = extopts.ArgOne      // --dport 80
	argOptional = extopts.ArgOptional // only as --opt=value (getopt's optional_argument)
	argTwo      = extopts.ArgTwo      // --match-set NAME FLAGS: a second, separate token
	argPeek     = extopts.ArgPeek     // the next word unless it looks like an option (rateest)
)

// extension and optSpec are the extension table's entries (shim/extopts).
type (
	extension = extopts.Extension
	optSpec   = extopts.Option
)

// isStandardVerdict reports whether a target name is a verdict rather than
// a module.
func isStandardVerdict(name string) bool {
	switch name {
	case "ACCEPT", "DROP", "RETURN", "QUEUE":
		return true
	}
	return false
}

// lookupExtension returns the described extension available to fam.
func lookupExtension(name string, target bool, fam Family) *extension {
	return extopts.Lookup(name, target, fam)
}

// KnownMatch reports whether this package describes the options of match
// name for fam; other matches are parsed with a generic fallback.
func KnownMatch(name string, fam Family) bool { return lookupExtension(name, false, fam) != nil }

// KnownTarget reports whether target name is a standard verdict or a target
// extension this package describes for fam.
func KnownTarget(name string, fam Family) bool {
	return isStandardVerdict(name) || lookupExtension(name, true, fam) != nil
}

// ExtensionNames lists the described matches and targets (targets are the
// upper-case names), sorted; tests use it to check their own coverage.
func ExtensionNames() []string { return extopts.Names() }

// implicitMatch is the match "-p PROTO" loads when an option no loaded
// extension knows follows it (iptables' load_proto).
func implicitMatch(proto string, fam Family) string {
	name := strings.ToLower(proto)
	if n, ok := protoNumber(name); ok {
		name = protoNameOf(n)
	}
	switch name {
	case "tcp", "udp", "sctp", "dccp":
		return name
	case "icmp":
		if fam == IPv4 {
			return "icmp"
		}
	case "ipv6-icmp", "icmpv6", "icmp6":
		if fam == IPv6 {
			return "icmp6"
		}
	}
	return ""
}

// shippedModule reports whether iptables 1.8.9 ships a match (target
// false) or target module of this name (the libxt_*, libipt_* and libip6t_*
// modules of a Debian 12 install), and for which family: 0 for both.
func shippedModule(name string, target bool) (fam Family, ok bool) {
	if target {
		switch name {
		case "AUDIT", "CHECKSUM", "CLASSIFY", "CONNMARK", "CONNSECMARK", "CT", "DNAT", "DSCP", "HMARK",
			"IDLETIMER", "LED", "LOG", "MARK", "MASQUERADE", "NFLOG", "NFQUEUE", "NOTRACK", "RATEEST",
			"REDIRECT", "SECMARK", "SET", "SNAT", "SYNPROXY", "TCPMSS", "TCPOPTSTRIP", "TEE", "TOS",
			"TPROXY", "TRACE",
			// Present in both families under the same name but from two
			// modules (libipt_* and libip6t_*).
			"NETMAP", "REJECT":
			return 0, true
		case "CLUSTERIP", "ECN", "TTL", "ULOG":
			return IPv4, true
		case "DNPT", "HL", "SNPT":
			return IPv6, true
		}
		return 0, false
	}
	switch name {
	case "addrtype", "bpf", "cgroup", "cluster", "comment", "connbytes", "connlabel", "connlimit",
		"connmark", "conntrack", "cpu", "dccp", "devgroup", "dscp", "ecn", "esp", "hashlimit", "helper",
		"ipcomp", "iprange", "ipvs", "length", "limit", "mac", "mark", "multiport", "nfacct",
		"owner", "physdev", "pkttype", "policy", "quota", "rateest", "recent", "rpfilter", "sctp", "set",
		"socket", "state", "statistic", "string", "tcp", "tcpmss", "time", "tos", "u32", "udp",
		// libipt_ah and libip6t_ah.
		"ah":
		return 0, true
	// libxt_osf registers for IPv4 only.
	case "icmp", "osf", "realm", "ttl":
		return IPv4, true
	case "dst", "eui64", "frag", "hbh", "hl", "icmp6", "ipv6header", "mh", "rt", "srh":
		return IPv6, true
	}
	return 0, false
}

// ExtensionShipped reports whether iptables 1.8.9 ships a match (target
// false) or target module of this name for fam. A rule using a match that
// is neither described nor shipped is refused by a stock iptables with
// "Couldn't load match"; a -j name that is not shipped is a chain jump.
func ExtensionShipped(name string, target bool, fam Family) bool {
	f, ok := shippedModule(name, target)
	return ok && (f == 0 || f == fam)
}

// ChainJump reports whether the target is a jump (or goto) to a user chain:
// neither a standard verdict nor a target module iptables 1.8.9 ships.
func (t *Target) ChainJump(fam Family) bool {
	return !isStandardVerdict(t.Name) && !ExtensionShipped(t.Name, true, fam) && lookupExtension(t.Name, true, fam) == nil
}
