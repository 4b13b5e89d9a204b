package doctor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/shim/backend"
)

// fakeRoot lays out a root with an xtables-nft-multi of the given version
// and the usual links, absolute ones included (as on a host mounted
// elsewhere).
func fakeRoot(t *testing.T, version string) string {
	t.Helper()
	root := t.TempDir()
	sbin := filepath.Join(root, "usr/sbin")
	if err := os.MkdirAll(sbin, 0o755); err != nil {
		t.Fatal(err)
	}
	body := "\x7fELF...\x00" + version + " (nf_tables)\x00..."
	if err := os.WriteFile(filepath.Join(sbin, "xtables-nft-multi"), []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{
		"iptables-nft": "xtables-nft-multi",
		"iptables":     "/etc/alternatives/iptables",
	} {
		if err := os.Symlink(target, filepath.Join(sbin, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "etc/alternatives"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/usr/sbin/iptables-nft", filepath.Join(root, "etc/alternatives/iptables")); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestFindBinariesReadsVersionsWithoutRunning(t *testing.T) {
	bins := findBinaries(fakeRoot(t, "1.8.4"))
	got := map[string]Binary{}
	for _, b := range bins {
		got[b.Path] = b
	}
	ipt, ok := got["/usr/sbin/iptables"]
	if !ok || ipt.Target != "/usr/sbin/xtables-nft-multi" || ipt.Version != "1.8.4" || ipt.Backend != backend.NFT {
		t.Fatalf("iptables: %+v (all %+v)", ipt, bins)
	}
	if newestNFT(bins) != "1.8.4" {
		t.Errorf("newest nft %q", newestNFT(bins))
	}
}

func TestOlderImageIptablesNFTWarns(t *testing.T) {
	r := Report{Binaries: Binaries{Image: findBinaries(fakeRoot(t, "1.8.4")), Host: findBinaries(fakeRoot(t, "1.8.9"))}}
	analyze(&r, inventory(nil, nil), nil)
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "1.8.4 is older than the host's 1.8.9") {
		t.Errorf("warnings %v", r.Warnings)
	}
	if r.Verdict != Healthy {
		t.Errorf("verdict %s: an old binary is a warning, not a problem", r.Verdict)
	}
}
