package native

import (
	"bufio"

	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"os"
	"strconv"
	"strings"
)

// chainProtos is iptables' built-in protocol table (xtables_chain_protos),
// used when /etc/protocols does not know a name or number.
var chainProtos = []struct {
	name string
	num  uint8
}{
	{"tcp", 6}, {"sctp", 132}, {"udp", 17}, {"udplite", 136}, {"icmp", 1},
	{"icmpv6", 58}, {"ipv6-icmp", 58}, {"esp", 50}, {"ah", 51}, {"ipv6-mh", 135}, {"mh", 135},
	{"all", 0},
}

// protocols resolves protocol names and numbers the way iptables does:
// /etc/protocols first (getprotobyname/getprotobynumber), then its own
// table. It is read once per call, so save output follows the host's file
// just as iptables-nft-save's does.
type protocols struct {
	path   string
	loaded bool
	byName map[string]uint8
	byNum  map[uint8]string
	// builtinNames prints only the names of iptables' own table, numbers
	// otherwise, as iptables-nft 1.8.11 does (dialectread.go).
	builtinNames bool
	// printer is the version whose printing -L follows (dialectread.go).
	printer dialect.Dialect
}

// loadProtocols returns the protocols of the file at path, read on first
// use: most single commands (-N, -C of a jump, -S of a chain without -p)
// never name a protocol, and parsing the file is a fair share of such a
// command's own work.
func loadProtocols(path string) *protocols {
	return &protocols{path: path}
}

// load reads the file the first time it is needed (one call is one
// goroutine: no lock).
func (p *protocols) load() {
	if !p.loaded {
		p.loaded = true
		p.read()
	}
}

func (p *protocols) read() {
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

// number parses -p's value: a number, a name from iptables' table or
// /etc/protocols. iptables lower-cases names first.
func (p *protocols) number(v string) (uint8, bool) {
	if n, err := strconv.ParseUint(v, 10, 8); err == nil {
		return uint8(n), true
	}
	v = strings.ToLower(v)
	for _, cp := range chainProtos {
		if cp.name == v {
			return cp.num, true
		}
	}
	p.load()
	n, ok := p.byName[v]
	return n, ok
}

// name renders a protocol number as iptables-nft-save prints it.
func (p *protocols) name(n uint8) string {
	if p.builtinNames {
		return builtinProtoName(n)
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
