package native

import (
	"strings"
	"testing"
)

// TestRetriesLostRaces has another writer change the ruleset before each of
// the first 25 commits of a call: iptables-nft plans again from a fresh
// read and retries without bound, and so must the native backend (it gave
// up after 10 attempts before). With -w N the retries stop after N
// seconds, exit 4.
func TestRetriesLostRaces(t *testing.T) {
	d := newDiffPair(t)
	payload := "*mangle\n:KUBE-M - [0:0]\n-A PREROUTING -j KUBE-M\nCOMMIT\n*filter\n:KUBE-F - [0:0]\n-A INPUT -j KUBE-F\nCOMMIT\n"
	ref := d.ref.RunStdin(payload, "iptables-nft-restore", "--noflush")
	mine := oursWith(t, d.mine, []string{racesEnv + "=25"}, payload, "iptables-restore", "--noflush")
	if ref.Code != 0 || mine.Code != 0 || mine.Stderr != "" {
		t.Fatalf("restore losing 25 races:\nreal:   %s\nnative: %s", ref, mine)
	}
	for _, args := range [][]string{{"-I", "INPUT", "1", "-j", "ACCEPT"}, {"-X", "KUBE-M", "-t", "mangle"}} {
		ref := d.ref.Run("iptables-nft", args...)
		mine := oursWith(t, d.mine, []string{racesEnv + "=25"}, "", "iptables", args...)
		if ref.Code != mine.Code || ref.Stderr != mine.Stderr {
			t.Errorf("iptables %v losing 25 races:\nreal:   %s\nnative: %s", args, ref, mine)
		}
	}
	d.compareState("4")

	before := d.mine.NFTDump()
	for _, c := range []struct {
		prog  string
		stdin string
		args  []string
	}{
		{"iptables-restore", "*filter\n-A INPUT -j DROP\nCOMMIT\n", []string{"--noflush", "-w", "1"}},
		{"iptables", "", []string{"-w", "1", "-A", "INPUT", "-j", "DROP"}},
	} {
		r := oursWith(t, d.mine, []string{racesEnv + "=-1"}, c.stdin, c.prog, c.args...)
		if r.Code != 4 || !strings.Contains(r.Stderr, "Could not commit transaction") {
			t.Errorf("%s %v losing every race: %s", c.prog, c.args, r)
		}
	}
	if after := d.mine.NFTDump(); after != before {
		t.Errorf("calls that lost every race changed the ruleset")
	}
}
