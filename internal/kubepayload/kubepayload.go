// Package kubepayload generates iptables-restore payloads shaped like the
// ones kube-proxy sends on a full sync, at any size, for benchmarks and load
// tests of restore paths. The payloads only use matches and targets
// kube-proxy uses (statistic, recent, comment, mark, addrtype, conntrack,
// set, DNAT, MARK, MASQUERADE --random-fully, REJECT) and are accepted by
// iptables-restore --noflush --counters on an empty namespace (after the
// ipsets named by IPSets exist, for the IPVS shape).
package kubepayload

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// Shape is which kube-proxy mode the payload imitates.
type Shape int

const (
	// IptablesMode is kube-proxy's iptables proxier: per service a
	// KUBE-SVC chain spreading over per-endpoint KUBE-SEP chains with
	// statistic matches, DNAT in each KUBE-SEP, session affinity with the
	// recent match. 2 + 3*endpoints rules per service.
	IptablesMode Shape = iota
	// IPVSMode is the IPVS proxier: a fixed set of rules matching ipsets,
	// plus one node-port rule per service (as IPVS proxiers did before
	// node ports moved into ipsets), and the KUBE-FIREWALL -> KUBE-MARK-DROP
	// jump of the incident (KUBE-MARK-DROP is declared here so the payload
	// stands alone).
	IPVSMode
)

func (s Shape) String() string {
	if s == IPVSMode {
		return "ipvs"
	}
	return "iptables"
}

// Options size and shape a payload.
type Options struct {
	Services int
	// EndpointsPerService defaults to 2 (which gives 8 rules per service
	// in IptablesMode: 2,000 services are 16,000 rules).
	EndpointsPerService int
	Family              syntax.Family // IPv4 when zero
	Shape               Shape
	// AffinityEvery gives every Nth service ClientIP session affinity
	// (recent match); 0 means every 10th, negative none.
	AffinityEvery int
	// NoEndpointsEvery gives every Nth service no endpoints (a REJECT rule
	// in filter instead); 0 means every 50th, negative none.
	NoEndpointsEvery int
}

func (o Options) withDefaults() Options {
	if o.EndpointsPerService == 0 {
		o.EndpointsPerService = 2
	}
	if o.Family == 0 {
		o.Family = syntax.IPv4
	}
	if o.AffinityEvery == 0 {
		o.AffinityEvery = 10
	}
	if o.NoEndpointsEvery == 0 {
		o.NoEndpointsEvery = 50
	}
	return o
}

// every reports whether service i is one of every n (n <= 0: never).
func every(i, n int) bool { return n > 0 && i%n == n-1 }

// IPSet is an ipset a payload refers to and expects to exist.
type IPSet struct {
	Name string
	Type string // e.g. "hash:ip,port"
}

// IPSets are the ipsets the payload's set matches need; create them (with
// the payload's family: "family inet6" for IPv6) before restoring.
func IPSets(o Options) []IPSet {
	if o.Shape != IPVSMode {
		return nil
	}
	return []IPSet{
		{Name: "KUBE-CLUSTER-IP", Type: "hash:ip,port"},
		{Name: "KUBE-LOOP-BACK", Type: "hash:ip,port,ip"},
		{Name: "KUBE-EXTERNAL-IP", Type: "hash:ip,port"},
	}
}

// addrs are the family's address plans and spellings.
type addrs struct {
	fam syntax.Family
}

func (a addrs) clusterCIDR() string {
	if a.fam == syntax.IPv6 {
		return "fd00:10:244::/48"
	}
	return "10.244.0.0/16"
}

func (a addrs) serviceIP(i int) string {
	if a.fam == syntax.IPv6 {
		return fmt.Sprintf("fd00:10:96::%x", i+10)
	}
	return fmt.Sprintf("10.96.%d.%d", (i+10)/256, (i+10)%256)
}

func (a addrs) podIP(i int) string {
	if a.fam == syntax.IPv6 {
		return fmt.Sprintf("fd00:10:244:%x::%x", i/65000+1, i%65000+2)
	}
	return fmt.Sprintf("10.244.%d.%d", i/250, i%250+2)
}

func (a addrs) host() string {
	if a.fam == syntax.IPv6 {
		return "/128"
	}
	return "/32"
}

func (a addrs) hostPort(ip string, port int) string {
	if a.fam == syntax.IPv6 {
		return fmt.Sprintf("[%s]:%d", ip, port)
	}
	return fmt.Sprintf("%s:%d", ip, port)
}

func (a addrs) fullMask() string {
	if a.fam == syntax.IPv6 {
		return "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
	}
	return "255.255.255.255"
}

func (a addrs) reject() string {
	if a.fam == syntax.IPv6 {
		return "icmp6-port-unreachable"
	}
	return "icmp-port-unreachable"
}

// chainName is kube-proxy's hashed chain name: prefix plus the first 16
// base32 characters of a SHA-256 of what the chain is for.
func chainName(prefix, what string) string {
	sum := sha256.Sum256([]byte(what))
	return prefix + base32.StdEncoding.EncodeToString(sum[:])[:16]
}

// Payload is a generated restore payload.
type Payload struct {
	// Text is the iptables-restore input (nat then filter, one COMMIT each).
	Text string
	// Rules is the number of rule lines (-A) in Text.
	Rules int
	// Chains is the number of chain declarations in Text.
	Chains int
}

// writer collects a payload and counts what it wrote.
type writer struct {
	b      strings.Builder
	rules  int
	chains int
}

func (w *writer) chain(name string) {
	w.chains++
	fmt.Fprintf(&w.b, ":%s - [0:0]\n", name)
}

func (w *writer) rule(format string, args ...any) {
	w.rules++
	w.b.WriteString("-A ")
	fmt.Fprintf(&w.b, format, args...)
	w.b.WriteByte('\n')
}

func (w *writer) line(s string) { w.b.WriteString(s + "\n") }

// Generate builds the payload o describes.
func Generate(o Options) Payload {
	o = o.withDefaults()
	w := &writer{}
	a := addrs{fam: o.Family}
	if o.Shape == IPVSMode {
		ipvs(w, o, a)
	} else {
		iptablesMode(w, o, a)
	}
	return Payload{Text: w.b.String(), Rules: w.rules, Chains: w.chains}
}

// service is one generated service port.
type service struct {
	name, ip string
	port     int
	svcChain string
}

func serviceAt(a addrs, i int) service {
	name := fmt.Sprintf("ns%d/svc-%d:http", i%20, i)
	return service{name: name, ip: a.serviceIP(i), port: 80 + i%3, svcChain: chainName("KUBE-SVC-", name)}
}

func iptablesMode(w *writer, o Options, a addrs) {
	w.line("*nat")
	for _, c := range []string{"KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-MARK-MASQ"} {
		w.chain(c)
	}
	type sep struct{ chain, ip string }
	seps := make([][]sep, o.Services)
	ep := 0
	for i := range o.Services {
		s := serviceAt(a, i)
		if every(i, o.NoEndpointsEvery) {
			continue
		}
		w.chain(s.svcChain)
		for range o.EndpointsPerService {
			ip := a.podIP(ep)
			ep++
			c := chainName("KUBE-SEP-", s.name+ip)
			w.chain(c)
			seps[i] = append(seps[i], sep{chain: c, ip: ip})
		}
	}
	w.rule(`KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN`)
	w.rule(`KUBE-POSTROUTING -j MARK --xor-mark 0x4000`)
	w.rule(`KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully`)
	w.rule(`KUBE-MARK-MASQ -j MARK --or-mark 0x4000`)
	for i := range o.Services {
		s := serviceAt(a, i)
		if every(i, o.NoEndpointsEvery) {
			continue
		}
		portal := fmt.Sprintf(`-d %s%s -p tcp -m comment --comment "%s cluster IP" -m tcp --dport %d`, s.ip, a.host(), s.name, s.port)
		w.rule(`KUBE-SERVICES %s -j %s`, portal, s.svcChain)
		w.rule(`%s ! -s %s %s -j KUBE-MARK-MASQ`, s.svcChain, a.clusterCIDR(), portal)
		affinity := every(i, o.AffinityEvery)
		if affinity {
			for _, e := range seps[i] {
				w.rule(`%s -m comment --comment "%s -> %s" -m recent --rcheck --seconds 10800 --reap --name %s --mask %s --rsource -j %s`,
					s.svcChain, s.name, a.hostPort(e.ip, 8080), e.chain, a.fullMask(), e.chain)
			}
		}
		for n, e := range seps[i] {
			left := len(seps[i]) - n
			if left > 1 {
				w.rule(`%s -m comment --comment "%s -> %s" -m statistic --mode random --probability %.11f -j %s`,
					s.svcChain, s.name, a.hostPort(e.ip, 8080), 1/float64(left), e.chain)
			} else {
				w.rule(`%s -m comment --comment "%s -> %s" -j %s`, s.svcChain, s.name, a.hostPort(e.ip, 8080), e.chain)
			}
		}
		for _, e := range seps[i] {
			w.rule(`%s -s %s%s -m comment --comment "%s" -j KUBE-MARK-MASQ`, e.chain, e.ip, a.host(), s.name)
			recent := ""
			if affinity {
				recent = fmt.Sprintf(" -m recent --set --name %s --mask %s --rsource", e.chain, a.fullMask())
			}
			w.rule(`%s -p tcp -m comment --comment "%s"%s -m tcp -j DNAT --to-destination %s`, e.chain, s.name, recent, a.hostPort(e.ip, 8080))
		}
	}
	w.rule(`KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`)
	w.line("COMMIT")

	w.line("*filter")
	for _, c := range []string{"KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-FORWARD", "KUBE-PROXY-FIREWALL"} {
		w.chain(c)
	}
	for i := range o.Services {
		if !every(i, o.NoEndpointsEvery) {
			continue
		}
		s := serviceAt(a, i)
		w.rule(`KUBE-SERVICES -d %s%s -p tcp -m comment --comment "%s has no endpoints" -m tcp --dport %d -j REJECT --reject-with %s`,
			s.ip, a.host(), s.name, s.port, a.reject())
	}
	w.rule(`KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP`)
	w.rule(`KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT`)
	w.rule(`KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`)
	w.line("COMMIT")
}

func ipvs(w *writer, o Options, a addrs) {
	w.line("*nat")
	for _, c := range []string{"KUBE-SERVICES", "KUBE-POSTROUTING", "KUBE-FIREWALL", "KUBE-NODE-PORT", "KUBE-LOAD-BALANCER", "KUBE-MARK-MASQ", "KUBE-MARK-DROP"} {
		w.chain(c)
	}
	w.rule(`KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000`)
	w.rule(`KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000`)
	w.rule(`KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -m mark --mark 0x4000/0x4000 -j MASQUERADE --random-fully`)
	w.rule(`KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE`)
	w.rule(`KUBE-SERVICES ! -s %s -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ`, a.clusterCIDR())
	w.rule(`KUBE-SERVICES -m comment --comment "Kubernetes service external ip + port for masquerade and filter purpose" -m set --match-set KUBE-EXTERNAL-IP dst,dst -j KUBE-MARK-MASQ`)
	w.rule(`KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT`)
	w.rule(`KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT`)
	w.rule(`KUBE-FIREWALL -j KUBE-MARK-DROP`)
	w.rule(`KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ`)
	for i := range o.Services {
		s := serviceAt(a, i)
		w.rule(`KUBE-NODE-PORT -p tcp -m comment --comment "%s nodePort" -m tcp --dport %d -j KUBE-MARK-MASQ`, s.name, 30000+i%2768)
	}
	w.line("COMMIT")
	w.line("*filter")
	w.chain("KUBE-FORWARD")
	w.rule(`KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT`)
	w.rule(`KUBE-FORWARD -s %s -m comment --comment "kubernetes forwarding conntrack pod source rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`, a.clusterCIDR())
	w.line("COMMIT")
}
