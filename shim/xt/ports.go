package xt

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/iptables-shim/iptables-shim/shim/dialect"
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
// xtables_parse_port does (libxt_tcp, libxt_sctp, libxt_multiport): a
// number in C's base 0 (0x hex, leading-0 octal), else a service name
// /etc/services lists for that protocol.
func parsePort(s, proto string) (uint16, error) {
	if n, ok := cNumber(s, 0xffff); ok {
		return uint16(n), nil
	}
	if p, ok := lookupService(s, proto); ok {
		return p, nil
	}
	return 0, paramErr("invalid port/service `%s' specified", s)
}

// anyProtoPort parses a port as the option parser's XTTYPE_PORTRC does
// (libxt_udp, libxt_dccp, libxt_conntrack): getaddrinfo without hints, so
// a decimal number, else a service name of any protocol (TCP's entry
// first, then UDP's, then any other).
func anyProtoPort(s string) (uint16, error) {
	if n, ok := gaiServiceNumber(s); ok {
		return n, nil
	}
	for _, proto := range []string{"tcp", "udp", "*"} {
		if p, ok := lookupService(s, proto); ok {
			return p, nil
		}
	}
	return 0, paramErr("Port \"%s\" does not resolve to anything.\n", s)
}

// gaiServiceNumber reads a service as glibc's getaddrinfo does before it
// tries names: strtoul(s, 10) over the whole string (leading white space
// and a sign allowed, an overflow saturating), kept as an int; a negative
// int means "not a number". The port is that number's low 16 bits.
func gaiServiceNumber(s string) (uint16, bool) {
	v, rest := strtoul10(s)
	if s == "" || rest != "" {
		// No digits (strtoul10 hands the whole string back) or more
		// after them.
		return 0, false
	}
	n := int32(uint32(v))
	if n < 0 {
		return 0, false
	}
	return uint16(n), true
}

// cNumber is xtables_strtoui with base 0: the whole string, 0x hex or
// leading-0 octal, at most max.
func cNumber(s string, max uint64) (uint64, bool) {
	if s == "" || s[0] == '+' || s[0] == '-' || strings.ContainsAny(s, "_oObB") {
		return 0, false
	}
	var n uint64
	var err error
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		n, err = strconv.ParseUint(s[2:], 16, 64)
	case len(s) > 1 && s[0] == '0':
		n, err = strconv.ParseUint(s[1:], 8, 64)
	default:
		n, err = strconv.ParseUint(s, 10, 64)
	}
	return n, err == nil && n <= max
}

// parsePortRange parses "a", "a:b", ":b" and "a:" as libxt_tcp/udp do.
func parsePortRange(s, proto string) (portRange, error) {
	port := func(v string) (uint16, error) { return parsePort(v, proto) }
	switch proto {
	case "udp", "dccp", "":
		port = func(v string) (uint16, error) { return anyProtoPort(v) }
	}
	lo, hi, isRange := strings.Cut(s, ":")
	if !isRange {
		p, err := port(s)
		return portRange{p, p}, err
	}
	r := fullPorts
	var err error
	if lo != "" {
		if r.Min, err = port(lo); err != nil {
			return r, err
		}
	}
	if hi != "" {
		if r.Max, err = port(hi); err != nil {
			return r, err
		}
	}
	if r.Min > r.Max {
		return r, paramErr("invalid portrange (min > max)")
	}
	return r, nil
}

// negativePortRange is 1.8.11's refusal of a reversed port range given
// to udp, dccp or conntrack, whose options it parses with libxtables'
// port-range type (1.8.9's udp says "invalid portrange (min > max)", its
// dccp and conntrack take the range as given; tcp keeps its own parser
// and message in both). It is nil in other dialects and for ranges that
// are in order or do not parse (their parser says why).
func negativePortRange(ctx Context, s string) error {
	if ctx.Dialect != dialect.V1811 {
		return nil
	}
	lo, hi, ok := strings.Cut(s, ":")
	if !ok || lo == "" || hi == "" {
		return nil
	}
	a, err1 := anyProtoPort(lo)
	b, err2 := anyProtoPort(hi)
	if err1 != nil || err2 != nil || a <= b {
		return nil
	}
	return paramErr("Port range %d-%d is negative.\n", a, b)
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
		if !ok || (p != proto && proto != "*") {
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
