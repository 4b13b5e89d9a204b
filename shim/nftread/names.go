package nftread

import (
	"bufio"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// Without -n, iptables -L names addresses (gethostbyaddr, then
// getnetbyaddr) and ports (getservbyport). The C library may ask DNS for
// that; the native backend reads only /etc/hosts, /etc/networks and
// /etc/services, so a listing never waits on the network. On a node whose
// names come from DNS alone, our -L shows numbers where iptables would
// show names (use -n for output that is the same everywhere).

// nameFiles are the files names are read from.
type nameFiles struct {
	hosts, networks, services string
}

// DefaultNameFiles are the system's files.
var DefaultNameFiles = nameFiles{hosts: "/etc/hosts", networks: "/etc/networks", services: "/etc/services"}

// names resolves addresses and ports for -L, reading its files on first
// use.
type names struct {
	files    nameFiles
	loaded   bool
	hosts    map[netip.Addr]string
	networks map[netip.Addr]string
	// services maps "port/proto" to the first service name.
	services map[string]string
}

// NewNames returns the name resolution -L uses without -n, reading the
// hosts, networks and services files f names (DefaultNameFiles in use).
func NewNames(f nameFiles) *names { return &names{files: f} }

func (n *names) load() {
	if n.loaded {
		return
	}
	n.loaded = true
	n.hosts, n.networks, n.services = map[netip.Addr]string{}, map[netip.Addr]string{}, map[string]string{}
	eachLine(n.files.hosts, func(f []string) {
		ip, err := netip.ParseAddr(f[0])
		if err != nil || len(f) < 2 {
			return
		}
		if _, ok := n.hosts[ip]; !ok {
			n.hosts[ip] = f[1]
		}
	})
	eachLine(n.files.networks, func(f []string) {
		if len(f) < 2 {
			return
		}
		ip, ok := networkAddr(f[1])
		if !ok {
			return
		}
		if _, seen := n.networks[ip]; !seen {
			n.networks[ip] = f[0]
		}
	})
	eachLine(n.files.services, func(f []string) {
		if len(f) < 2 {
			return
		}
		if _, seen := n.services[f[1]]; !seen {
			n.services[f[1]] = f[0]
		}
	})
}

// networkAddr reads /etc/networks' dotted network numbers, which may have
// fewer than four parts ("127" is 127.0.0.0).
func networkAddr(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var b [4]byte
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 8)
		if err != nil {
			return netip.Addr{}, false
		}
		b[i] = byte(v)
	}
	return netip.AddrFrom4(b), true
}

// eachLine calls fn with the fields of every non-comment line of path.
func eachLine(path string, fn func([]string)) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line, _, _ := strings.Cut(s.Text(), "#")
		if fields := strings.Fields(line); len(fields) > 0 {
			fn(fields)
		}
	}
}

// addr names an address as xtables_ipaddr_to_anyname does: a host name,
// for IPv4 a network name, else the address.
func (n *names) addr(ip netip.Addr) string {
	n.load()
	if h, ok := n.hosts[ip]; ok {
		return h
	}
	if ip.Is4() {
		if h, ok := n.networks[ip]; ok {
			return h
		}
	}
	return ip.String()
}

// port names a port for protocol proto ("tcp"), or prints its number.
func (n *names) port(port, proto string) string {
	n.load()
	if s, ok := n.services[port+"/"+proto]; ok {
		return s
	}
	return port
}
