package harness

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// MapOrderChains are the chains kube-proxy fills while ranging over its
// service map, so their rules come in a different order on every run; they
// are compared as multisets. Every other chain is compared rule by rule in
// order.
var MapOrderChains = map[string]bool{
	"KUBE-SERVICES":          true,
	"KUBE-NODEPORTS":         true,
	"KUBE-EXTERNAL-SERVICES": true,
	"KUBE-PROXY-FIREWALL":    true,
}

// Ruleset is a parsed iptables-save output: per table, the chains declared
// (with their policy) and each chain's rules.
type Ruleset map[string]*Table

// Table is one table of a Ruleset.
type Table struct {
	Chains map[string]string // name -> policy ("-" for user chains)
	Rules  map[string][]string
}

var counters = regexp.MustCompile(`\[\d+:\d+\]`)

// ParseSave reads iptables-save output; comments and counters are dropped.
func ParseSave(s string) (Ruleset, error) {
	rs := Ruleset{}
	var cur *Table
	for i, l := range strings.Split(s, "\n") {
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "*"):
			cur = &Table{Chains: map[string]string{}, Rules: map[string][]string{}}
			rs[l[1:]] = cur
		case l == "COMMIT":
			cur = nil
		case cur == nil:
			return nil, fmt.Errorf("line %d outside a table: %q", i+1, l)
		case strings.HasPrefix(l, ":"):
			f := strings.Fields(counters.ReplaceAllString(l[1:], ""))
			if len(f) < 2 {
				return nil, fmt.Errorf("line %d: bad chain line %q", i+1, l)
			}
			cur.Chains[f[0]] = f[1]
		case strings.HasPrefix(l, "-A "):
			chain, _, _ := strings.Cut(l[3:], " ")
			cur.Rules[chain] = append(cur.Rules[chain], l)
		default:
			return nil, fmt.Errorf("line %d: unexpected %q", i+1, l)
		}
	}
	return rs, nil
}

// Count returns the number of chains and rules.
func (rs Ruleset) Count() (chains, rules int) {
	for _, t := range rs {
		chains += len(t.Chains)
		for _, r := range t.Rules {
			rules += len(r)
		}
	}
	return chains, rules
}

// Diff lists how got differs from want (nil when they are the same).
func Diff(want, got Ruleset) []string {
	var out []string
	for _, name := range unionKeys(want, got) {
		w, g := want[name], got[name]
		switch {
		case w == nil:
			out = append(out, fmt.Sprintf("table %s: unexpected", name))
			continue
		case g == nil:
			out = append(out, fmt.Sprintf("table %s: missing", name))
			continue
		}
		for _, c := range unionKeys(w.Chains, g.Chains) {
			wp, wok := w.Chains[c]
			gp, gok := g.Chains[c]
			switch {
			case !gok:
				out = append(out, fmt.Sprintf("%s: chain %s missing", name, c))
			case !wok:
				out = append(out, fmt.Sprintf("%s: unexpected chain %s", name, c))
			case wp != gp:
				out = append(out, fmt.Sprintf("%s: chain %s policy %s, want %s", name, c, gp, wp))
			}
		}
		for _, c := range unionKeys(w.Rules, g.Rules) {
			out = append(out, diffRules(name, c, w.Rules[c], g.Rules[c])...)
		}
	}
	return out
}

// diffRules compares one chain's rules: as multisets for the map-ordered
// chains, in order for the others.
func diffRules(table, chain string, want, got []string) []string {
	if MapOrderChains[chain] {
		want, got = sorted(want), sorted(got)
	}
	var out []string
	if len(want) != len(got) {
		out = append(out, fmt.Sprintf("%s %s: %d rules, want %d", table, chain, len(got), len(want)))
	}
	wm, gm := multiset(want), multiset(got)
	for r, n := range wm {
		if gm[r] < n {
			out = append(out, fmt.Sprintf("%s: missing %s", table, r))
		}
	}
	for r, n := range gm {
		if wm[r] < n {
			out = append(out, fmt.Sprintf("%s: unexpected %s", table, r))
		}
	}
	if len(out) == 0 {
		for i := range want {
			if want[i] != got[i] {
				out = append(out, fmt.Sprintf("%s %s: rule %d is %q, want %q (order differs)", table, chain, i+1, got[i], want[i]))
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

func multiset(l []string) map[string]int {
	m := map[string]int{}
	for _, s := range l {
		m[s]++
	}
	return m
}

func sorted(l []string) []string {
	c := append([]string(nil), l...)
	sort.Strings(c)
	return c
}

func unionKeys[V any](a, b map[string]V) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]V{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// NFTRules parses `nft --debug=netlink list ruleset` into each chain's
// rules as the kernel holds them (one string of expression lines per
// rule, the handle left out), keyed by "family table chain".
func NFTRules(dump string) map[string][]string {
	out := map[string][]string{}
	var key string
	var cur []string
	flush := func() {
		if key != "" {
			out[key] = append(out[key], strings.Join(cur, "\n"))
		}
		key, cur = "", nil
	}
	for _, l := range strings.Split(dump, "\n") {
		switch {
		case strings.HasPrefix(l, "  ["):
			cur = append(cur, strings.TrimSpace(l))
		case strings.HasPrefix(l, "table ") || strings.HasPrefix(l, "#"):
			// The listing after the netlink dump says the same again.
			flush()
			return out
		case l == "":
			flush()
		default:
			flush()
			// "family table chain handle [position]": the numbers
			// are the kernel's, not the rule's.
			f := strings.Fields(l)
			if len(f) > 3 {
				f = f[:3]
			}
			key = strings.Join(f, " ")
		}
	}
	flush()
	return out
}

// DiffNFT compares two parsed netlink dumps the way Diff compares saves.
func DiffNFT(want, got map[string][]string) []string {
	var out []string
	for _, k := range unionKeys(want, got) {
		chain := k[strings.LastIndex(k, " ")+1:]
		for _, d := range diffRules(k, chain, want[k], got[k]) {
			out = append(out, strings.ReplaceAll(d, "\n", " | "))
		}
	}
	return out
}
