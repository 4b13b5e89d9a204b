package doctor

import (
	"fmt"
	"sort"
	"strings"

	"github.com/iptables-shim/iptables-shim/detect"
	"github.com/iptables-shim/iptables-shim/detect/ruleset"
	"github.com/iptables-shim/iptables-shim/shim/backend"
)

// isKubeletChain says whether only kubelet creates a chain (in the versions
// that create it): its markers, KUBE-MARK-DROP (1.13-1.16) and the filter
// table's KUBE-FIREWALL.
func isKubeletChain(table, chain string) bool {
	switch chain {
	case detect.HintChain, detect.KubeletCanary, "KUBE-MARK-DROP":
		return true
	case "KUBE-FIREWALL":
		return table == "filter"
	}
	return false
}

// isKubeProxyChain says whether a chain is kube-proxy's (iptables or IPVS
// mode, any version); the nat table's KUBE-FIREWALL is the IPVS proxier's.
func isKubeProxyChain(table, chain string) bool {
	switch chain {
	case detect.ProxyCanary, "KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-NODE-PORT", "KUBE-FORWARD",
		"KUBE-LOAD-BALANCER", "KUBE-EXTERNAL-SERVICES", "KUBE-PROXY-FIREWALL":
		return true
	case "KUBE-FIREWALL":
		return table == "nat"
	}
	for _, p := range []string{"KUBE-SVC-", "KUBE-SEP-", "KUBE-XLB-", "KUBE-EXT-", "KUBE-FW-", "KUBE-SVL-"} {
		if strings.HasPrefix(chain, p) {
			return true
		}
	}
	return false
}

func isMarker(table, chain string) bool {
	for _, r := range detect.MarkerChains() {
		if r.Table == table && r.Chain == chain {
			return true
		}
	}
	return false
}

func otherMode(m backend.Mode) backend.Mode {
	if m == backend.NFT {
		return backend.Legacy
	}
	return backend.NFT
}

// Label is how a backend is named to people.
func Label(m backend.Mode) string {
	if m == backend.NFT {
		return "nf_tables"
	}
	return string(m)
}

func findChain(tables []ruleset.Table, table, chain string) (ruleset.Chain, bool) {
	for _, t := range tables {
		if t.Name == table {
			return t.Chain(chain)
		}
	}
	return ruleset.Chain{}, false
}

// summarize reduces the inventory to the per-backend, per-family report.
func summarize(inv Inventory) []BackendReport {
	var out []BackendReport
	for _, b := range inv.Backends {
		br := BackendReport{Mode: b.Mode}
		for _, f := range b.Families {
			fr := FamilyReport{Family: f.Family, Available: !f.Unavailable, Tables: []TableSummary{}, KubeChains: []string{}, Markers: []string{}}
			if f.Err != nil {
				fr.Error = f.Err.Error()
			}
			for _, t := range f.Tables {
				fr.Tables = append(fr.Tables, TableSummary{Name: t.Name, Chains: len(t.Chains), Rules: t.Rules()})
				fr.Rules += t.Rules()
				for _, c := range t.Chains {
					if strings.HasPrefix(c.Name, "KUBE-") {
						fr.KubeChains = append(fr.KubeChains, t.Name+"/"+c.Name)
						if isMarker(t.Name, c.Name) {
							fr.Markers = append(fr.Markers, t.Name+"/"+c.Name)
						}
					}
				}
			}
			br.Families = append(br.Families, fr)
		}
		out = append(out, br)
	}
	return out
}

// findSplit reports Kubernetes chains in both backends, and which backend
// kubelet and kube-proxy each appear to write to. A chain the shim's guard
// created (a KUBE-MARK-DROP, say) is not kubelet's doing, so it never makes
// a backend look like kubelet's.
func findSplit(inv Inventory, created detect.CreatedSet) *Split {
	s := &Split{NFT: []string{}, Legacy: []string{}}
	for _, b := range inv.Backends {
		var kubelet, proxy bool
		var names []string
		for _, f := range b.Families {
			for _, t := range f.Tables {
				for _, c := range t.Chains {
					if !strings.HasPrefix(c.Name, "KUBE-") {
						continue
					}
					names = append(names, f.Family+" "+t.Name+"/"+c.Name)
					byShim := created.Has(b.Mode, f.Family, detect.ChainRef{Table: t.Name, Chain: c.Name})
					kubelet = kubelet || (isKubeletChain(t.Name, c.Name) && !byShim)
					proxy = proxy || isKubeProxyChain(t.Name, c.Name)
				}
			}
		}
		if b.Mode == backend.NFT {
			s.NFT = append(s.NFT, names...)
		} else {
			s.Legacy = append(s.Legacy, names...)
		}
		if kubelet {
			s.Kubelet = append(s.Kubelet, b.Mode)
		}
		if proxy {
			s.KubeProxy = append(s.KubeProxy, b.Mode)
		}
	}
	if len(s.NFT) == 0 || len(s.Legacy) == 0 {
		return nil
	}
	return s
}

// findDangling finds references a backend cannot satisfy by itself. Neither
// kernel lets a rule jump to a chain that does not exist, so the symptom
// shows in two ways:
//
//   - a writer's chains sit in one backend while a chain they need exists
//     only in the other: kube-proxy's chains in one backend, kubelet's
//     KUBE-MARK-DROP only in the other. Every restore that jumps to it fails
//     ("Couldn't load target 'KUBE-MARK-DROP'"), so no rule shows the jump;
//   - rules jump to a KUBE-* chain that is empty in their backend (created
//     with -N by the writer) while the other backend has it with rules: the
//     jump does nothing (the mark is never set).
func findDangling(inv Inventory) []Dangling {
	out := []Dangling{}
	for _, b := range inv.Backends {
		o := otherMode(b.Mode)
		for _, f := range b.Families {
			other := inv.family(o, f.Family)
			out = append(out, missingKubeletChain(b.Mode, o, f, other)...)
			out = append(out, emptyHere(b.Mode, o, f, other)...)
		}
	}
	return out
}

func missingKubeletChain(m, o backend.Mode, here, there FamilyTables) []Dangling {
	var users []string
	for _, t := range here.Tables {
		if t.Name != "nat" {
			continue // only nat chains can jump to a nat chain
		}
		for _, c := range t.Chains {
			if isKubeProxyChain(t.Name, c.Name) {
				users = append(users, t.Name+"/"+c.Name)
			}
		}
	}
	if len(users) == 0 {
		return nil
	}
	if _, ok := findChain(here.Tables, "nat", "KUBE-MARK-DROP"); ok {
		return nil
	}
	if _, ok := findChain(there.Tables, "nat", "KUBE-MARK-DROP"); !ok {
		return nil
	}
	sort.Strings(users)
	return []Dangling{{
		Backend: m, Family: here.Family, Table: "nat", Chain: "KUBE-MARK-DROP", ExistsIn: o, ReferencedBy: users,
		Why: fmt.Sprintf("kube-proxy's chains are in %s, where KUBE-MARK-DROP does not exist; kubelet created it in %s. "+
			"A restore that jumps to it fails with \"Couldn't load target 'KUBE-MARK-DROP'\" and installs nothing",
			Label(m), Label(o)),
	}}
}

func emptyHere(m, o backend.Mode, here, there FamilyTables) []Dangling {
	var out []Dangling
	for _, t := range here.Tables {
		refs := map[string][]string{}
		for _, c := range t.Chains {
			for _, j := range c.Jumps {
				if strings.HasPrefix(j, "KUBE-") {
					refs[j] = append(refs[j], c.Name)
				}
			}
		}
		targets := make([]string, 0, len(refs))
		for j := range refs {
			targets = append(targets, j)
		}
		sort.Strings(targets)
		for _, j := range targets {
			mine, _ := t.Chain(j)
			theirs, ok := findChain(there.Tables, t.Name, j)
			if mine.Rules > 0 || !ok || theirs.Rules == 0 {
				continue
			}
			out = append(out, Dangling{
				Backend: m, Family: here.Family, Table: t.Name, Chain: j, ExistsIn: o, ReferencedBy: refs[j],
				Why: fmt.Sprintf("rules in %s jump to %s, which is empty there but holds %d rule(s) in %s: the jump does nothing",
					Label(m), j, theirs.Rules, Label(o)),
			})
		}
	}
	return out
}
