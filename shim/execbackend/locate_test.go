package execbackend

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// want is where Locate should land: Path and Found inside the root.
type want struct {
	path, argv0, found string
	kind               Kind
}

func checkLocate(t *testing.T, opts LocateOptions, mode backend.Mode, fam syntax.Family, tool backend.Tool, w want) {
	t.Helper()
	bin, err := Locate(opts, mode, fam, tool)
	if err != nil {
		t.Fatalf("Locate(%s, %v, %v): %v", mode, fam, tool, err)
	}
	got := want{path: strings.TrimPrefix(bin.Path, opts.Root), argv0: bin.Argv0, found: bin.Found, kind: bin.Kind}
	if got != w {
		t.Errorf("Locate(%s, %s):\n got %+v\nwant %+v", mode, backend.ProgramName(tool, fam), got, w)
	}
}

func TestLocateDebian189(t *testing.T) {
	opts := debian189.build(t)
	for _, ft := range familiesAndTools() {
		fam, tool := syntax.Family(ft[0]), backend.Tool(ft[1])
		plain := backend.ProgramName(tool, fam)
		checkLocate(t, opts, backend.NFT, fam, tool, want{
			path: "/usr/sbin/xtables-nft-multi", argv0: plain,
			found: "/usr/sbin/xtables-nft-multi", kind: KindNFTMulti})
		checkLocate(t, opts, backend.Legacy, fam, tool, want{
			path: "/usr/sbin/xtables-legacy-multi", argv0: plain,
			found: "/usr/sbin/xtables-legacy-multi", kind: KindLegacyMulti})
	}
}

// TestLocateNamedOnly covers images that ship the iptables-nft/-legacy names
// but keep the multi-call binary outside the searched directories, and a
// file of unknown make that keeps the name it answers to.
func TestLocateNamedOnly(t *testing.T) {
	opts := fakeRoot{
		"/usr/lib/xtables/xtables-nft-multi":    "fake",
		"/usr/lib/xtables/xtables-legacy-multi": "fake",
		"/usr/sbin/iptables-nft-save":           "->/usr/lib/xtables/xtables-nft-multi",
		"/bin/ip6tables-legacy":                 "->../usr/lib/xtables/xtables-legacy-multi",
		"/usr/sbin/iptables-nft-restore":        "fake", // a single-purpose binary
	}.build(t)
	checkLocate(t, opts, backend.NFT, syntax.IPv4, backend.Restore, want{
		path: "/usr/sbin/iptables-nft-restore", argv0: "iptables-nft-restore",
		found: "/usr/sbin/iptables-nft-restore", kind: KindNFTNamed})
	checkLocate(t, opts, backend.NFT, syntax.IPv4, backend.Save, want{
		path: "/usr/lib/xtables/xtables-nft-multi", argv0: "iptables-save",
		found: "/usr/sbin/iptables-nft-save", kind: KindNFTMulti})
	checkLocate(t, opts, backend.Legacy, syntax.IPv6, backend.Iptables, want{
		path: "/usr/lib/xtables/xtables-legacy-multi", argv0: "ip6tables",
		found: "/bin/ip6tables-legacy", kind: KindLegacyMulti})
}

func TestLocateIptables16(t *testing.T) {
	opts := stretch16.build(t)
	for _, ft := range familiesAndTools() {
		fam, tool := syntax.Family(ft[0]), backend.Tool(ft[1])
		checkLocate(t, opts, backend.Legacy, fam, tool, want{
			path: "/sbin/xtables-multi", argv0: backend.ProgramName(tool, fam),
			found: "/sbin/xtables-multi", kind: KindXtablesMulti})
		if _, err := Locate(opts, backend.NFT, fam, tool); !ipterr.Is(err, ipterr.Other) {
			t.Errorf("nft on a 1.6 image: got %v, want a class-1 error", err)
		}
	}
}

// TestLocateSkipsShim covers an image where the shim was installed over
// the plain names: those links lead back to the shim and must be passed by.
func TestLocateSkipsShim(t *testing.T) {
	opts := fakeRoot{
		"/usr/sbin/iptables":         "->" + shimPath,
		"/usr/sbin/iptables-save":    "->../local/bin/iptables-shim",
		"/usr/sbin/iptables-nft":     "->" + shimPath,
		"/sbin/iptables":             "->/lib/xtables/xtables-multi",
		"/sbin/iptables-save":        "->/lib/xtables/xtables-multi",
		"/lib/xtables/xtables-multi": "fake",
		"/bin/iptables-nft":          "->/opt/nft/xtables-nft-multi",
		"/opt/nft/xtables-nft-multi": "fake",
	}.build(t)
	checkLocate(t, opts, backend.Legacy, syntax.IPv4, backend.Iptables, want{
		path: "/lib/xtables/xtables-multi", argv0: "iptables", found: "/sbin/iptables", kind: KindXtablesMulti})
	checkLocate(t, opts, backend.Legacy, syntax.IPv4, backend.Save, want{
		path: "/lib/xtables/xtables-multi", argv0: "iptables-save", found: "/sbin/iptables-save", kind: KindXtablesMulti})
	checkLocate(t, opts, backend.NFT, syntax.IPv4, backend.Iptables, want{
		path: "/opt/nft/xtables-nft-multi", argv0: "iptables", found: "/bin/iptables-nft", kind: KindNFTMulti})
	if _, err := Locate(opts, backend.Legacy, syntax.IPv4, backend.Restore); err == nil {
		t.Error("iptables-restore: found a backend where only the shim exists")
	}
}

// TestLocateSkipsRunningExecutable uses the real /proc/self/exe: a hard link
// to the running binary is the same file and must never be taken.
func TestLocateSkipsRunningExecutable(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "usr/sbin/xtables-nft-multi")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(testExe(t), p); err != nil {
		t.Skipf("cannot hard-link the test binary: %v", err)
	}
	opts := LocateOptions{Root: root}
	if bin, err := Locate(opts, backend.NFT, syntax.IPv4, backend.Iptables); err == nil {
		t.Fatalf("took the running executable as backend: %+v", bin)
	}
	inv := Inventory(opts)
	if len(inv) != 1 || inv[0].Usable || inv[0].Why != "is the shim itself" {
		t.Errorf("Inventory = %+v, want the link marked as the shim", inv)
	}
}

func TestLocateSkipsUnusable(t *testing.T) {
	opts := fakeRoot{
		"/usr/sbin/xtables-nft-multi": "empty",
		"/sbin/xtables-nft-multi":     "dir",
		"/usr/bin/xtables-nft-multi":  "noexec",
		"/usr/sbin/iptables-nft":      "->/opt",
		"/usr/sbin/iptables":          "plain",                   // says nothing about its backend
		"/usr/sbin/iptables-save":     "->/opt/iptables-wrapper", // a wrapper, not a backend
		"/opt/iptables-wrapper":       "plain",
		"/sbin/iptables-legacy":       "->/opt/xtables-nft-multi", // named legacy, is nft
		"/opt/xtables-nft-multi":      "fake",
		"/bin/iptables-nft":           "->loop1",
		"/bin/loop1":                  "->loop2",
		"/bin/loop2":                  "->loop1",
		"/bin/ip6tables-nft":          "->/opt/xtables-nft-multi",
	}.build(t)
	for _, mode := range []backend.Mode{backend.NFT, backend.Legacy} {
		for _, tool := range []backend.Tool{backend.Iptables, backend.Save} {
			if bin, err := Locate(opts, mode, syntax.IPv4, tool); err == nil {
				t.Errorf("%s %s: took %+v", mode, backend.ProgramName(tool, syntax.IPv4), bin)
			}
		}
	}
	checkLocate(t, opts, backend.NFT, syntax.IPv6, backend.Iptables, want{
		path: "/opt/xtables-nft-multi", argv0: "ip6tables", found: "/bin/ip6tables-nft", kind: KindNFTMulti})

	why := map[string]string{}
	for _, e := range Inventory(opts) {
		why[e.Path] = e.Why
	}
	for p, w := range map[string]string{
		"/usr/sbin/xtables-nft-multi": "empty file",
		"/sbin/xtables-nft-multi":     "not a regular file",
		"/usr/bin/xtables-nft-multi":  "not executable",
		"/usr/sbin/iptables-nft":      "not a regular file",
		"/usr/sbin/iptables":          "",
		"/sbin/iptables-legacy":       "",
	} {
		if got, ok := why[p]; !ok || got != w {
			t.Errorf("Inventory %s: why=%q (listed %v), want %q", p, got, ok, w)
		}
	}
	if w := why["/bin/iptables-nft"]; !strings.Contains(w, "too many levels") {
		t.Errorf("Inventory /bin/iptables-nft: why=%q, want a symlink loop", w)
	}
}

func TestLocateNothing(t *testing.T) {
	opts := fakeRoot{}.build(t)
	_, err := Locate(opts, backend.Legacy, syntax.IPv6, backend.Restore)
	var e *ipterr.Error
	if !ipterr.Is(err, ipterr.Other) || !errors.As(err, &e) || e.Printed {
		t.Fatalf("got %v, want an unprinted class-1 error", err)
	}
	msg := err.Error()
	for _, s := range []string{"legacy", "ip6tables-restore", "xtables-legacy-multi", "ip6tables-legacy-restore", "xtables-multi",
		filepath.Join(opts.Root, "/usr/sbin"), filepath.Join(opts.Root, "/bin")} {
		if !strings.Contains(msg, s) {
			t.Errorf("message %q does not name %q", msg, s)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("message is not one line: %q", msg)
	}
}

func TestInventoryDedupesLinkedDirs(t *testing.T) {
	opts := debian189.build(t)
	inv := Inventory(opts)
	seen := map[string]bool{}
	for _, e := range inv {
		if strings.HasPrefix(e.Path, "/sbin/") {
			t.Errorf("listed %s although /sbin is /usr/sbin", e.Path)
		}
		if seen[e.Path] {
			t.Errorf("listed %s twice", e.Path)
		}
		seen[e.Path] = true
		if !e.Usable {
			t.Errorf("%s not usable: %s", e.Path, e.Why)
		}
	}
	if len(inv) != len(debian189)-len([]string{"/sbin"})-6 { // minus /etc/alternatives
		t.Errorf("Inventory listed %d files: %+v", len(inv), inv)
	}
}

// TestLocateHost checks the machine's own layout when it has iptables 1.8
// (read-only: nothing is run).
func TestLocateHost(t *testing.T) {
	if _, err := os.Stat("/usr/sbin/xtables-nft-multi"); err != nil {
		t.Skip("no iptables 1.8 on this machine")
	}
	bin, err := Locate(LocateOptions{}, backend.NFT, syntax.IPv6, backend.Restore)
	if err != nil {
		t.Fatal(err)
	}
	if bin.Argv0 != "ip6tables-restore" || bin.Kind != KindNFTMulti || !filepath.IsAbs(bin.Path) {
		t.Errorf("got %+v", bin)
	}
}

func TestKindOf(t *testing.T) {
	for name, k := range map[string]Kind{
		"xtables-nft-multi":    KindNFTMulti,
		"xtables-legacy-multi": KindLegacyMulti,
		"xtables-multi":        KindXtablesMulti,
		"ip6tables-multi":      KindXtablesMulti,
		"iptables-nft-restore": KindNFTNamed,
		"ip6tables-legacy":     KindLegacyNamed,
		"iptables":             KindUnknown,
		"iptables-wrapper":     KindUnknown,
		"iptables-shim":        KindUnknown,
	} {
		if got := kindOf(name); got != k {
			t.Errorf("kindOf(%q) = %s, want %s", name, got, k)
		}
	}
}

// BenchmarkLocate is the per-call cost of finding the backend on this
// machine's own layout (the hot path of every exec-mode call).
func BenchmarkLocate(b *testing.B) {
	for _, mode := range []backend.Mode{backend.NFT, backend.Legacy} {
		b.Run(string(mode), func(b *testing.B) {
			if _, err := Locate(LocateOptions{}, mode, syntax.IPv4, backend.Iptables); err != nil {
				b.Skip(err)
			}
			for b.Loop() {
				_, _ = Locate(LocateOptions{}, mode, syntax.IPv4, backend.Iptables)
			}
		})
	}
}
