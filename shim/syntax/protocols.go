package syntax

// protocolByName is the number of a protocol name iptables 1.8.9 accepts
// for -p: its own table plus the netbase /etc/protocols names, lower-cased
// as iptables lower-cases its argument. Built in, because the shim may run
// in an image without /etc/protocols; a switch, because a map would be
// built at every start of the binary.
func protocolByName(name string) (int, bool) {
	switch name {
	case "all", "hopopt", "ip":
		return 0, true
	case "icmp":
		return 1, true
	case "igmp":
		return 2, true
	case "ggp":
		return 3, true
	case "ipencap":
		return 4, true
	case "st":
		return 5, true
	case "tcp":
		return 6, true
	case "egp":
		return 8, true
	case "igp":
		return 9, true
	case "pup":
		return 12, true
	case "udp":
		return 17, true
	case "hmp":
		return 20, true
	case "xns-idp":
		return 22, true
	case "rdp":
		return 27, true
	case "iso-tp4":
		return 29, true
	case "dccp":
		return 33, true
	case "xtp":
		return 36, true
	case "ddp":
		return 37, true
	case "idpr-cmtp":
		return 38, true
	case "ipv6":
		return 41, true
	case "ipv6-route":
		return 43, true
	case "ipv6-frag":
		return 44, true
	case "idrp":
		return 45, true
	case "rsvp":
		return 46, true
	case "gre":
		return 47, true
	case "esp":
		return 50, true
	case "ah":
		return 51, true
	case "skip":
		return 57, true
	case "icmpv6", "ipv6-icmp":
		return 58, true
	case "ipv6-nonxt":
		return 59, true
	case "ipv6-opts":
		return 60, true
	case "rspf":
		return 73, true
	case "vmtp":
		return 81, true
	case "eigrp":
		return 88, true
	case "ospf":
		return 89, true
	case "ax.25":
		return 93, true
	case "ipip":
		return 94, true
	case "etherip":
		return 97, true
	case "encap":
		return 98, true
	case "pim":
		return 103, true
	case "ipcomp":
		return 108, true
	case "vrrp":
		return 112, true
	case "l2tp":
		return 115, true
	case "isis":
		return 124, true
	case "sctp":
		return 132, true
	case "fc":
		return 133, true
	case "mh", "mobility-header":
		return 135, true
	case "udplite":
		return 136, true
	case "mpls-in-ip":
		return 137, true
	case "manet":
		return 138, true
	case "hip":
		return 139, true
	case "shim6":
		return 140, true
	case "wesp":
		return 141, true
	case "rohc":
		return 142, true
	case "ethernet":
		return 143, true
	}
	return 0, false
}

// serviceByName is the port of an /etc/services name accepted for ports.
// Unknown names are refused rather than guessed.
func serviceByName(name string) (int, bool) {
	switch name {
	case "ftp-data":
		return 20, true
	case "ftp":
		return 21, true
	case "ssh":
		return 22, true
	case "telnet":
		return 23, true
	case "smtp":
		return 25, true
	case "domain":
		return 53, true
	case "bootps":
		return 67, true
	case "bootpc":
		return 68, true
	case "tftp":
		return 69, true
	case "http", "www":
		return 80, true
	case "pop3":
		return 110, true
	case "ntp":
		return 123, true
	case "imap2":
		return 143, true
	case "snmp":
		return 161, true
	case "bgp":
		return 179, true
	case "ldap":
		return 389, true
	case "https":
		return 443, true
	case "submission":
		return 587, true
	case "ldaps":
		return 636, true
	}
	return 0, false
}
