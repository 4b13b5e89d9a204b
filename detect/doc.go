// Package detect decides which netfilter backend the host uses — legacy
// x_tables or nf_tables — from evidence gathered without running any
// iptables binary and without creating any table, and caches the decision
// per network namespace.
//
// # Evidence
//
// Evidence is gathered cheapest first: markers; kubelet's chains only when no
// marker was found; rule counts only when no Kubernetes chain was found.
// nf_tables is asked over netlink (package nftquery): the tables of families
// ip and ip6, then each named chain looked up directly, and a rule count
// that stops at DefaultCountLimit. Markers are looked for in legacy's mangle
// table only (kubelet and kube-proxy create each canary in mangle, nat and
// filter together, and mangle stays small).
// Legacy x_tables is read through /proc/net/ip{,6}_tables_names and, for the
// listed tables only, getsockopt IPT_SO_GET_INFO / IPT_SO_GET_ENTRIES
// (package xtables); asking for an unlisted table would create it. Host hints
// come from the host root (Options.HostRoot, "/" by default, e.g. "/host" in
// a pod): etc/alternatives/iptables, usr/sbin/iptables, which
// xtables-*-multi binaries exist, etc/os-release. They are read and used
// only when the root is known to be the host's (CheckHostRoot): a
// configured root must be a mount point (the host's / mounted there); "/"
// counts when this process is in the initial PID namespace and in PID 1's
// (or the initial) mount namespace, is read through /proc/1/root when it is
// in the initial PID namespace but a mount namespace of its own, and is
// never used from another PID namespace (a container: "/" is its image,
// whose /etc says nothing about the host). The hints say which applied and
// why (trusted, trust, read_from). Every probe runs under a
// timeout (Options.ProbeTimeout); a failing probe is recorded in the evidence
// ("nf_tables unavailable: ...") and never aborts detection.
//
// # Decision layers
//
// Decide applies these in order; the first that decides wins and its name is
// the decision's Reason:
//
//  1. "override": an explicit mode (env IPTABLES_SHIM_MODE, config file, flag).
//  2. "marker": KUBE-IPTABLES-HINT (mangle), KUBE-KUBELET-CANARY,
//     KUBE-PROXY-CANARY; nf_tables first, then legacy; v4, then v6.
//  3. "kubelet-chains": KUBE-MARK-DROP, KUBE-MARK-MASQ, KUBE-POSTROUTING (nat),
//     KUBE-FIREWALL (filter), as kubelet 1.13-1.16 creates them.
//  4. "rule-count": the backend with more rules (v4 + v6, each capped at
//     DefaultCountLimit), not counting chains this shim created.
//  5. "host-hint": alternatives link, iptables link, the only installed
//     xtables binary, OS release.
//  6. "wait": when nothing at all is found, Resolve probes again every
//     200 ms for up to Options.Wait (default 3 s) — kube-proxy may start
//     before kubelet. Evidence that appears decides through its own layer.
//  7. "default": Options.Default (nft), or the other backend when the
//     default one is unavailable in this kernel.
//
// When Kubernetes chains exist in both backends (split brain), kubelet's
// chains outrank kube-proxy's, because kubelet runs on the host with the
// host's own iptables while a containerised kube-proxy may use the wrong one:
// KUBE-IPTABLES-HINT, KUBE-KUBELET-CANARY, KUBE-MARK-DROP, filter
// KUBE-FIREWALL, KUBE-MARK-MASQ, KUBE-POSTROUTING, KUBE-PROXY-CANARY — the
// first present in exactly one backend decides; if none does, nf_tables. A
// warning naming both sides is always recorded.
//
// # Cache
//
// Resolve caches the decision in <CacheDir>/netns-<key>.json (CacheDir is
// /run/iptables-shim by default), written to a temporary file and renamed,
// under an flock on netns-<key>.json.lock so that racing first calls make
// one decision. The key is the network namespace's identity (NetNS): its
// cookie (SO_NETNS_COOKIE, Linux 5.14+: "c<cookie>"), never its inode,
// which the kernel hands to a new namespace once the old one is gone; each
// file also carries the inode and the boot id. On kernels without cookies
// only the initial namespace is cached ("init"); any other is decided on
// every call, and the chains the guard creates there are not recorded
// (ErrNoNetNSIdentity). Files of namespaces that are gone (an earlier boot, the older
// inode-keyed format, an inode now held under another identity, an inode no
// process or namespace mount holds) are swept when a fresh decision is made,
// at most every five minutes. A cached decision is used while:
//
//   - the cache file is for this namespace identity, this format, and the
//     same default mode, wait and host root;
//   - for "marker" and "kubelet-chains" decisions, the basis chain (the one
//     that decided) still exists in its backend: one netlink lookup for
//     nf_tables; for legacy, one copy of the basis table walked for chain
//     heads, which is skipped while the table's IPT_SO_GET_INFO stamp
//     (entry count, size, hook offsets) equals the one recorded in the
//     cache file at the last such check and that check is under 15 s old
//     (the copy's cost grows with the table, kube-proxy's nat table the
//     biggest: bench/detect measures it; a change the stamp cannot see, such as a rename to a name of the same
//     length, is noticed within the 15 s);
//   - for "rule-count", "host-hint" and "default" decisions, no marker or
//     kubelet chain has appeared in either backend since (legacy tables
//     over 256 KiB are not re-read for this, to bound the cost per call).
//
// Otherwise it re-decides and rewrites the file. Overrides are never cached
// (they cost nothing). Options.Fresh forces a new decision.
//
// # Chains the shim creates
//
// The missing-chain guard records every chain it creates with RecordCreated;
// they live in <CacheDir>/created/<key>.json, keyed and swept like the cache
// ("record" holds a JSON array of {"mode","family","table","chain"}),
// rewritten atomically under <key>.json.lock. Detection never takes such a
// chain as evidence (layers 3 and 4), so a wrong early choice cannot confirm
// itself. Calls the guard let through unguarded, because it could not look
// up chains, are counted the same way in <CacheDir>/guard-off/<key>.json
// (RecordGuardOff); doctor reports them.
//
// # The guard's lookups
//
// Chains answers the missing-chain guard's "which of these chains exist in
// this table?" for one backend and family, with the same readers and the
// same never-create rule: nf_tables chains looked up one request each (or,
// for more than a handful, the table listed once), an x_tables table read
// once and walked for chain heads. The router gets it from its wiring
// (cmd), so shim/route imports none of detection.
//
// # Without root
//
// The probers read whatever they are given: NFTProber.Open an nfnetlink
// transport (internal/nfnl/fake's in-memory nf_tables in tests),
// LegacyProber.Kernel an x_tables (detect/xtables/fake, which answers
// GET_INFO and GET_ENTRIES with the kernel's entry layout). Every
// scenario test runs on them as well as in a namespace's kernel, so the
// decisions, the cache and the stamps are tested without root.
//
// # JSON
//
// `iptables-shim detect --json` prints a Decision. The document is stable;
// fields are only ever added:
//
//	mode        "nft" or "legacy"
//	reason      "override" | "marker" | "kubelet-chains" | "rule-count" |
//	            "host-hint" | "default"
//	detail      one sentence
//	warnings    [string], absent when none
//	basis       {mode, family, table, chain}: the deciding chain, for marker
//	            and kubelet-chains
//	split       true when Kubernetes chains exist in both backends
//	evidence    {backends: [{mode, families: [{family ("ipv4"|"ipv6"), error,
//	            unavailable, denied, tables, markers: [{table, chain}], kubelet_chains,
//	            kubelet_checked, counted, rules, capped}]}], hints: {root,
//	            trusted, trust, read_from, alternatives, iptables_link, os_id,
//	            os_version_id, xtables, errors}, waited_ns}; hints are read
//	            only when trusted, and trust says why (or why not)
//	decided_at  RFC 3339 time the decision was made
//	cached      true when served from the cache
//
// # Cost
//
// A warm call costs a stat, a small file read and one netlink lookup,
// whatever the ruleset size. `go run ./bench/detect` prints our figures next
// to `iptables-nft-save -t mangle` + search at 0, 16k and 160k rules.
package detect
