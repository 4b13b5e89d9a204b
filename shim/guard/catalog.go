package guard

import (
	"fmt"
)

// Catalog says what kubelet puts in the chains callers assume it made, for
// one kubelet era and one pair of mark bits (kubelet's --iptables-drop-bit
// and --iptables-masquerade-bit).
type Catalog struct {
	// Era is "1.13" (kubelet 1.13 to 1.18.4: --set-xmark marks, a
	// KUBE-POSTROUTING that masquerades marked packets) or "1.19" (1.18.5
	// and later: --or-mark, RETURN/--xor-mark in KUBE-POSTROUTING).
	Era           string
	DropBit       int
	MasqueradeBit int
}

// Eras lists the catalog eras.
var Eras = []string{"1.13", "1.19"}

// Entry is the contents of one chain: rules as restore lines without the
// "-A CHAIN " prefix.
type Entry struct {
	Table string
	Chain string
	Rules []string
	// Companion is set for chains kubelet creates beside the marking
	// chains (filter KUBE-FIREWALL): created only when switched on.
	Companion bool
	// Hooks are jumps from built-in chains to this chain, as restore lines
	// ("-I INPUT -j KUBE-FIREWALL"), added when the chain is created.
	Hooks []string
}

func (c Catalog) marks() (drop, masq string) {
	return fmt.Sprintf("0x%x", uint32(1)<<c.DropBit), fmt.Sprintf("0x%x", uint32(1)<<c.MasqueradeBit)
}

// Lookup returns the catalog entry for a chain in a table.
func (c Catalog) Lookup(table, chain string) (Entry, bool) {
	drop, masq := c.marks()
	switch {
	case table == "nat" && chain == "KUBE-MARK-DROP":
		// Saved as --set-xmark V/V in every era (--or-mark V is the same
		// MARK target bytes).
		return Entry{Table: table, Chain: chain, Rules: []string{"-j MARK --set-xmark " + drop + "/" + drop}}, true
	case table == "nat" && chain == "KUBE-MARK-MASQ":
		return Entry{Table: table, Chain: chain, Rules: []string{"-j MARK --set-xmark " + masq + "/" + masq}}, true
	case table == "nat" && chain == "KUBE-POSTROUTING":
		e := Entry{Table: table, Chain: chain,
			Hooks: []string{`-I POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING`}}
		if c.Era == "1.13" {
			e.Rules = []string{`-m comment --comment "kubernetes service traffic requiring SNAT" -m mark --mark ` + masq + "/" + masq + " -j MASQUERADE"}
		} else {
			e.Rules = []string{
				"-m mark ! --mark " + masq + "/" + masq + " -j RETURN",
				// --xor-mark V is saved (and encoded) as --set-xmark V/0x0.
				"-j MARK --set-xmark " + masq + "/0x0",
				`-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE`,
			}
		}
		return e, true
	case table == "filter" && chain == "KUBE-FIREWALL":
		return Entry{Table: table, Chain: chain, Companion: true,
			Rules: []string{`-m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark ` + drop + "/" + drop + " -j DROP"},
			Hooks: []string{"-I INPUT -j KUBE-FIREWALL", "-I OUTPUT -j KUBE-FIREWALL"}}, true
	}
	return Entry{}, false
}

// companions are the chains kubelet creates together with a chain a caller
// references: making KUBE-MARK-DROP without the filter rule that drops what
// it marks leaves marked packets flowing.
//
// The sets below are switches rather than package-level maps: the shim
// starts for every iptables call, and maps would be built at every start.
func companions(table, chain string) []struct{ table, chain string } {
	if table == "nat" && chain == "KUBE-MARK-DROP" {
		return []struct{ table, chain string }{{"filter", "KUBE-FIREWALL"}}
	}
	return nil
}

// IsMarker reports whether chain is a backend-detection marker
// (KEP-3178's hint and the canaries): they steer every backend detector on
// the node, so the guard never creates them, whatever references them.
func IsMarker(chain string) bool {
	switch chain {
	case "KUBE-IPTABLES-HINT", "KUBE-KUBELET-CANARY", "KUBE-PROXY-CANARY":
		return true
	}
	return false
}

// isBuiltin reports the built-in chains of every table.
func isBuiltin(chain string) bool {
	switch chain {
	case "PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING":
		return true
	}
	return false
}

// isKernelTarget reports the x_tables target extensions Linux has had (from
// the uapi headers and the ipt_/ip6t_ modules). A -j NAME with one of these
// names is a target, never a chain to create, even without options and even
// when the parser's option table does not describe it.
func isKernelTarget(name string) bool {
	switch name {
	case "AUDIT", "CHECKSUM", "CLASSIFY", "CLUSTERIP", "CONNMARK",
		"CONNSECMARK", "CT", "DNAT", "DNPT", "DSCP", "ECN",
		"HL", "HMARK", "IDLETIMER", "LED", "LOG", "MARK",
		"MASQUERADE", "MIRROR", "NETMAP", "NFLOG", "NFQUEUE",
		"NOTRACK", "RATEEST", "REDIRECT", "REJECT", "SAME",
		"SECMARK", "SET", "SNAT", "SNPT", "SYNPROXY", "TCPMSS",
		"TCPOPTSTRIP", "TEE", "TOS", "TPROXY", "TRACE", "TTL",
		"ULOG", "JOURNAL", "STANDARD", "ERROR":
		return true
	}
	return false
}
