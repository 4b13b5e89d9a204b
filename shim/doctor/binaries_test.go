package doctor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/execbackend"
)

// imageRoot is a fake image: a map of path -> file body, or "-> target" for
// a symbolic link. Files are executable unless their body starts with
// "noexec:".
func imageRoot(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, body := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case strings.HasPrefix(body, "-> "):
			err = os.Symlink(strings.TrimPrefix(body, "-> "), full)
		case strings.HasPrefix(body, "noexec:"):
			err = os.WriteFile(full, []byte(body), 0o644)
		default:
			err = os.WriteFile(full, []byte(body), 0o755)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// elf is a stand-in binary carrying iptables' version string.
func elf(version, mode string) string { return "\x7fELF...\x00" + version + " (" + mode + ")\x00..." }

// fakeRoot is a Debian-like image with only xtables-nft-multi and the usual
// links, absolute ones included (as on a host mounted elsewhere).
func fakeRoot(t *testing.T, version string) string {
	return imageRoot(t, map[string]string{
		"usr/sbin/xtables-nft-multi":  elf(version, "nf_tables"),
		"usr/sbin/iptables-nft":       "-> xtables-nft-multi",
		"usr/sbin/iptables":           "-> /etc/alternatives/iptables",
		"etc/alternatives/iptables":   "-> /usr/sbin/iptables-nft",
		"usr/sbin/iptables-nft-save":  "-> xtables-nft-multi",
		"usr/sbin/ip6tables-nft-save": "-> xtables-nft-multi",
		"sbin":                        "-> usr/sbin",
	})
}

func byPath(bs []Binary) map[string]Binary {
	m := map[string]Binary{}
	for _, b := range bs {
		m[b.Path] = b
	}
	return m
}

func TestFindBinariesReadsVersionsWithoutRunning(t *testing.T) {
	bins := findBinaries(execbackend.LocateOptions{Root: fakeRoot(t, "1.8.4")})
	got := byPath(bins)
	ipt, ok := got["/usr/sbin/iptables"]
	if !ok || ipt.Target != "/usr/sbin/xtables-nft-multi" || ipt.Version != "1.8.4" || ipt.Backend != backend.NFT ||
		!ipt.Usable || ipt.Kind != string(execbackend.KindNFTMulti) {
		t.Fatalf("iptables: %+v (all %+v)", ipt, bins)
	}
	if len(bins) != 5 {
		t.Errorf("%d binaries, want 5 (/sbin is /usr/sbin): %+v", len(bins), bins)
	}
	if newestNFT(bins) != "1.8.4" {
		t.Errorf("newest nft %q", newestNFT(bins))
	}
	groups := groupBinaries(bins)
	if len(groups) != 1 || strings.Join(groups[0].names, " ") != "iptables iptables-nft iptables-nft-save ip6tables-nft-save" {
		t.Errorf("groups %+v", groups)
	}
}

func TestFindBinariesFollowsBackendDirs(t *testing.T) {
	// An image that keeps iptables outside the usual directories: only the
	// shim's backend-dirs setting finds it, as it does for the calls.
	root := imageRoot(t, map[string]string{
		"opt/iptables/sbin/xtables-legacy-multi": elf("1.8.9", "legacy"),
		"opt/iptables/sbin/iptables-legacy":      "-> xtables-legacy-multi",
		"usr/sbin/iptables":                      "-> /opt/iptables/sbin/iptables-legacy",
	})
	bins := findBinaries(execbackend.LocateOptions{Root: root, Dirs: []string{"/opt/iptables/sbin"}})
	if b := byPath(bins)["/opt/iptables/sbin/iptables-legacy"]; len(bins) != 2 || b.Backend != backend.Legacy || b.Version != "1.8.9" {
		t.Errorf("with backend-dirs: %+v", bins)
	}
	if bins := findBinaries(execbackend.LocateOptions{Root: root, Dirs: []string{"/usr/sbin"}}); len(bins) != 1 || bins[0].Path != "/usr/sbin/iptables" {
		t.Errorf("/usr/sbin only: %+v", bins)
	}
}

func TestFindBinariesMarksShimAndUnusable(t *testing.T) {
	root := imageRoot(t, map[string]string{
		"usr/sbin/iptables-shim":   "#!shim",
		"usr/sbin/iptables":        "-> iptables-shim",
		"usr/sbin/iptables-legacy": "noexec: " + elf("1.8.9", "legacy"),
	})
	got := byPath(findBinaries(execbackend.LocateOptions{Root: root, Self: filepath.Join(root, "usr/sbin/iptables-shim")}))
	if b := got["/usr/sbin/iptables"]; !b.Shim || b.Usable || b.Backend != "" {
		t.Errorf("the shim: %+v", b)
	}
	// A file the shim cannot run still shows, with its version and why.
	if b := got["/usr/sbin/iptables-legacy"]; b.Usable || b.Why != "not executable" || b.Version != "1.8.9" {
		t.Errorf("unusable legacy: %+v", b)
	}
}

func TestOlderImageIptablesNFTWarns(t *testing.T) {
	r := Report{Binaries: Binaries{
		Image: findBinaries(execbackend.LocateOptions{Root: fakeRoot(t, "1.8.4")}),
		Host:  findBinaries(execbackend.LocateOptions{Root: fakeRoot(t, "1.8.9")}),
	}}
	analyze(&r, inventory(nil, nil), nil)
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "1.8.4 is older than the host's 1.8.9") {
		t.Errorf("warnings %v", r.Warnings)
	}
	if r.Verdict != Healthy {
		t.Errorf("verdict %s: an old binary is a warning, not a problem", r.Verdict)
	}
}
