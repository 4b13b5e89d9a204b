package incident

import (
	"os"
	"path/filepath"
	"testing"
)

// image is the set of iptables binaries a kube-proxy image carries, given to
// the shim as its backend directories.
type image struct {
	name string
	// dirs builds the image's binary directories; nil dirs mean none.
	dirs func(t *testing.T) []string
	// legacyOnly: the image has no iptables-nft (the shim must go native on
	// an nf_tables host).
	hasLegacy, hasNFT bool
}

// iptables16Layout builds the 1.13-1.16 image layout: /sbin/xtables-multi
// (a copy of the machine's legacy multi-call binary, which dispatches on
// argv[0] like 1.6's did) with the six names pointing at it.
func iptables16Layout(t *testing.T) []string {
	t.Helper()
	root := t.TempDir()
	sbin := filepath.Join(root, "sbin")
	if err := os.MkdirAll(sbin, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("/usr/sbin/xtables-legacy-multi")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sbin, "xtables-multi"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore"} {
		if err := os.Symlink("xtables-multi", filepath.Join(sbin, n)); err != nil {
			t.Fatal(err)
		}
	}
	return []string{sbin}
}

var images = []image{
	{name: "k8s1.13-legacy-iptables1.6", dirs: iptables16Layout, hasLegacy: true},
	{name: "k8s1.17-both-backends", dirs: func(*testing.T) []string { return []string{"/usr/sbin"} }, hasLegacy: true, hasNFT: true},
	{name: "distroless-shim-only", dirs: func(t *testing.T) []string { return []string{t.TempDir()} }},
}
