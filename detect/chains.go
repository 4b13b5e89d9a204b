package detect

// The chains detection looks for. Kept as functions returning fresh slices
// so no caller can change them for everyone.

const (
	// HintChain is kubelet's documented "which backend" marker (1.24+, KEP-3178).
	HintChain = "KUBE-IPTABLES-HINT"
	// KubeletCanary is kubelet's empty canary chain (1.17+).
	KubeletCanary = "KUBE-KUBELET-CANARY"
	// ProxyCanary is kube-proxy's canary chain (iptables mode, 1.17+).
	ProxyCanary = "KUBE-PROXY-CANARY"
)

// MarkerChains are the layer-2 markers, in the order they are looked up and,
// when both backends hold some, ranked: kubelet's own markers outrank
// kube-proxy's.
func MarkerChains() []ChainRef {
	return []ChainRef{
		{"mangle", HintChain},
		{"mangle", KubeletCanary},
		{"nat", KubeletCanary},
		{"filter", KubeletCanary},
		{"mangle", ProxyCanary},
		{"nat", ProxyCanary},
		{"filter", ProxyCanary},
	}
}

// KubeletChains are the chains kubelet 1.13-1.16 creates (layer 3), ranked:
// KUBE-MARK-DROP and filter KUBE-FIREWALL only ever come from kubelet in
// those versions, while kube-proxy also creates KUBE-MARK-MASQ and
// KUBE-POSTROUTING with -N.
func KubeletChains() []ChainRef {
	return []ChainRef{
		{"nat", "KUBE-MARK-DROP"},
		{"filter", "KUBE-FIREWALL"},
		{"nat", "KUBE-MARK-MASQ"},
		{"nat", "KUBE-POSTROUTING"},
	}
}

// tablesOf lists the distinct tables of refs, in order.
func tablesOf(refs []ChainRef) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range refs {
		if !seen[r.Table] {
			seen[r.Table] = true
			out = append(out, r.Table)
		}
	}
	return out
}
