package syntax

import "github.com/iptables-shim/iptables-shim/shim/netfilter"

// Family is the address family a command or payload is for (an alias of
// netfilter.Family, the leaf package detection shares).
type Family = netfilter.Family

const (
	// IPv4 is iptables*.
	IPv4 = netfilter.IPv4
	// IPv6 is ip6tables*.
	IPv6 = netfilter.IPv6
)
