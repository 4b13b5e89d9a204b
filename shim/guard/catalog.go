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
var companions = map[string][]struct{ table, chain string }{
	"nat/KUBE-MARK-DROP": {{"filter", "KUBE-FIREWALL"}},
}

// markers steer every backend detector on the node (KEP-3178 and the
// canaries): the guard never creates them, whatever references them.
var markers = map[string]bool{
	"KUBE-IPTABLES-HINT":  true,
	"KUBE-KUBELET-CANARY": true,
	"KUBE-PROXY-CANARY":   true,
}

// IsMarker reports whether chain is a backend-detection marker.
func IsMarker(chain string) bool { return markers[chain] }

// builtins are the built-in chains of every table.
var builtins = map[string]bool{
	"PREROUTING": true, "INPUT": true, "FORWARD": true, "OUTPUT": true, "POSTROUTING": true,
}

// kernelTargets are the x_tables target extensions Linux has had (from the
// uapi headers and the ipt_/ip6t_ modules). A -j NAME with one of these
// names is a target, never a chain to create, even without options and even
// when the parser's option table does not describe it.
var kernelTargets = map[string]bool{
	"AUDIT": true, "CHECKSUM": true, "CLASSIFY": true, "CLUSTERIP": true, "CONNMARK": true,
	"CONNSECMARK": true, "CT": true, "DNAT": true, "DNPT": true, "DSCP": true, "ECN": true,
	"HL": true, "HMARK": true, "IDLETIMER": true, "LED": true, "LOG": true, "MARK": true,
	"MASQUERADE": true, "MIRROR": true, "NETMAP": true, "NFLOG": true, "NFQUEUE": true,
	"NOTRACK": true, "RATEEST": true, "REDIRECT": true, "REJECT": true, "SAME": true,
	"SECMARK": true, "SET": true, "SNAT": true, "SNPT": true, "SYNPROXY": true, "TCPMSS": true,
	"TCPOPTSTRIP": true, "TEE": true, "TOS": true, "TPROXY": true, "TRACE": true, "TTL": true,
	"ULOG": true, "JOURNAL": true, "STANDARD": true, "ERROR": true,
}
