package native_test

import (
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// TestCrossTool writes every allowlisted match and target with one tool
// and finds and deletes it with the other, in one namespace: our -C/-D
// find what iptables-nft wrote, and iptables-nft -C/-D find ours.
func TestCrossTool(t *testing.T) {
	netnstest.Require(t, "xtables-nft-multi", "ipset")
	ns := netnstest.New(t)
	real := tool{ns: ns, dir: realDir(t)}
	shim := tool{ns: ns, dir: netnstest.ShimDir(t), env: shimEnv(t)}
	for _, s := range [][]string{{"test-a", "hash:ip", "inet"}, {"test-b", "hash:net", "inet"}, {"test-6", "hash:ip", "inet6"}} {
		ns.MustRun("ipset", "create", s[0], s[1], "family", s[2])
	}
	made := map[string]bool{}
	checked := 0
	for _, c := range loadXTCases(t) {
		prog := progFor(c.fam)
		key := c.fam + c.table + c.chain
		if !builtin[c.chain] && !made[key] {
			made[key] = true
			real.run("", prog, "-t", c.table, "-N", c.chain)
		}
		rule := words(t, c.args)
		cmd := func(op string) []string { return append([]string{"-t", c.table, op, c.chain}, rule...) }
		if r := real.run("", prog, cmd("-A")...); r.Code != 0 {
			continue // a case of an error the real tool refuses
		}
		checked++
		for _, step := range []struct {
			who  tool
			name string
			op   string
		}{
			{shim, "ours", "-C"}, {shim, "ours", "-D"}, {shim, "ours", "-A"},
			{real, "iptables-nft", "-C"}, {real, "iptables-nft", "-D"},
		} {
			if r := step.who.run("", prog, cmd(step.op)...); r.Code != 0 {
				t.Errorf("%s %s %s: %s", step.name, step.op, c.args, r)
			}
		}
	}
	// Every rule went again: only chains and policies remain.
	for _, prog := range []string{"iptables-nft-save", "ip6tables-nft-save"} {
		for _, l := range strings.Split(ns.MustRun(prog), "\n") {
			if strings.HasPrefix(l, "-A ") {
				t.Errorf("%s: rule left over: %s", prog, l)
			}
		}
	}
	t.Logf("cases written by one tool and found and deleted by the other: %d", checked)
}
