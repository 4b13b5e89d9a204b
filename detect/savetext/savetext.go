// Package savetext reads iptables-save output into the ruleset picture, so
// tests can compare what the kernel readers return with what the real
// iptables-save binaries print (the oracle).
package savetext

import (
	"bufio"
	"strings"

	"github.com/iptables-shim/iptables-shim/detect/ruleset"
)

// Parse reads iptables-save output: "*table" starts a table, ":CHAIN POLICY"
// declares a chain (built-in when the policy is not "-"), "-A CHAIN ..." is a
// rule whose "-j X" or "-g X" jumps when X is a declared chain.
func Parse(text string) []ruleset.Table {
	var tables []ruleset.Table
	var cur *ruleset.Table
	type pending struct{ chain, target string }
	var jumps []pending
	flush := func() {
		if cur == nil {
			return
		}
		sets := map[string]map[string]bool{}
		for _, j := range jumps {
			if _, ok := cur.Chain(j.target); !ok {
				continue
			}
			if sets[j.chain] == nil {
				sets[j.chain] = map[string]bool{}
			}
			sets[j.chain][j.target] = true
		}
		for i := range cur.Chains {
			cur.Chains[i].Jumps = ruleset.SortedSet(sets[cur.Chains[i].Name])
		}
		tables = append(tables, *cur)
		cur, jumps = nil, nil
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "*"):
			flush()
			cur = &ruleset.Table{Name: line[1:]}
		case strings.HasPrefix(line, ":") && cur != nil:
			f := strings.Fields(line[1:])
			if len(f) >= 2 {
				cur.Chains = append(cur.Chains, ruleset.Chain{Name: f[0], Builtin: f[1] != "-"})
			}
		case strings.HasPrefix(line, "-A ") && cur != nil:
			f := strings.Fields(line)
			for i := range cur.Chains {
				if cur.Chains[i].Name == f[1] {
					cur.Chains[i].Rules++
				}
			}
			for i := 2; i+1 < len(f); i++ {
				if f[i] == "-j" || f[i] == "-g" {
					jumps = append(jumps, pending{f[1], f[i+1]})
				}
			}
		case line == "COMMIT":
			flush()
		}
	}
	flush()
	return tables
}
