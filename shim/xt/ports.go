package xt

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// portRange is an inclusive range of ports; the zero-width range a:a is a
// single port. The full range 0:65535 is what libxt stores for "no port
// given".
type portRange struct{ Min, Max uint16 }

var fullPorts = portRange{0, 0xffff}

func (r portRange) full() bool   { return r == fullPorts }
func (r portRange) single() bool { return r.Min == r.Max }

// String prints the range as libxt_tcp/udp/multiport save it.
func (r portRange) String() string {
	if r.single() {
		return strconv.Itoa(int(r.Min))
	}
	return fmt.Sprintf("%d:%d", r.Min, r.Max)
}

// parsePort parses a port number or service name as libxtables'
// xtables_parse_port does (service names come from /etc/services for the
// given protocol).
func parsePort(s, proto string) (uint16, error) {
	if n, err := strconv.ParseUint(s, 10, 16); err == nil {
		return uint16(n), nil
	}
	if p, ok := lookupService(s, proto); ok {
		return p, nil
	}
	return 0, paramErr("invalid port/service `%s' specified", s)
}

// parsePortRange parses "a", "a:b", ":b" and "a:" as libxt_tcp/udp do.
func parsePortRange(s, proto string) (portRange, error) {
	lo, hi, isRange := strings.Cut(s, ":")
	if !isRange {
		p, err := parsePort(s, proto)
		return portRange{p, p}, err
	}
	r := fullPorts
	var err error
	if lo != "" {
		if r.Min, err = parsePort(lo, proto); err != nil {
			return r, err
		}
	}
	if hi != "" {
		if r.Max, err = parsePort(hi, proto); err != nil {
			return r, err
		}
	}
	if r.Min > r.Max {
		return r, paramErr("invalid portrange (min > max)")
	}
	return r, nil
}

// lookupAnyService is getservbyname(name, NULL): the first entry of
// /etc/services with that name, whatever its protocol.
func lookupAnyService(name string) (uint16, bool) {
	for _, p := range []string{"tcp", "udp", "sctp", "dccp"} {
		if v, ok := lookupService(name, p); ok {
			return v, true
		}
	}
	return 0, false
}

// lookupService finds a service name in /etc/services, which is what
// getservbyname reads on the hosts iptables runs on.
func lookupService(name, proto string) (uint16, bool) {
	if name == "" || proto == "" {
		return 0, false
	}
	f, err := os.Open("/etc/services")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		port, p, ok := strings.Cut(fields[1], "/")
		if !ok || p != proto {
			continue
		}
		for i, n := range fields {
			if i == 1 || n != name {
				continue
			}
			if v, err := strconv.ParseUint(port, 10, 16); err == nil {
				return uint16(v), true
			}
		}
	}
	return 0, false
}
