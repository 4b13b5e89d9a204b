package native_test

import (
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/kubefixture"
	"github.com/iptables-shim/iptables-shim/internal/kubepayload"
	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// ipvsJumps are the jump rules kube-proxy 1.13's IPVS proxier ensures
// with -C and, when missing, -I.
var ipvsJumps = []struct{ table, chain, comment, target string }{
	{"nat", "PREROUTING", "kubernetes service portals", "KUBE-SERVICES"},
	{"nat", "OUTPUT", "kubernetes service portals", "KUBE-SERVICES"},
	{"nat", "POSTROUTING", "kubernetes postrouting rules", "KUBE-POSTROUTING"},
	{"filter", "FORWARD", "kubernetes forwarding rules", "KUBE-FORWARD"},
}

// TestKubeProxyIPVSSync runs kube-proxy 1.13's IPVS sync natively, twice,
// beside the real iptables-nft doing the same: save nat and filter, -N the
// chains, -C then -I the jump rules, restore with --noflush --counters.
// The second sync finds every jump rule with -C and inserts nothing.
func TestKubeProxyIPVSSync(t *testing.T) {
	p := newPair(t)
	o := kubepayload.Options{Services: 20, Shape: kubepayload.IPVSMode, Family: syntax.IPv4}
	for _, s := range kubepayload.IPSets(o) {
		for _, ns := range []*netnstest.NS{p.ref.ns, p.mine.ns} {
			ns.MustRun("ipset", append([]string{"create", s.Name}, strings.Fields(s.Type)...)...)
		}
	}
	p.stdin(kubefixture.Kubelet113, "iptables-restore", "--noflush")
	payload := kubepayload.Generate(o).Text
	for sync := 1; sync <= 2; sync++ {
		for _, table := range []string{"nat", "filter"} {
			p.save(table)
		}
		for _, c := range []string{"KUBE-SERVICES", "KUBE-POSTROUTING", "KUBE-FIREWALL", "KUBE-NODE-PORT", "KUBE-LOAD-BALANCER", "KUBE-MARK-MASQ"} {
			p.both("iptables", "-w 5 -N "+c+" -t nat")
		}
		p.both("iptables", "-w 5 -N KUBE-FORWARD -t filter")
		for _, j := range ipvsJumps {
			rule := `-t ` + j.table + ` -m comment --comment "` + j.comment + `" -j ` + j.target
			if r := p.both("iptables", "-w 5 -C "+j.chain+" "+rule); r.Code != 0 {
				if sync == 2 {
					t.Errorf("second sync: -C %s %s did not find the rule the first inserted", j.chain, rule)
				}
				p.both("iptables", "-w 5 -I "+j.chain+" "+rule)
			}
		}
		p.stdin(payload, "iptables-restore", "-w", "5", "--noflush", "--counters")
		p.state("sync " + string(rune('0'+sync)))
	}
	p.report()
}

// save compares iptables-save -t TABLE of both, without the time stamps.
func (p *pair) save(table string) {
	p.t.Helper()
	ref, mine := p.ref.run("", "iptables-save", "-t", table), p.mine.run("", "iptables-save", "-t", table)
	ref.Stdout, mine.Stdout = netnstest.NormalizeSave(ref.Stdout), netnstest.NormalizeSave(mine.Stdout)
	p.compared++
	if ref != mine {
		p.failed++
		p.t.Errorf("iptables-save -t %s:\nreal: %s\nshim: %s", table, ref, mine)
	}
}
