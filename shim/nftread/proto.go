package nftread

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"github.com/iptables-shim/iptables-shim/shim/dialect"
)

// chainProtos is iptables 1.8.7's built-in protocol table
// (xtables_chain_protos), in its order, which the 1.8.7 dialect prints
// from (dialectread.go).
var chainProtos = []struct {
	name string
	num  uint8
}{
	{"tcp", 6}, {"sctp", 132}, {"udp", 17}, {"udplite", 136}, {"icmp", 1},
	{"icmpv6", 58}, {"ipv6-icmp", 58}, {"esp", 50}, {"ah", 51}, {"ipv6-mh", 135}, {"mh", 135},
	{"all", 0},
}

// chainProtos189 is iptables 1.8.9's xtables_chain_protos, in its order:
// the first entry of a number is the name it prints for it. 1.8.9
// consults it before /etc/protocols in both directions.
var chainProtos189 = []struct {
	name string
	num  uint8
}{
	{"tcp", 6}, {"sctp", 132}, {"udp", 17}, {"udplite", 136}, {"icmp", 1},
	{"ipv6-icmp", 58}, {"icmpv6", 58}, {"esp", 50}, {"ah", 51},
	{"mobility-header", 135}, {"ipv6-mh", 135}, {"mh", 135},
	{"all", 0},
}

// Protocols resolves protocol names and numbers the way iptables does:
// 1.8.9 asks its own table first, then /etc/protocols (getprotobyname,
// getprotobynumber); 1.8.7 asked the file first. The file is read only
// when it is asked, once per call, as iptables 1.8.9 avoids the lookup for
// the common protocols.
type Protocols struct {
	path   string
	loaded bool
	byName map[string]uint8
	byNum  map[uint8]string
	// BuiltinNames prints only the names of iptables' own table, numbers
	// otherwise, as iptables-nft 1.8.11 does (dialectread.go).
	BuiltinNames bool
	// Printer is the version whose printing -L follows (dialectread.go).
	Printer dialect.Dialect
}

// LoadProtocols returns the protocols of the file at path, read on first
// use: most single commands (-N, -C of a jump, -S of a chain without -p)
// never name a protocol, and parsing the file is a fair share of such a
// command's own work.
func LoadProtocols(path string) *Protocols {
	return &Protocols{path: path}
}

// load reads the file the first time it is needed (one call is one
// goroutine: no lock).
func (p *Protocols) load() {
	if !p.loaded {
		p.loaded = true
		p.read()
	}
}

func (p *Protocols) read() {
	p.byName, p.byNum = map[string]uint8{}, map[uint8]string{}
	f, err := os.Open(p.path)
	if err != nil {
		// No /etc/protocols (minimal images): iptables falls back to its
		// table, and so do we.
		return
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line, _, _ := strings.Cut(s.Text(), "#")
		fs := strings.Fields(line)
		if len(fs) < 2 {
			continue
		}
		n, err := strconv.Atoi(fs[1])
		if err != nil || n < 0 || n > 255 {
			continue
		}
		for _, name := range append([]string{fs[0]}, fs[2:]...) {
			if _, ok := p.byName[name]; !ok {
				p.byName[name] = uint8(n)
			}
		}
		if _, ok := p.byNum[uint8(n)]; !ok {
			p.byNum[uint8(n)] = fs[0]
		}
	}
}

// Number parses -p's value as xtables_parse_protocol does: a number, a
// name of iptables' table, else a name /etc/protocols knows (its aliases
// too). iptables lower-cases the value first.
func (p *Protocols) Number(v string) (uint8, bool) {
	if n, ok := parseProtoNumber(v); ok {
		return n, true
	}
	v = strings.ToLower(v)
	for _, cp := range chainProtos189 {
		if cp.name == v {
			return cp.num, true
		}
	}
	p.load()
	n, ok := p.byName[v]
	return n, ok
}

// parseProtoNumber is xtables_strtoui with base 0 and a maximum of 255:
// decimal, 0x hex or 0 octal.
func parseProtoNumber(v string) (uint8, bool) {
	n, err := strconv.ParseUint(v, 0, 8)
	if err != nil || strings.HasPrefix(v, "0b") || strings.HasPrefix(v, "0o") || strings.Contains(v, "_") {
		return 0, false
	}
	return uint8(n), true
}

// builtinName is 1.8.9's proto_to_name with lookups off: its table only.
func builtinName(n uint8) (string, bool) {
	for _, cp := range chainProtos189 {
		if cp.num == n {
			return cp.name, true
		}
	}
	return "", false
}

// Name renders a protocol number as iptables prints it (proto_to_name):
// 1.8.9's table, then /etc/protocols, else the number; 1.8.7 looked in
// the file first; 1.8.11 prints its own table's names only.
func (p *Protocols) Name(n uint8) string {
	return p.nameFrom(n, p.BuiltinNames)
}

// nameFrom is name, with 1.8.11's own table only when builtinOnly.
func (p *Protocols) nameFrom(n uint8, builtinOnly bool) string {
	if builtinOnly {
		return builtinProtoName(n)
	}
	if p.Printer != dialect.V187 {
		if s, ok := builtinName(n); ok {
			return s
		}
	}
	p.load()
	if s, ok := p.byNum[n]; ok {
		return s
	}
	for _, cp := range chainProtos {
		if cp.num == n {
			return cp.name
		}
	}
	return strconv.Itoa(int(n))
}
