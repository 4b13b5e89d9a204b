package syntax

// Family is the address family a command or payload is for.
type Family int

const (
	// IPv4 is iptables*.
	IPv4 Family = 4
	// IPv6 is ip6tables*.
	IPv6 Family = 6
)
