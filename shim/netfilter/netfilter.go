// Package netfilter names the two coordinates of every iptables call: the
// address family it is for and the kernel subsystem it goes to. It is a
// leaf: detection, the parser, the backends and routing all import it, and
// it imports nothing of theirs.
package netfilter

// Family is the address family a command or payload is for.
type Family int

const (
	// IPv4 is iptables*.
	IPv4 Family = 4
	// IPv6 is ip6tables*.
	IPv6 Family = 6
)

// Mode is which kernel subsystem a call is sent to.
type Mode string

const (
	// Legacy is the x_tables backend (iptables-legacy).
	Legacy Mode = "legacy"
	// NFT is the nf_tables backend (iptables-nft).
	NFT Mode = "nft"
)
