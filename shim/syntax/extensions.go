package syntax

import (
	"sort"
	"strings"
)

// arity is how many arguments an extension option takes.
type arity uint8

const (
	argNone     arity = iota // --syn
	argOne                   // --dport 80
	argOptional              // only as --opt=value (getopt's optional_argument)
	argTwo                   // --match-set NAME FLAGS: a second, separate token
)

// optSpec describes one option of an extension. names[0] is the canonical
// name (the one iptables-save prints); the others are aliases that getopt
// resolves to the same option.
type optSpec struct {
	names  []string
	arity  arity
	invert bool   // "!" may precede it
	check  string // the validator (see validate.go); "" = any value
}

// extension is a match or target module whose options this package knows.
type extension struct {
	name   string
	target bool
	family Family // 0 = both families
	opts   []optSpec
}

// spec parses the compact option notation used in the table below:
// "name|alias:A[!][=check]" with A one of 0, 1, ? (optional) or 2.
func spec(s string) optSpec {
	var o optSpec
	if i := strings.IndexByte(s, '='); i >= 0 {
		s, o.check = s[:i], s[i+1:]
	}
	if strings.HasSuffix(s, "!") {
		o.invert = true
		s = s[:len(s)-1]
	}
	i := strings.LastIndexByte(s, ':')
	switch s[i+1:] {
	case "0":
		o.arity = argNone
	case "1":
		o.arity = argOne
	case "?":
		o.arity = argOptional
	case "2":
		o.arity = argTwo
	default:
		panic("syntax: bad option spec " + s)
	}
	o.names = strings.Split(s[:i], "|")
	return o
}

func ext(name string, target bool, fam Family, specs ...string) *extension {
	e := &extension{name: name, target: target, family: fam}
	for _, s := range specs {
		e.opts = append(e.opts, spec(s))
	}
	return e
}

// portOpts are the options tcp, udp and sctp share.
var portOpts = []string{"sport|source-port:1!=portrange", "dport|destination-port:1!=portrange"}

// knownExtensions lists the matches and targets whose options are described.
// The table is the option syntax of the iptables 1.8.9 extensions
// (libxt_*.c / libipt_* / libip6t_*): names, aliases, arity and whether
// the option can be inverted. Values are validated for the options kube-proxy,
// kubelet and common CNI plugins use.
var knownExtensions = buildExtensions(
	// Matches.
	ext("tcp", false, 0, append(portOpts, "tcp-flags:2!", "syn:0!", "tcp-option:1!=uint8")...),
	ext("udp", false, 0, portOpts...),
	ext("sctp", false, 0, append(portOpts, "chunk-types:2!")...),
	ext("icmp", false, IPv4, "icmp-type:1!"),
	ext("icmp6", false, IPv6, "icmpv6-type:1!"),
	ext("comment", false, 0, "comment:1=comment"),
	ext("mark", false, 0, "mark:1!=markmask"),
	ext("connmark", false, 0, "mark:1!=markmask"),
	ext("multiport", false, 0, "sports|source-ports:1!=portlist", "dports|destination-ports:1!=portlist", "ports:1!=portlist"),
	ext("set", false, 0, "match-set|set:2!", "return-nomatch:0", "update-counters:0!", "update-subcounters:0!",
		"packets-eq:1!", "packets-lt:1", "packets-gt:1", "bytes-eq:1!", "bytes-lt:1", "bytes-gt:1"),
	ext("addrtype", false, 0, "src-type:1!=addrtype", "dst-type:1!=addrtype", "limit-iface-in:0", "limit-iface-out:0"),
	ext("conntrack", false, 0, "ctstate:1!=ctstate", "ctproto:1!", "ctorigsrc:1!", "ctorigdst:1!", "ctreplsrc:1!",
		"ctrepldst:1!", "ctorigsrcport:1!", "ctorigdstport:1!", "ctreplsrcport:1!", "ctrepldstport:1!",
		"ctstatus:1!", "ctexpire:1!", "ctdir:1"),
	ext("state", false, 0, "state:1!=state"),
	ext("statistic", false, 0, "mode:1=statmode", "probability:1!=probability", "every:1!=uint32", "packet:1=uint32"),
	ext("recent", false, 0, "set:0!", "rcheck:0!", "update:0!", "remove:0!", "seconds:1=uint32", "reap:0",
		"hitcount:1=uint32", "rttl:0", "name:1", "rsource:0", "rdest:0", "mask:1"),
	ext("physdev", false, 0, "physdev-in:1!", "physdev-out:1!", "physdev-is-in:0!", "physdev-is-out:0!", "physdev-is-bridged:0!"),
	ext("limit", false, 0, "limit:1=rate", "limit-burst:1=uint32"),
	ext("ipvs", false, 0, "ipvs:0!", "vproto:1!", "vaddr:1!", "vport:1!", "vdir:1", "vmethod:1!", "vportctl:1!"),
	ext("nfacct", false, 0, "nfacct-name:1"),
	ext("owner", false, 0, "uid-owner:1!", "gid-owner:1!", "socket-exists:0!", "suppl-groups:0"),
	ext("iprange", false, 0, "src-range:1!", "dst-range:1!"),
	ext("length", false, 0, "length:1!"),
	ext("pkttype", false, 0, "pkt-type:1!"),
	ext("hashlimit", false, 0, "hashlimit-upto:1=rate", "hashlimit-above:1=rate", "hashlimit:1=rate", "hashlimit-burst:1",
		"hashlimit-mode:1", "hashlimit-srcmask:1", "hashlimit-dstmask:1", "hashlimit-name:1",
		"hashlimit-htable-size:1", "hashlimit-htable-max:1", "hashlimit-htable-gcinterval:1",
		"hashlimit-htable-expire:1", "hashlimit-rate-match:0", "hashlimit-rate-interval:1"),
	ext("string", false, 0, "from:1", "to:1", "algo:1", "string:1!", "hex-string:1!", "icase:0"),
	ext("mac", false, 0, "mac-source:1!"),
	ext("tcpmss", false, 0, "mss:1!"),
	ext("helper", false, 0, "helper:1!"),
	ext("rpfilter", false, 0, "loose:0", "validmark:0", "accept-local:0", "invert:0"),

	// Targets.
	ext("MARK", true, 0, "set-xmark:1=markmask", "set-mark:1=markmask", "and-mark:1=uint32", "or-mark:1=uint32", "xor-mark:1=uint32"),
	ext("CONNMARK", true, 0, "set-xmark:1=markmask", "save-mark:0", "restore-mark:0", "set-mark:1=markmask",
		"and-mark:1=uint32", "or-mark:1=uint32", "xor-mark:1=uint32", "mask:1=uint32", "nfmask:1=uint32", "ctmask:1=uint32"),
	ext("MASQUERADE", true, 0, "to-ports:1", "random:0", "random-fully:0"),
	ext("DNAT", true, 0, "to-destination:1", "random:0", "persistent:0", "random-fully:0"),
	ext("SNAT", true, 0, "to-source:1", "random:0", "random-fully:0", "persistent:0"),
	ext("REDIRECT", true, 0, "to-ports:1", "random:0"),
	ext("REJECT", true, 0, "reject-with:1=rejectwith"),
	ext("LOG", true, 0, "log-level:1=loglevel", "log-prefix:1", "log-tcp-sequence:0", "log-tcp-options:0",
		"log-ip-options:0", "log-uid:0", "log-macdecode:0"),
	ext("NFLOG", true, 0, "nflog-group:1=uint32", "nflog-prefix:1", "nflog-range:1=uint32", "nflog-size:1=uint32", "nflog-threshold:1=uint32"),
	ext("NOTRACK", true, 0),
	ext("CT", true, 0, "notrack:0", "ctevents:1", "expevents:1", "helper:1", "timeout:1", "zone-orig:1", "zone-reply:1", "zone:1"),
	ext("TCPMSS", true, 0, "set-mss:1=uint32", "clamp-mss-to-pmtu:0"),
	ext("NFQUEUE", true, 0, "queue-num:1=uint32", "queue-balance:1", "queue-bypass:0", "fail-open:0", "queue-cpu-fanout:0"),
	ext("SET", true, 0, "add-set:2", "del-set:2", "map-set:2", "timeout:1", "exist:0", "map-mark:0", "map-prio:0", "map-queue:0"),
	ext("CLASSIFY", true, 0, "set-class:1"),
	ext("CHECKSUM", true, 0, "checksum-fill:0"),
	ext("TRACE", true, 0),
	ext("DSCP", true, 0, "set-dscp:1", "set-dscp-class:1"),
)

// extKey identifies an extension by kind and name: "mark" (a match) and
// "MARK" (a target) are different modules.
type extKey struct {
	name   string
	target bool
}

func buildExtensions(list ...*extension) map[extKey]*extension {
	m := make(map[extKey]*extension, len(list))
	for _, e := range list {
		// instance.used has one bit per option.
		if len(e.opts) > 64 {
			panic("syntax: extension " + e.name + " has more than 64 options")
		}
		m[extKey{e.name, e.target}] = e
	}
	return m
}

// exact returns the index of the option named (or aliased) name, or -1.
func (e *extension) exact(name string) int {
	for oi := range e.opts {
		for _, n := range e.opts[oi].names {
			if n == name {
				return oi
			}
		}
	}
	return -1
}

// isStandardVerdict reports whether a target name is a verdict rather than
// a module.
func isStandardVerdict(name string) bool {
	switch name {
	case "ACCEPT", "DROP", "RETURN", "QUEUE":
		return true
	}
	return false
}

// knownMatches and knownTargets are knownExtensions by name, for the
// lookups of every -m and -j: a map keyed by a plain string is the
// runtime's fast path.
var knownMatches, knownTargets = func() (m, t map[string]*extension) {
	m, t = map[string]*extension{}, map[string]*extension{}
	for k, e := range knownExtensions {
		if k.target {
			t[k.name] = e
		} else {
			m[k.name] = e
		}
	}
	return m, t
}()

// lookupExtension returns the described extension available to fam.
func lookupExtension(name string, target bool, fam Family) *extension {
	known := knownMatches
	if target {
		known = knownTargets
	}
	e := known[name]
	if e == nil || (e.family != 0 && e.family != fam) {
		return nil
	}
	return e
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
func ExtensionNames() []string {
	var out []string
	for k := range knownExtensions {
		out = append(out, k.name)
	}
	sort.Strings(out)
	return out
}

// implicitMatch is the match "-p PROTO" loads when an option no loaded
// extension knows follows it (iptables' load_proto).
func implicitMatch(proto string, fam Family) string {
	name := strings.ToLower(proto)
	if n, ok := protoNumber(name); ok {
		name = protoNameOf(n)
	}
	switch name {
	case "tcp", "udp", "sctp":
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

// shippedModules are the extensions iptables 1.8.9 ships (the libxt_*,
// libipt_* and libip6t_* modules of a Debian 12 install), by family:
// 0 for both. Upper-case names are targets.
var shippedModules = func() map[extKey]Family {
	m := map[extKey]Family{}
	add := func(fam Family, names string) {
		for _, n := range strings.Fields(names) {
			target := strings.ToUpper(n) == n
			m[extKey{n, target}] = fam
		}
	}
	add(0, "AUDIT CHECKSUM CLASSIFY CONNMARK CONNSECMARK CT DNAT DSCP HMARK IDLETIMER LED LOG MARK MASQUERADE "+
		"NFLOG NFQUEUE NOTRACK RATEEST REDIRECT SECMARK SET SNAT SYNPROXY TCPMSS TCPOPTSTRIP TEE TOS TPROXY TRACE "+
		"addrtype bpf cgroup cluster comment connbytes connlabel connlimit connmark conntrack cpu dccp devgroup "+
		"dscp ecn esp hashlimit helper ipcomp iprange ipvs length limit mac mark multiport nfacct osf owner "+
		"physdev pkttype policy quota rateest recent rpfilter sctp set socket state statistic string tcp tcpmss "+
		"time tos u32 udp")
	add(IPv4, "CLUSTERIP ECN NETMAP REJECT TTL ULOG ah icmp realm ttl")
	add(IPv6, "DNPT HL NETMAP REJECT SNPT ah dst eui64 frag hbh hl icmp6 ipv6header mh rt srh")
	// Present in both families under the same name but from two modules.
	m[extKey{"REJECT", true}], m[extKey{"NETMAP", true}], m[extKey{"ah", false}] = 0, 0, 0
	return m
}()

// ExtensionShipped reports whether iptables 1.8.9 ships a match (target
// false) or target module of this name for fam. A rule using a match that
// is neither described nor shipped is refused by a stock iptables with
// "Couldn't load match"; a -j name that is not shipped is a chain jump.
func ExtensionShipped(name string, target bool, fam Family) bool {
	f, ok := shippedModules[extKey{name, target}]
	if !ok {
		return false
	}
	if f == 0 {
		return true
	}
	switch name {
	case "REJECT", "NETMAP", "ah":
		return true
	}
	return f == fam
}

// ChainJump reports whether the target is a jump (or goto) to a user chain:
// neither a standard verdict nor a target module iptables 1.8.9 ships.
func (t *Target) ChainJump(fam Family) bool {
	return !isStandardVerdict(t.Name) && !ExtensionShipped(t.Name, true, fam) && lookupExtension(t.Name, true, fam) == nil
}
