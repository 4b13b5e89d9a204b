package nftread

import "testing"

// TestListNFAcct checks -L's rendering of the nfacct match against what
// iptables-nft 1.8.9 prints (two spaces, the name quoted as save quotes
// it).
func TestListNFAcct(t *testing.T) {
	for save, want := range map[string]string{
		"-m nfacct --nfacct-name  ct_state_invalid_dropped_pkts": " nfacct-name  ct_state_invalid_dropped_pkts",
		`-m nfacct --nfacct-name  "x\"y"`:                        ` nfacct-name  "x\"y"`,
	} {
		got, err := listExt(save, listOpts{numeric: true})
		if err != nil || got != want {
			t.Errorf("listExt(%q) = %q, %v; want %q", save, got, err, want)
		}
	}
}
