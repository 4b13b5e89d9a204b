package extopts

// The option syntax of the iptables 1.8.9 extensions this package
// describes (libxt_*.c / libipt_* / libip6t_*): names, aliases, arity and
// whether the option can be inverted. Values are validated for the options
// kube-proxy, kubelet and common CNI plugins use.
//
// The tables are composite literals of constants, which the linker lays
// out, and they are looked up by name through switches (matchIndex,
// targetIndex), which the compiler turns into a search faster than a map
// lookup: the binary starts for every iptables call, and a map or table
// built at program start would cost every call. A new entry goes at the end
// of its table, with a case returning its index in the switch;
// table_test.go checks that every entry is found at its index.

// matchTable lists the described matches (-m NAME, or -p NAME's implicit
// match).
var matchTable = []extension{
	{name: "tcp", opts: []optSpec{
		{name: "sport", alias: "source-port", arity: argOne, invert: true, check: "portrange"},
		{name: "dport", alias: "destination-port", arity: argOne, invert: true, check: "portrange"},
		{name: "tcp-flags", arity: argTwo, invert: true},
		{name: "syn", arity: argNone, invert: true},
		{name: "tcp-option", arity: argOne, invert: true, check: "uint8"},
	}},
	{name: "udp", opts: []optSpec{
		{name: "sport", alias: "source-port", arity: argOne, invert: true, check: "portrange"},
		{name: "dport", alias: "destination-port", arity: argOne, invert: true, check: "portrange"},
	}},
	{name: "sctp", opts: []optSpec{
		{name: "sport", alias: "source-port", arity: argOne, invert: true, check: "portrange"},
		{name: "dport", alias: "destination-port", arity: argOne, invert: true, check: "portrange"},
		{name: "chunk-types", arity: argTwo, invert: true},
	}},
	{name: "icmp", family: IPv4, opts: []optSpec{
		{name: "icmp-type", arity: argOne, invert: true},
	}},
	{name: "icmp6", family: IPv6, opts: []optSpec{
		{name: "icmpv6-type", arity: argOne, invert: true},
	}},
	{name: "comment", opts: []optSpec{
		{name: "comment", arity: argOne, check: "comment"},
	}},
	{name: "mark", opts: []optSpec{
		{name: "mark", arity: argOne, invert: true, check: "markmask"},
	}},
	{name: "connmark", opts: []optSpec{
		{name: "mark", arity: argOne, invert: true, check: "markmask"},
	}},
	{name: "multiport", opts: []optSpec{
		{name: "sports", alias: "source-ports", arity: argOne, invert: true, check: "portlist"},
		{name: "dports", alias: "destination-ports", arity: argOne, invert: true, check: "portlist"},
		{name: "ports", arity: argOne, invert: true, check: "portlist"},
	}},
	{name: "set", opts: []optSpec{
		{name: "match-set", alias: "set", arity: argTwo, invert: true},
		{name: "return-nomatch", arity: argNone},
		{name: "update-counters", arity: argNone, invert: true},
		{name: "update-subcounters", arity: argNone, invert: true},
		{name: "packets-eq", arity: argOne, invert: true},
		{name: "packets-lt", arity: argOne},
		{name: "packets-gt", arity: argOne},
		{name: "bytes-eq", arity: argOne, invert: true},
		{name: "bytes-lt", arity: argOne},
		{name: "bytes-gt", arity: argOne},
	}},
	{name: "addrtype", opts: []optSpec{
		{name: "src-type", arity: argOne, invert: true, check: "addrtype"},
		{name: "dst-type", arity: argOne, invert: true, check: "addrtype"},
		{name: "limit-iface-in", arity: argNone},
		{name: "limit-iface-out", arity: argNone},
	}},
	{name: "conntrack", opts: []optSpec{
		{name: "ctstate", arity: argOne, invert: true, check: "ctstate"},
		{name: "ctproto", arity: argOne, invert: true},
		{name: "ctorigsrc", arity: argOne, invert: true},
		{name: "ctorigdst", arity: argOne, invert: true},
		{name: "ctreplsrc", arity: argOne, invert: true},
		{name: "ctrepldst", arity: argOne, invert: true},
		{name: "ctorigsrcport", arity: argOne, invert: true},
		{name: "ctorigdstport", arity: argOne, invert: true},
		{name: "ctreplsrcport", arity: argOne, invert: true},
		{name: "ctrepldstport", arity: argOne, invert: true},
		{name: "ctstatus", arity: argOne, invert: true},
		{name: "ctexpire", arity: argOne, invert: true},
		{name: "ctdir", arity: argOne},
	}},
	{name: "state", opts: []optSpec{
		{name: "state", arity: argOne, invert: true, check: "state"},
	}},
	{name: "statistic", opts: []optSpec{
		{name: "mode", arity: argOne, check: "statmode"},
		{name: "probability", arity: argOne, invert: true, check: "probability"},
		{name: "every", arity: argOne, invert: true, check: "uint32nz"},
		{name: "packet", arity: argOne, check: "uint32"},
	}},
	{name: "recent", opts: []optSpec{
		{name: "set", arity: argNone, invert: true},
		{name: "rcheck", arity: argNone, invert: true},
		{name: "update", arity: argNone, invert: true},
		{name: "remove", arity: argNone, invert: true},
		{name: "seconds", arity: argOne, check: "uint32"},
		{name: "reap", arity: argNone},
		{name: "hitcount", arity: argOne, check: "uint32"},
		{name: "rttl", arity: argNone},
		{name: "name", arity: argOne},
		{name: "rsource", arity: argNone},
		{name: "rdest", arity: argNone},
		{name: "mask", arity: argOne},
	}},
	{name: "physdev", opts: []optSpec{
		{name: "physdev-in", arity: argOne, invert: true},
		{name: "physdev-out", arity: argOne, invert: true},
		{name: "physdev-is-in", arity: argNone, invert: true},
		{name: "physdev-is-out", arity: argNone, invert: true},
		{name: "physdev-is-bridged", arity: argNone, invert: true},
	}},
	{name: "limit", opts: []optSpec{
		{name: "limit", arity: argOne, check: "rate"},
		{name: "limit-burst", arity: argOne, check: "uint32"},
	}},
	{name: "ipvs", opts: []optSpec{
		{name: "ipvs", arity: argNone, invert: true},
		{name: "vproto", arity: argOne, invert: true},
		{name: "vaddr", arity: argOne, invert: true},
		{name: "vport", arity: argOne, invert: true},
		{name: "vdir", arity: argOne},
		{name: "vmethod", arity: argOne, invert: true},
		{name: "vportctl", arity: argOne, invert: true},
	}},
	{name: "nfacct", opts: []optSpec{
		{name: "nfacct-name", arity: argOne},
	}},
	{name: "owner", opts: []optSpec{
		{name: "uid-owner", arity: argOne, invert: true},
		{name: "gid-owner", arity: argOne, invert: true},
		{name: "socket-exists", arity: argNone, invert: true},
		{name: "suppl-groups", arity: argNone},
	}},
	{name: "iprange", opts: []optSpec{
		{name: "src-range", arity: argOne, invert: true},
		{name: "dst-range", arity: argOne, invert: true},
	}},
	{name: "length", opts: []optSpec{
		{name: "length", arity: argOne, invert: true},
	}},
	{name: "pkttype", opts: []optSpec{
		{name: "pkt-type", arity: argOne, invert: true},
	}},
	{name: "hashlimit", opts: []optSpec{
		{name: "hashlimit-upto", arity: argOne, invert: true},
		{name: "hashlimit-above", arity: argOne, invert: true},
		{name: "hashlimit", arity: argOne, invert: true},
		{name: "hashlimit-burst", arity: argOne},
		{name: "hashlimit-mode", arity: argOne},
		{name: "hashlimit-srcmask", arity: argOne},
		{name: "hashlimit-dstmask", arity: argOne},
		{name: "hashlimit-name", arity: argOne},
		{name: "hashlimit-htable-size", arity: argOne},
		{name: "hashlimit-htable-max", arity: argOne},
		{name: "hashlimit-htable-gcinterval", arity: argOne},
		{name: "hashlimit-htable-expire", arity: argOne},
		{name: "hashlimit-rate-match", arity: argNone},
		{name: "hashlimit-rate-interval", arity: argOne},
	}},
	{name: "string", opts: []optSpec{
		{name: "from", arity: argOne},
		{name: "to", arity: argOne},
		{name: "algo", arity: argOne},
		{name: "string", arity: argOne, invert: true},
		{name: "hex-string", arity: argOne, invert: true},
		{name: "icase", arity: argNone},
	}},
	{name: "mac", opts: []optSpec{
		{name: "mac-source", arity: argOne, invert: true},
	}},
	{name: "tcpmss", opts: []optSpec{
		{name: "mss", arity: argOne, invert: true},
	}},
	{name: "helper", opts: []optSpec{
		{name: "helper", arity: argOne, invert: true},
	}},
	{name: "rpfilter", opts: []optSpec{
		{name: "loose", arity: argNone},
		{name: "validmark", arity: argNone},
		{name: "accept-local", arity: argNone},
		{name: "invert", arity: argNone},
	}},
	{name: "ttl", family: IPv4, opts: []optSpec{
		{name: "ttl-eq", arity: argOne, invert: true, check: "uint8"},
		{name: "ttl-lt", arity: argOne, check: "uint8"},
		{name: "ttl-gt", arity: argOne, check: "uint8"},
	}},
	{name: "hl", family: IPv6, opts: []optSpec{
		{name: "hl-eq", arity: argOne, invert: true, check: "uint8"},
		{name: "hl-lt", arity: argOne, check: "uint8"},
		{name: "hl-gt", arity: argOne, check: "uint8"},
	}},
	{name: "dscp", opts: []optSpec{
		{name: "dscp", arity: argOne, invert: true},
		{name: "dscp-class", arity: argOne, invert: true},
	}},
	{name: "esp", opts: []optSpec{
		{name: "espspi", arity: argOne, invert: true},
	}},
	// libipt_ah knows --ahspi only; libip6t_ah adds --ahlen and --ahres.
	{name: "ah", opts: []optSpec{
		{name: "ahspi", arity: argOne, invert: true},
		{name: "ahlen", arity: argOne, invert: true},
		{name: "ahres", arity: argNone},
	}},
	{name: "tos", opts: []optSpec{
		{name: "tos", arity: argOne, invert: true},
	}},
	{name: "cpu", opts: []optSpec{
		{name: "cpu", arity: argOne, invert: true},
	}},
	{name: "quota", opts: []optSpec{
		{name: "quota", arity: argOne, invert: true},
	}},
	{name: "ipcomp", opts: []optSpec{
		{name: "ipcompspi", arity: argOne, invert: true},
	}},
	{name: "ecn", opts: []optSpec{
		{name: "ecn-tcp-cwr", arity: argNone, invert: true},
		{name: "ecn-tcp-ece", arity: argNone, invert: true},
		{name: "ecn-ip-ect", arity: argOne, invert: true},
	}},
	{name: "realm", family: IPv4, opts: []optSpec{
		{name: "realm", arity: argOne, invert: true},
	}},
	{name: "frag", family: IPv6, opts: []optSpec{
		{name: "fragid", arity: argOne, invert: true},
		{name: "fraglen", arity: argOne, invert: true},
		{name: "fragres", arity: argNone},
		{name: "fragfirst", arity: argNone},
		{name: "fragmore", arity: argNone},
		{name: "fraglast", arity: argNone},
	}},
	{name: "mh", family: IPv6, opts: []optSpec{
		{name: "mh-type", arity: argOne, invert: true},
	}},
	{name: "eui64", family: IPv6},
	{name: "hbh", family: IPv6, opts: []optSpec{
		{name: "hbh-len", arity: argOne, invert: true},
		{name: "hbh-opts", arity: argOne},
	}},
	{name: "dst", family: IPv6, opts: []optSpec{
		{name: "dst-len", arity: argOne, invert: true},
		{name: "dst-opts", arity: argOne},
	}},
	{name: "rt", family: IPv6, opts: []optSpec{
		{name: "rt-type", arity: argOne, invert: true},
		{name: "rt-segsleft", arity: argOne, invert: true},
		{name: "rt-len", arity: argOne, invert: true},
		{name: "rt-0-res", arity: argNone},
		{name: "rt-0-addrs", arity: argOne},
		{name: "rt-0-not-strict", arity: argNone},
	}},
	{name: "ipv6header", family: IPv6, opts: []optSpec{
		{name: "header", arity: argOne, invert: true},
		{name: "soft", arity: argNone},
	}},
	{name: "connbytes", opts: []optSpec{
		{name: "connbytes", arity: argOne, invert: true},
		{name: "connbytes-dir", arity: argOne},
		{name: "connbytes-mode", arity: argOne},
	}},
	{name: "connlimit", opts: []optSpec{
		{name: "connlimit-upto", arity: argOne, invert: true},
		{name: "connlimit-above", arity: argOne, invert: true},
		{name: "connlimit-mask", arity: argOne},
		{name: "connlimit-saddr", arity: argNone},
		{name: "connlimit-daddr", arity: argNone},
	}},
	// libxt_dccp names its ports by their long names in its messages.
	{name: "dccp", opts: []optSpec{
		{name: "source-port", alias: "sport", arity: argOne, invert: true},
		{name: "destination-port", alias: "dport", arity: argOne, invert: true},
		{name: "dccp-types", arity: argOne, invert: true},
		{name: "dccp-option", arity: argOne, invert: true},
	}},
	{name: "srh", family: IPv6, opts: []optSpec{
		{name: "srh-next-hdr", arity: argOne, invert: true},
		{name: "srh-hdr-len-eq", arity: argOne, invert: true},
		{name: "srh-hdr-len-gt", arity: argOne, invert: true},
		{name: "srh-hdr-len-lt", arity: argOne, invert: true},
		{name: "srh-segs-left-eq", arity: argOne, invert: true},
		{name: "srh-segs-left-gt", arity: argOne, invert: true},
		{name: "srh-segs-left-lt", arity: argOne, invert: true},
		{name: "srh-last-entry-eq", arity: argOne, invert: true},
		{name: "srh-last-entry-gt", arity: argOne, invert: true},
		{name: "srh-last-entry-lt", arity: argOne, invert: true},
		{name: "srh-tag", arity: argOne, invert: true},
		{name: "srh-psid", arity: argOne, invert: true},
		{name: "srh-nsid", arity: argOne, invert: true},
		{name: "srh-lsid", arity: argOne, invert: true},
	}},
	{name: "cluster", opts: []optSpec{
		{name: "cluster-total-nodes", arity: argOne},
		{name: "cluster-local-node", arity: argOne, invert: true},
		{name: "cluster-local-nodemask", arity: argOne, invert: true},
		{name: "cluster-hash-seed", arity: argOne},
	}},
	{name: "connlabel", opts: []optSpec{
		{name: "label", arity: argOne, invert: true},
		{name: "set", arity: argNone},
	}},
	{name: "cgroup", opts: []optSpec{
		{name: "path", arity: argOne, invert: true},
		{name: "cgroup", arity: argOne, invert: true},
	}},
	{name: "time", opts: []optSpec{
		{name: "datestart", arity: argOne},
		{name: "datestop", arity: argOne},
		{name: "timestart", arity: argOne},
		{name: "timestop", arity: argOne},
		{name: "contiguous", arity: argNone},
		{name: "weekdays", arity: argOne, invert: true},
		{name: "monthdays", arity: argOne, invert: true},
		{name: "localtz", arity: argNone},
		{name: "utc", arity: argNone},
		{name: "kerneltz", arity: argNone},
	}},
	{name: "socket", opts: []optSpec{
		{name: "transparent", arity: argNone},
		{name: "nowildcard", arity: argNone},
		{name: "restore-skmark", arity: argNone},
	}},
	{name: "devgroup", opts: []optSpec{
		{name: "src-group", arity: argOne, invert: true},
		{name: "dst-group", arity: argOne, invert: true},
	}},
	{name: "u32", opts: []optSpec{
		{name: "u32", arity: argOne, invert: true},
	}},
	{name: "policy", opts: []optSpec{
		{name: "dir", arity: argOne},
		{name: "pol", arity: argOne},
		{name: "strict", arity: argNone},
		{name: "reqid", arity: argOne, invert: true, multi: true},
		{name: "spi", arity: argOne, invert: true, multi: true},
		{name: "tunnel-src", arity: argOne, invert: true, multi: true},
		{name: "tunnel-dst", arity: argOne, invert: true, multi: true},
		{name: "proto", arity: argOne, invert: true, multi: true},
		{name: "mode", arity: argOne, invert: true, multi: true},
		{name: "next", arity: argNone, multi: true},
	}},
	{name: "rateest", oldStyle: true, opts: []optSpec{
		{name: "rateest1", alias: "rateest", arity: argOne, invert: true},
		{name: "rateest2", arity: argOne, invert: true},
		{name: "rateest-bps1", arity: argPeek, invert: true},
		{name: "rateest-pps1", arity: argPeek, invert: true},
		{name: "rateest-bps2", alias: "rateest-bps", arity: argPeek, invert: true},
		{name: "rateest-pps2", alias: "rateest-pps", arity: argPeek, invert: true},
		{name: "rateest-delta", arity: argNone, invert: true},
		{name: "rateest-lt", arity: argNone, invert: true},
		{name: "rateest-gt", arity: argNone, invert: true},
		{name: "rateest-eq", arity: argNone, invert: true},
	}},
	{name: "osf", family: IPv4, opts: []optSpec{
		{name: "genre", arity: argOne, invert: true},
		{name: "ttl", arity: argOne},
		{name: "log", arity: argOne},
	}},
	{name: "bpf", opts: []optSpec{
		{name: "bytecode", arity: argOne},
		{name: "object-pinned", arity: argOne},
	}},
}

// targetTable lists the described target extensions (-j NAME).
var targetTable = []extension{
	{name: "MARK", target: true, opts: []optSpec{
		{name: "set-xmark", arity: argOne, check: "markmask"},
		{name: "set-mark", arity: argOne, check: "markmask"},
		{name: "and-mark", arity: argOne, check: "uint32"},
		{name: "or-mark", arity: argOne, check: "uint32"},
		{name: "xor-mark", arity: argOne, check: "uint32"},
	}},
	{name: "CONNMARK", target: true, opts: []optSpec{
		{name: "set-xmark", arity: argOne, check: "markmask"},
		{name: "save-mark", arity: argNone},
		{name: "restore-mark", arity: argNone},
		{name: "set-mark", arity: argOne, check: "markmask"},
		{name: "and-mark", arity: argOne, check: "uint32"},
		{name: "or-mark", arity: argOne, check: "uint32"},
		{name: "xor-mark", arity: argOne, check: "uint32"},
		{name: "mask", arity: argOne, check: "uint32"},
		{name: "nfmask", arity: argOne, check: "uint32"},
		{name: "ctmask", arity: argOne, check: "uint32"},
	}},
	{name: "MASQUERADE", target: true, opts: []optSpec{
		{name: "to-ports", arity: argOne},
		{name: "random", arity: argNone},
		{name: "random-fully", arity: argNone},
	}},
	{name: "DNAT", target: true, opts: []optSpec{
		{name: "to-destination", arity: argOne},
		{name: "random", arity: argNone},
		{name: "persistent", arity: argNone},
		{name: "random-fully", arity: argNone},
	}},
	{name: "SNAT", target: true, opts: []optSpec{
		{name: "to-source", arity: argOne},
		{name: "random", arity: argNone},
		{name: "random-fully", arity: argNone},
		{name: "persistent", arity: argNone},
	}},
	{name: "REDIRECT", target: true, opts: []optSpec{
		{name: "to-ports", arity: argOne},
		{name: "random", arity: argNone},
	}},
	{name: "REJECT", target: true, opts: []optSpec{
		{name: "reject-with", arity: argOne, check: "rejectwith"},
	}},
	{name: "LOG", target: true, opts: []optSpec{
		{name: "log-level", arity: argOne, check: "loglevel"},
		{name: "log-prefix", arity: argOne},
		{name: "log-tcp-sequence", arity: argNone},
		{name: "log-tcp-options", arity: argNone},
		{name: "log-ip-options", arity: argNone},
		{name: "log-uid", arity: argNone},
		{name: "log-macdecode", arity: argNone},
	}},
	{name: "NFLOG", target: true, opts: []optSpec{
		{name: "nflog-group", arity: argOne, check: "uint32"},
		{name: "nflog-prefix", arity: argOne},
		{name: "nflog-range", arity: argOne, check: "uint32"},
		{name: "nflog-size", arity: argOne, check: "uint32"},
		{name: "nflog-threshold", arity: argOne, check: "uint32"},
	}},
	{name: "NOTRACK", target: true},
	{name: "CT", target: true, opts: []optSpec{
		{name: "notrack", arity: argNone},
		{name: "ctevents", arity: argOne},
		{name: "expevents", arity: argOne},
		{name: "helper", arity: argOne},
		{name: "timeout", arity: argOne},
		{name: "zone-orig", arity: argOne},
		{name: "zone-reply", arity: argOne},
		{name: "zone", arity: argOne},
	}},
	{name: "TCPMSS", target: true, opts: []optSpec{
		{name: "set-mss", arity: argOne, check: "uint32"},
		{name: "clamp-mss-to-pmtu", arity: argNone},
	}},
	{name: "NFQUEUE", target: true, opts: []optSpec{
		{name: "queue-num", arity: argOne, check: "uint16"},
		{name: "queue-balance", arity: argOne},
		{name: "queue-bypass", arity: argNone},
		{name: "fail-open", arity: argNone},
		{name: "queue-cpu-fanout", arity: argNone},
	}},
	{name: "SET", target: true, opts: []optSpec{
		{name: "add-set", arity: argTwo},
		{name: "del-set", arity: argTwo},
		{name: "map-set", arity: argTwo},
		{name: "timeout", arity: argOne},
		{name: "exist", arity: argNone},
		{name: "map-mark", arity: argNone},
		{name: "map-prio", arity: argNone},
		{name: "map-queue", arity: argNone},
	}},
	{name: "CLASSIFY", target: true, opts: []optSpec{
		{name: "set-class", arity: argOne},
	}},
	{name: "CHECKSUM", target: true, opts: []optSpec{
		{name: "checksum-fill", arity: argNone},
	}},
	{name: "TRACE", target: true},
	{name: "DSCP", target: true, opts: []optSpec{
		{name: "set-dscp", arity: argOne},
		{name: "set-dscp-class", arity: argOne},
	}},
	{name: "TTL", target: true, family: IPv4, opts: []optSpec{
		{name: "ttl-set", arity: argOne, check: "uint8"},
		{name: "ttl-dec", arity: argOne, check: "uint8"},
		{name: "ttl-inc", arity: argOne, check: "uint8"},
	}},
	{name: "HL", target: true, family: IPv6, opts: []optSpec{
		{name: "hl-set", arity: argOne, check: "uint8"},
		{name: "hl-dec", arity: argOne, check: "uint8"},
		{name: "hl-inc", arity: argOne, check: "uint8"},
	}},
	{name: "TOS", target: true, opts: []optSpec{
		{name: "set-tos", arity: argOne},
		{name: "and-tos", arity: argOne},
		{name: "or-tos", arity: argOne},
		{name: "xor-tos", arity: argOne},
	}},
	{name: "ECN", target: true, family: IPv4, opts: []optSpec{
		{name: "ecn-tcp-remove", arity: argNone},
		{name: "ecn-tcp-cwr", arity: argOne},
		{name: "ecn-tcp-ece", arity: argOne},
		{name: "ecn-ip-ect", arity: argOne},
	}},
	{name: "TCPOPTSTRIP", target: true, opts: []optSpec{
		{name: "strip-options", arity: argOne},
	}},
	{name: "NETMAP", target: true, opts: []optSpec{
		{name: "to", arity: argOne},
	}},
	{name: "DNPT", target: true, family: IPv6, opts: []optSpec{
		{name: "src-pfx", arity: argOne},
		{name: "dst-pfx", arity: argOne},
	}},
	{name: "SNPT", target: true, family: IPv6, opts: []optSpec{
		{name: "src-pfx", arity: argOne},
		{name: "dst-pfx", arity: argOne},
	}},
	{name: "HMARK", target: true, opts: []optSpec{
		{name: "hmark-tuple", arity: argOne},
		{name: "hmark-src-prefix", arity: argOne},
		{name: "hmark-dst-prefix", arity: argOne},
		{name: "hmark-sport-mask", arity: argOne},
		{name: "hmark-dport-mask", arity: argOne},
		{name: "hmark-spi-mask", arity: argOne, check: "uint32"},
		{name: "hmark-sport", arity: argOne},
		{name: "hmark-dport", arity: argOne},
		{name: "hmark-spi", arity: argOne, check: "uint32"},
		{name: "hmark-proto-mask", arity: argOne},
		{name: "hmark-rnd", arity: argOne, check: "uint32"},
		{name: "hmark-mod", arity: argOne, check: "uint32nz"},
		{name: "hmark-offset", arity: argOne, check: "uint32"},
	}},
	{name: "AUDIT", target: true, opts: []optSpec{
		{name: "type", arity: argOne},
	}},
	{name: "IDLETIMER", target: true, opts: []optSpec{
		{name: "timeout", arity: argOne, check: "uint32"},
		{name: "label", arity: argOne},
		{name: "alarm", arity: argNone},
	}},
	{name: "TEE", target: true, opts: []optSpec{
		{name: "gateway", arity: argOne},
		{name: "oif", arity: argOne},
	}},
	{name: "TPROXY", target: true, opts: []optSpec{
		{name: "on-port", arity: argOne},
		{name: "on-ip", arity: argOne},
		{name: "tproxy-mark", arity: argOne},
	}},
	{name: "SYNPROXY", target: true, opts: []optSpec{
		{name: "sack-perm", arity: argNone},
		{name: "timestamp", arity: argNone},
		{name: "wscale", arity: argOne, check: "uint32"},
		{name: "mss", arity: argOne, check: "uint32"},
		{name: "ecn", arity: argNone},
	}},
	{name: "RATEEST", target: true, opts: []optSpec{
		{name: "rateest-name", arity: argOne},
		{name: "rateest-interval", arity: argOne},
		{name: "rateest-ewmalog", arity: argOne},
	}},
	{name: "SECMARK", target: true, opts: []optSpec{
		{name: "selctx", arity: argOne},
	}},
	{name: "CONNSECMARK", target: true, opts: []optSpec{
		{name: "save", arity: argNone},
		{name: "restore", arity: argNone},
	}},
	// CLUSTERIP's options are described so that --new is not taken as an
	// abbreviation of --new-chain.
	{name: "CLUSTERIP", target: true, family: IPv4, opts: []optSpec{
		{name: "new", arity: argNone},
		{name: "hashmode", arity: argOne},
		{name: "clustermac", arity: argOne},
		{name: "total-nodes", arity: argOne},
		{name: "local-node", arity: argOne},
		{name: "hash-init", arity: argOne},
	}},
	{name: "LED", target: true, opts: []optSpec{
		{name: "led-trigger-id", arity: argOne},
		{name: "led-delay", arity: argOne},
		{name: "led-always-blink", arity: argNone},
	}},
}

// matchIndex is the index in matchTable of the match named name, or -1.
func matchIndex(name string) int {
	switch name {
	case "tcp":
		return 0
	case "udp":
		return 1
	case "sctp":
		return 2
	case "icmp":
		return 3
	case "icmp6":
		return 4
	case "comment":
		return 5
	case "mark":
		return 6
	case "connmark":
		return 7
	case "multiport":
		return 8
	case "set":
		return 9
	case "addrtype":
		return 10
	case "conntrack":
		return 11
	case "state":
		return 12
	case "statistic":
		return 13
	case "recent":
		return 14
	case "physdev":
		return 15
	case "limit":
		return 16
	case "ipvs":
		return 17
	case "nfacct":
		return 18
	case "owner":
		return 19
	case "iprange":
		return 20
	case "length":
		return 21
	case "pkttype":
		return 22
	case "hashlimit":
		return 23
	case "string":
		return 24
	case "mac":
		return 25
	case "tcpmss":
		return 26
	case "helper":
		return 27
	case "rpfilter":
		return 28
	case "ttl":
		return 29
	case "hl":
		return 30
	case "dscp":
		return 31
	case "esp":
		return 32
	case "ah":
		return 33
	case "tos":
		return 34
	case "cpu":
		return 35
	case "quota":
		return 36
	case "ipcomp":
		return 37
	case "ecn":
		return 38
	case "realm":
		return 39
	case "frag":
		return 40
	case "mh":
		return 41
	case "eui64":
		return 42
	case "hbh":
		return 43
	case "dst":
		return 44
	case "rt":
		return 45
	case "ipv6header":
		return 46
	case "connbytes":
		return 47
	case "connlimit":
		return 48
	case "dccp":
		return 49
	case "srh":
		return 50
	case "cluster":
		return 51
	case "connlabel":
		return 52
	case "cgroup":
		return 53
	case "time":
		return 54
	case "socket":
		return 55
	case "devgroup":
		return 56
	case "u32":
		return 57
	case "policy":
		return 58
	case "rateest":
		return 59
	case "osf":
		return 60
	case "bpf":
		return 61
	}
	return -1
}

// targetIndex is the index in targetTable of the target extension named name, or -1.
func targetIndex(name string) int {
	switch name {
	case "MARK":
		return 0
	case "CONNMARK":
		return 1
	case "MASQUERADE":
		return 2
	case "DNAT":
		return 3
	case "SNAT":
		return 4
	case "REDIRECT":
		return 5
	case "REJECT":
		return 6
	case "LOG":
		return 7
	case "NFLOG":
		return 8
	case "NOTRACK":
		return 9
	case "CT":
		return 10
	case "TCPMSS":
		return 11
	case "NFQUEUE":
		return 12
	case "SET":
		return 13
	case "CLASSIFY":
		return 14
	case "CHECKSUM":
		return 15
	case "TRACE":
		return 16
	case "DSCP":
		return 17
	case "TTL":
		return 18
	case "HL":
		return 19
	case "TOS":
		return 20
	case "ECN":
		return 21
	case "TCPOPTSTRIP":
		return 22
	case "NETMAP":
		return 23
	case "DNPT":
		return 24
	case "SNPT":
		return 25
	case "HMARK":
		return 26
	case "AUDIT":
		return 27
	case "IDLETIMER":
		return 28
	case "TEE":
		return 29
	case "TPROXY":
		return 30
	case "SYNPROXY":
		return 31
	case "RATEEST":
		return 32
	case "SECMARK":
		return 33
	case "CONNSECMARK":
		return 34
	case "CLUSTERIP":
		return 35
	case "LED":
		return 36
	}
	return -1
}
