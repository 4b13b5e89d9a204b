package doctor

import (
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/detect"
	"github.com/iptables-shim/iptables-shim/detect/ruleset"
	"github.com/iptables-shim/iptables-shim/shim/backend"
)

// tbl builds a table from "CHAIN:rules>JUMP,JUMP" specs.
func tbl(name string, specs ...string) ruleset.Table {
	t := ruleset.Table{Name: name}
	for _, s := range specs {
		head, jumps, _ := strings.Cut(s, ">")
		chain, rules, _ := strings.Cut(head, ":")
		c := ruleset.Chain{Name: chain, Builtin: strings.ToUpper(chain) == chain && !strings.Contains(chain, "-")}
		for range len(rules) {
			c.Rules++ // one character per rule keeps specs short
		}
		if jumps != "" {
			c.Jumps = strings.Split(jumps, ",")
		}
		t.Chains = append(t.Chains, c)
	}
	return t
}

func inventory(nft4, legacy4 []ruleset.Table) Inventory {
	return Inventory{Backends: []BackendTables{
		{Mode: backend.NFT, Families: []FamilyTables{{Family: "ipv4", Tables: nft4}, {Family: "ipv6"}}},
		{Mode: backend.Legacy, Families: []FamilyTables{{Family: "ipv4", Tables: legacy4}, {Family: "ipv6"}}},
	}}
}

func kubeletNFT() []ruleset.Table {
	return []ruleset.Table{
		tbl("nat", "POSTROUTING:x>KUBE-POSTROUTING", "KUBE-MARK-DROP:x", "KUBE-MARK-MASQ:x", "KUBE-POSTROUTING:x"),
		tbl("filter", "INPUT:x>KUBE-FIREWALL", "OUTPUT:x>KUBE-FIREWALL", "KUBE-FIREWALL:x"),
	}
}

func TestAnalyze(t *testing.T) {
	cases := []struct {
		name     string
		inv      Inventory
		log      []LogFinding
		verdict  string
		kinds    []string
		dangling []string // "backend table/CHAIN"
	}{
		{
			name: "incident: kubelet in nft, kube-proxy in legacy",
			inv: inventory(kubeletNFT(), []ruleset.Table{
				tbl("nat", "OUTPUT:x>KUBE-SERVICES", "POSTROUTING:x>KUBE-POSTROUTING", "KUBE-SERVICES", "KUBE-POSTROUTING",
					"KUBE-FIREWALL", "KUBE-NODE-PORT", "KUBE-LOAD-BALANCER", "KUBE-MARK-MASQ"),
				tbl("filter", "KUBE-FORWARD"),
			}),
			verdict:  Problem,
			kinds:    []string{KindDangling, KindDangling, KindSplitBrain},
			dangling: []string{"legacy nat/KUBE-MARK-DROP", "legacy nat/KUBE-POSTROUTING"},
		},
		{
			name:    "healthy: everything in nft",
			inv:     inventory(append(kubeletNFT(), tbl("mangle", "KUBE-PROXY-CANARY")), nil),
			verdict: Healthy,
		},
		{
			name:    "healthy: stray non-Kubernetes rules in legacy",
			inv:     inventory(kubeletNFT(), []ruleset.Table{tbl("filter", "INPUT:xx>STRAY", "STRAY:x")}),
			verdict: Healthy,
		},
		{
			name:    "failed restore in the call log",
			inv:     inventory(kubeletNFT(), nil),
			log:     []LogFinding{{Line: "iptables-restore v1.8.4 (legacy): Couldn't load target `KUBE-MARK-DROP'", Chain: "KUBE-MARK-DROP"}},
			verdict: Problem,
			kinds:   []string{KindFailedRestore},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Report{Decision: detect.Decision{Mode: backend.NFT, Reason: detect.ReasonKubeletChains}, Kernel: Kernel{NFTables: Facility{Available: true}}}
			analyze(&r, c.inv, c.log)
			if r.Verdict != c.verdict {
				t.Errorf("verdict %s, want %s; problems %+v", r.Verdict, c.verdict, r.Problems)
			}
			var kinds []string
			for _, p := range r.Problems {
				kinds = append(kinds, p.Kind)
			}
			if strings.Join(kinds, ",") != strings.Join(c.kinds, ",") {
				t.Errorf("problem kinds %v, want %v", kinds, c.kinds)
			}
			var dangling []string
			for _, d := range r.Dangling {
				dangling = append(dangling, string(d.Backend)+" "+d.Table+"/"+d.Chain)
			}
			if strings.Join(dangling, ",") != strings.Join(c.dangling, ",") {
				t.Errorf("dangling %v, want %v", dangling, c.dangling)
			}
			if r.Action == "" {
				t.Error("no action")
			}
			var b strings.Builder
			Render(&b, r, false)
			if !strings.Contains(b.String(), strings.ToUpper(c.verdict)) || strings.Contains(b.String(), "\x1b[") {
				t.Errorf("rendering:\n%s", b.String())
			}
		})
	}
}

func TestSplitSides(t *testing.T) {
	s := findSplit(inventory(kubeletNFT(), []ruleset.Table{tbl("nat", "KUBE-SERVICES", "KUBE-SVC-ABC")}), nil)
	if s == nil {
		t.Fatal("no split found")
	}
	if modes(s.Kubelet) != "nf_tables" || modes(s.KubeProxy) != "legacy" {
		t.Errorf("kubelet %v, kube-proxy %v", s.Kubelet, s.KubeProxy)
	}
}

func TestVersionLess(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{{"1.8.4", "1.8.9", true}, {"1.8.10", "1.8.9", false}, {"1.8.9", "1.8.9", false}, {"1.6.1", "1.8.0", true}} {
		if got := versionLess(c.a, c.b); got != c.want {
			t.Errorf("versionLess(%s, %s) = %v", c.a, c.b, got)
		}
	}
}
