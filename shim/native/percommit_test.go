package native

import (
	"testing"
)

// TestRestoreCommitsPerTable checks that a restore commits each table at
// its COMMIT, as iptables-nft-restore does: a failure in a later table
// section (in the kernel, against the cache, or in the parser) leaves the
// earlier sections applied, with iptables-nft-restore's message, line
// number and exit code. Before this, the native backend sent one batch for
// the whole payload and a failure in *nat took the *mangle section with it.
func TestRestoreCommitsPerTable(t *testing.T) {
	const mangle = "*mangle\n:KUBE-M - [0:0]\n-A PREROUTING -j KUBE-M\nCOMMIT\n"
	cases := []struct {
		name, setup, payload string
		args                 []string
	}{
		{name: "kernel refuses nat",
			setup:   "*nat\n:KUBE-USED - [0:0]\n-A OUTPUT -j KUBE-USED\nCOMMIT\n",
			payload: mangle + "*nat\n-X KUBE-USED\nCOMMIT\n", args: []string{"--noflush"}},
		{name: "kernel refuses the middle of three",
			setup:   "*nat\n:KUBE-USED - [0:0]\n-A OUTPUT -j KUBE-USED\nCOMMIT\n",
			payload: mangle + "*nat\n-X KUBE-USED\nCOMMIT\n*filter\n-A INPUT -j ACCEPT\nCOMMIT\n", args: []string{"--noflush"}},
		{name: "missing chain in nat", payload: mangle + "*nat\n-A NOPE -j ACCEPT\nCOMMIT\n"},
		{name: "bad option in nat", payload: mangle + "*nat\n-A POSTROUTING --bogus\nCOMMIT\n"},
		{name: "no COMMIT after nat", payload: mangle + "*nat\n-A POSTROUTING -j ACCEPT\n"},
		{name: "two sections of one table", payload: "*filter\n:A - [0:0]\nCOMMIT\n*filter\n-A INPUT -j A\n-A B -j ACCEPT\nCOMMIT\n", args: []string{"--noflush"}},
		{name: "test mode checks no chains", payload: mangle + "*nat\n-A NOPE -j ACCEPT\n-D NOPE 1\nCOMMIT\n", args: []string{"--test"}},
		{name: "test mode parses", payload: mangle + "*nat\n-A POSTROUTING --bogus\nCOMMIT\n", args: []string{"--test"}},
		{name: "table filter", payload: mangle + "*nat\n-A NOPE -j ACCEPT\nCOMMIT\n", args: []string{"-T", "mangle"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newDiffPair(t)
			if c.setup != "" {
				d.ref.MustRunStdin(c.setup, "iptables-nft-restore")
				d.mine.MustRunStdin(c.setup, "iptables-nft-restore")
			}
			ref, mine := d.restore(c.payload, "iptables-restore", c.args...)
			if ref.Code != mine.Code || normalizeErr(ref.Stderr) != mine.Stderr {
				t.Errorf("payload:\n%s\niptables-nft-restore: %s\nnative:               %s", c.payload, ref, mine)
			}
			d.compareState("4")
		})
	}
}
