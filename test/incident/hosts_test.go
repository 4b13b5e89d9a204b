package incident

import (
	"fmt"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// host is a simulated node: what kubelet (and others) already wrote, and
// which backend and family the node's own tools use.
type host struct {
	name    string
	backend string // "nft" or "legacy": where the node's own iptables writes
	v6      bool   // the cluster is IPv6 only: kube-proxy uses ip6tables
	seed    func(t *testing.T, ns *netnstest.NS)
	// kubelet is the node's kubelet 1.13 binary ("" when kubelet does not
	// resync 1.13 chains on this host); its loop runs beside kube-proxy.
	kubelet string
}

// kubelet113 is what kubelet 1.13-1.16 ensures on every resync, with the
// node's own binary prog ("iptables-nft", "ip6tables-legacy", ...): -N
// (exit 1 = exists), then -C and, when absent, -A or -I.
func kubelet113(t *testing.T, ns *netnstest.NS, prog string) {
	t.Helper()
	if err := kubelet113Sync(ns, prog); err != nil {
		t.Fatal(err)
	}
}

// kubelet113Sync is one kubelet resync; safe to run from another goroutine.
func kubelet113Sync(ns *netnstest.NS, prog string) error {
	for _, c := range []struct{ table, chain string }{
		{"nat", "KUBE-MARK-DROP"}, {"filter", "KUBE-FIREWALL"}, {"nat", "KUBE-MARK-MASQ"}, {"nat", "KUBE-POSTROUTING"},
	} {
		if r := ns.Run(prog, "-w", "5", "-N", c.chain, "-t", c.table); r.Code != 0 && r.Code != 1 {
			return fmt.Errorf("kubelet -N %s: %s", c.chain, r)
		}
	}
	for _, rule := range []struct {
		op   string
		spec []string
	}{
		{"-A", []string{"KUBE-MARK-DROP", "-t", "nat", "-j", "MARK", "--set-xmark", "0x00008000/0x00008000"}},
		{"-A", []string{"KUBE-FIREWALL", "-t", "filter", "-m", "comment", "--comment", "kubernetes firewall for dropping marked packets", "-m", "mark", "--mark", "0x00008000/0x00008000", "-j", "DROP"}},
		{"-I", []string{"OUTPUT", "-t", "filter", "-j", "KUBE-FIREWALL"}},
		{"-I", []string{"INPUT", "-t", "filter", "-j", "KUBE-FIREWALL"}},
		{"-A", []string{"KUBE-MARK-MASQ", "-t", "nat", "-j", "MARK", "--set-xmark", "0x00004000/0x00004000"}},
		{"-I", []string{"POSTROUTING", "-t", "nat", "-m", "comment", "--comment", "kubernetes postrouting rules", "-j", "KUBE-POSTROUTING"}},
		{"-A", []string{"KUBE-POSTROUTING", "-t", "nat", "-m", "comment", "--comment", "kubernetes service traffic requiring SNAT", "-m", "mark", "--mark", "0x00004000/0x00004000", "-j", "MASQUERADE"}},
	} {
		check := ns.Run(prog, append([]string{"-w", "5", "-C"}, rule.spec...)...)
		switch check.Code {
		case 0:
			continue
		case 1:
			if r := ns.Run(prog, append([]string{"-w", "5", rule.op}, rule.spec...)...); r.Code != 0 {
				return fmt.Errorf("kubelet %s %v: %s", rule.op, rule.spec, r)
			}
		default:
			return fmt.Errorf("kubelet -C %v: %s", rule.spec, check)
		}
	}
	return nil
}

// markers124 is kubelet 1.24+: the hint and canaries, nothing else.
func markers124(t *testing.T, ns *netnstest.NS, prog string) {
	t.Helper()
	ns.MustRun(prog, "-w", "5", "-N", "KUBE-IPTABLES-HINT", "-t", "mangle")
	for _, table := range []string{"mangle", "nat", "filter"} {
		ns.MustRun(prog, "-w", "5", "-N", "KUBE-KUBELET-CANARY", "-t", table)
	}
}

// junk is unrelated rules some other tool left in a backend.
func junk(t *testing.T, ns *netnstest.NS, prog string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("*filter\n:DOCKER-OLD - [0:0]\n")
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&b, "-A DOCKER-OLD -s 172.17.0.%d/32 -j ACCEPT\n", i+2)
	}
	b.WriteString("COMMIT\n")
	ns.MustRunStdin(b.String(), prog+"-restore", "--noflush")
}

var hosts = []host{
	{name: "centos8.2-nft-kubelet1.13", backend: "nft", kubelet: "iptables-nft", seed: func(t *testing.T, ns *netnstest.NS) { kubelet113(t, ns, "iptables-nft") }},
	{name: "centos7.6-legacy-kubelet1.13", backend: "legacy", kubelet: "iptables-legacy", seed: func(t *testing.T, ns *netnstest.NS) { kubelet113(t, ns, "iptables-legacy") }},
	{name: "nft-kubelet1.24-markers", backend: "nft", seed: func(t *testing.T, ns *netnstest.NS) { markers124(t, ns, "iptables-nft") }},
	{name: "empty-kube-proxy-first", backend: "nft", seed: func(*testing.T, *netnstest.NS) {}},
	{name: "mixed-kube-nft-junk-legacy", backend: "nft", kubelet: "iptables-nft", seed: func(t *testing.T, ns *netnstest.NS) {
		kubelet113(t, ns, "iptables-nft")
		junk(t, ns, "iptables-legacy")
	}},
	{name: "ipv6-only-nft-kubelet1.13", backend: "nft", v6: true, kubelet: "ip6tables-nft", seed: func(t *testing.T, ns *netnstest.NS) { kubelet113(t, ns, "ip6tables-nft") }},
}
