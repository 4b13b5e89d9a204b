package install

import (
	"path"
	"strings"
)

// Names returns the six names the shim answers to, in a fixed order.
func Names() []string {
	return []string{"iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore"}
}

// IsBackendName reports whether a file name (or path) looks like one of the
// real iptables backends, which the shim execs and therefore must never
// replace or stand in for.
func IsBackendName(p string) bool {
	base := path.Base(p)
	if strings.HasPrefix(base, "xtables-") && strings.HasSuffix(base, "-multi") {
		return true
	}
	if base == "xtables-multi" {
		return true
	}
	return strings.Contains(base, "-legacy") || strings.Contains(base, "-nft")
}
