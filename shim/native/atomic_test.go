package native

import (
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// restoreAtomicAcrossTablesInNamespaces checks the native backend's one batch per
// call: a payload whose second table fails in the kernel leaves the first
// table untouched too (iptables-nft-restore would have committed it).
func restoreAtomicAcrossTablesInNamespaces(t *testing.T) {
	d := newDiffPair(t)
	base := "*nat\n:KUBE-USED - [0:0]\n-A OUTPUT -j KUBE-USED\nCOMMIT\n"
	if r := ours(t, d.mine, base, "iptables-restore"); r.Code != 0 {
		t.Fatal(r)
	}
	before := d.mine.NFTDump()
	bad := "*filter\n:KUBE-NEW - [0:0]\n-A INPUT -j KUBE-NEW\nCOMMIT\n*nat\n-X KUBE-USED\nCOMMIT\n"
	r := ours(t, d.mine, bad, "iptables-restore", "--noflush")
	if r.Code != 4 {
		t.Fatalf("want exit 4, got %s", r)
	}
	want := "iptables-restore v1.8.9 (nf_tables): \nline 6: CHAIN_DEL failed (Device or resource busy): chain KUBE-USED\n"
	if r.Stderr != want {
		t.Errorf("stderr %q, want %q", r.Stderr, want)
	}
	if after := d.mine.NFTDump(); after != before {
		t.Errorf("ruleset changed:\n%s", netnstest.LineDiff(before, after))
	}
}
