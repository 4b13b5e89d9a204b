package install

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// testRoot is a throwaway file system root for one test.
type testRoot struct {
	t   *testing.T
	dir string
}

func newRoot(t *testing.T) testRoot {
	t.Helper()
	return testRoot{t: t, dir: t.TempDir()}
}

func (r testRoot) file(p, content string) {
	r.t.Helper()
	h := filepath.Join(r.dir, p)
	if err := os.MkdirAll(filepath.Dir(h), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(h, []byte(content), 0o755); err != nil {
		r.t.Fatal(err)
	}
}

func (r testRoot) link(p, target string) {
	r.t.Helper()
	h := filepath.Join(r.dir, p)
	if err := os.MkdirAll(filepath.Dir(h), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.Symlink(target, h); err != nil {
		r.t.Fatal(err)
	}
}

func (r testRoot) readlink(p string) string {
	r.t.Helper()
	s, err := os.Readlink(filepath.Join(r.dir, p))
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

func (r testRoot) content(p string) string {
	r.t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, p))
	if err != nil {
		r.t.Fatal(err)
	}
	return string(b)
}

func (r testRoot) run(opts Options) (string, error) {
	var out bytes.Buffer
	opts.Root = r.dir
	opts.Out = &out
	if opts.Shim == "" {
		opts.Shim = "/usr/sbin/iptables-shim"
	}
	if opts.Dest == "" {
		opts.Dest = "/usr/sbin"
	}
	err := Run(context.Background(), opts)
	return out.String(), err
}

// assertReachShim checks that all six names in dir resolve to the shim.
func (r testRoot) assertReachShim(dir, shim string) {
	r.t.Helper()
	fr := fsRoot{dir: r.dir}
	want, err := fr.identity(shim)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, n := range Names() {
		got, err := fr.identity(path.Join(dir, n))
		if err != nil || got != want {
			r.t.Errorf("%s/%s does not reach %s (err %v)", dir, n, shim, err)
		}
	}
}

const shimBody = "shim binary"

func TestFreshDirectoryGetsRelativeLinks(t *testing.T) {
	r := newRoot(t)
	r.file("/usr/sbin/iptables-shim", shimBody)
	out, err := r.run(Options{})
	if err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	for _, n := range Names() {
		if got := r.readlink("/usr/sbin/" + n); got != "iptables-shim" {
			t.Errorf("%s -> %q, want relative iptables-shim", n, got)
		}
	}
	r.assertReachShim("/usr/sbin", "/usr/sbin/iptables-shim")
	out, err = r.run(Options{})
	if err != nil || !strings.Contains(out, "already reach") {
		t.Errorf("second run: %v %q, want idempotent", err, out)
	}
}

func TestReplacesWrapperLinksAndLeavesBackends(t *testing.T) {
	// 1.25+ distroless layout: absolute links to a wrapper script.
	r := newRoot(t)
	r.file("/usr/sbin/iptables-shim", shimBody)
	r.file("/usr/sbin/iptables-wrapper", "wrapper")
	r.file("/usr/sbin/xtables-nft-multi", "nft backend")
	r.file("/usr/sbin/xtables-legacy-multi", "legacy backend")
	for _, n := range Names() {
		r.link("/usr/sbin/"+n, "/usr/sbin/iptables-wrapper")
		r.link("/usr/sbin/"+strings.Replace(n, "tables", "tables-nft", 1), "xtables-nft-multi")
	}
	out, err := r.run(Options{})
	if err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	r.assertReachShim("/usr/sbin", "/usr/sbin/iptables-shim")
	if !strings.Contains(out, "(was -> /usr/sbin/iptables-wrapper)") {
		t.Errorf("output does not say what was replaced:\n%s", out)
	}
	if r.content("/usr/sbin/xtables-nft-multi") != "nft backend" || r.readlink("/usr/sbin/iptables-nft") != "xtables-nft-multi" {
		t.Error("backend changed")
	}
}

func TestLinksIntoAnotherDirectory(t *testing.T) {
	// The node package's directory, and a merged-/usr /sbin link on the way.
	r := newRoot(t)
	r.file("/usr/sbin/iptables-shim", shimBody)
	r.link("/sbin", "usr/sbin")
	if err := os.MkdirAll(filepath.Join(r.dir, "/usr/libexec/iptables-shim/bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := r.run(Options{Shim: "/sbin/iptables-shim", Dest: "/usr/libexec/iptables-shim/bin"}); err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	if got := r.readlink("/usr/libexec/iptables-shim/bin/iptables"); got != "../../../sbin/iptables-shim" {
		t.Errorf("link text %q", got)
	}
	r.assertReachShim("/usr/libexec/iptables-shim/bin", "/usr/sbin/iptables-shim")
}

func TestRefusals(t *testing.T) {
	cases := []struct {
		name  string
		setup func(r testRoot)
		opts  Options
		want  error
		text  string
	}{
		{"regular file is kept", func(r testRoot) { r.file("/usr/sbin/iptables", "a real binary") }, Options{}, ErrRefused, "is a regular file"},
		{"shim that is a backend", func(r testRoot) { r.file("/usr/sbin/xtables-nft-multi", "x") }, Options{Shim: "/usr/sbin/xtables-nft-multi"}, ErrRefused, "backend"},
		{"shim that links to a backend", func(r testRoot) {
			r.file("/usr/sbin/xtables-legacy-multi", "x")
			r.link("/usr/sbin/my-shim", "xtables-legacy-multi")
		}, Options{Shim: "/usr/sbin/my-shim"}, ErrRefused, "backend"},
		{"shim named like iptables", func(r testRoot) { r.file("/usr/local/bin/iptables", "x") }, Options{Shim: "/usr/local/bin/iptables"}, ErrRefused, "carries one of the iptables names"},
		{"missing dest", func(testRoot) {}, Options{Dest: "/nowhere"}, ErrNoDest, "/nowhere"},
		{"dest is a file", func(r testRoot) { r.file("/etc/x", "") }, Options{Dest: "/etc/x"}, ErrNoDest, "not a directory"},
		{"managed link without a group", func(r testRoot) { r.link("/usr/sbin/iptables", "/etc/alternatives/iptables") }, Options{Alternatives: AltYes}, ErrRefused, "no alternatives group lists it"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRoot(t)
			r.file("/usr/sbin/iptables-shim", shimBody)
			c.setup(r)
			out, err := r.run(c.opts)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
				t.Fatalf("got %v, want %v containing %q", err, c.want, c.text)
			}
			if _, err := os.Lstat(filepath.Join(r.dir, "/usr/sbin/iptables-save")); err == nil {
				t.Errorf("a refusal changed the directory; output:\n%s", out)
			}
		})
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	r := newRoot(t)
	r.file("/usr/sbin/iptables-shim", shimBody)
	r.link("/usr/sbin/iptables", "/usr/sbin/iptables-wrapper")
	out, err := r.run(Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "would link /usr/sbin/iptables -> iptables-shim (was -> /usr/sbin/iptables-wrapper)") || strings.Count(out, "would link") != 6 {
		t.Errorf("dry run output:\n%s", out)
	}
	if r.readlink("/usr/sbin/iptables") != "/usr/sbin/iptables-wrapper" {
		t.Error("dry run changed a link")
	}
	if _, err := os.Lstat(filepath.Join(r.dir, "/usr/sbin/iptables-save")); err == nil {
		t.Error("dry run created a link")
	}
}

func TestRepairIsQuietUntilSomethingDrifted(t *testing.T) {
	r := newRoot(t)
	r.file("/usr/sbin/iptables-shim", shimBody)
	r.file("/usr/sbin/xtables-nft-multi", "nft backend")
	if _, err := r.run(Options{}); err != nil {
		t.Fatal(err)
	}
	if out, err := r.run(Options{Repair: true}); err != nil || out != "" {
		t.Fatalf("repair with nothing to do: %v %q", err, out)
	}
	// What an RHEL 8 iptables update does: rewrite its own links.
	for _, n := range []string{"iptables", "iptables-restore"} {
		if err := os.Remove(filepath.Join(r.dir, "/usr/sbin", n)); err != nil {
			t.Fatal(err)
		}
		r.link("/usr/sbin/"+n, "xtables-nft-multi")
	}
	out, err := r.run(Options{Repair: true})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(out, "\n") != 2 || !strings.Contains(out, "(was -> xtables-nft-multi)") {
		t.Errorf("repair output:\n%s", out)
	}
	r.assertReachShim("/usr/sbin", "/usr/sbin/iptables-shim")
}

func TestReadOnlyDestination(t *testing.T) {
	r := newRoot(t)
	r.file("/usr/sbin/iptables-shim", shimBody)
	dest := filepath.Join(r.dir, "/usr/sbin")
	if os.Geteuid() == 0 {
		// Root ignores modes: use a read-only bind mount of the directory.
		if err := syscall.Mount(dest, dest, "", syscall.MS_BIND, ""); err != nil {
			t.Skipf("bind mount: %v", err)
		}
		t.Cleanup(func() { _ = syscall.Unmount(dest, syscall.MNT_DETACH) })
		if err := syscall.Mount("", dest, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
			t.Skipf("read-only remount: %v", err)
		}
	} else {
		if err := os.Chmod(dest, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(dest, 0o755) })
	}
	_, err := r.run(Options{})
	if !errors.Is(err, ErrReadOnly) {
		t.Fatalf("got %v, want ErrReadOnly", err)
	}
	if os.Geteuid() == 0 && !strings.Contains(err.Error(), "read-only file system") {
		t.Errorf("message %q does not say read-only", err)
	}
}

// debianRoot lays out a Debian iptables 1.8 install with its two
// alternatives groups, registered by the real update-alternatives.
func debianRoot(t *testing.T) (testRoot, string) {
	t.Helper()
	tool, err := exec.LookPath("/usr/bin/update-alternatives")
	if err != nil {
		t.Skip("dpkg's update-alternatives is not installed")
	}
	r := newRoot(t)
	for _, d := range []string{"/etc/alternatives", "/var/lib/dpkg/alternatives", "/var/log"} {
		if err := os.MkdirAll(filepath.Join(r.dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r.file("/usr/sbin/iptables-shim", shimBody)
	r.file("/usr/sbin/xtables-legacy-multi", "legacy")
	r.file("/usr/sbin/xtables-nft-multi", "nft")
	for _, fam := range []string{"iptables", "ip6tables"} {
		for _, be := range []struct{ name, prio string }{{"legacy", "10"}, {"nft", "20"}} {
			for _, suf := range []string{"", "-save", "-restore"} {
				r.link("/usr/sbin/"+fam+"-"+be.name+suf, "xtables-"+be.name+"-multi")
			}
			mustRun(t, tool, "--root", r.dir, "--install", "/usr/sbin/"+fam, fam, "/usr/sbin/"+fam+"-"+be.name, be.prio,
				"--slave", "/usr/sbin/"+fam+"-restore", fam+"-restore", "/usr/sbin/"+fam+"-"+be.name+"-restore",
				"--slave", "/usr/sbin/"+fam+"-save", fam+"-save", "/usr/sbin/"+fam+"-"+be.name+"-save")
		}
	}
	return r, tool
}

func mustRun(t *testing.T, prog string, args ...string) string {
	t.Helper()
	out, err := exec.Command(prog, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", prog, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestRegistersWithDebianAlternatives(t *testing.T) {
	r, tool := debianRoot(t)
	out, err := r.run(Options{})
	if err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	if strings.Count(out, "--install") != 2 {
		t.Errorf("want one registration per group:\n%s", out)
	}
	r.assertReachShim("/usr/sbin", "/usr/sbin/iptables-shim")
	if got := r.readlink("/usr/sbin/iptables"); got != "/etc/alternatives/iptables" {
		t.Errorf("the managed link itself was replaced: -> %s", got)
	}
	if got := r.readlink("/etc/alternatives/ip6tables-save"); got != "/usr/sbin/iptables-shim" {
		t.Errorf("ip6tables-save alternative -> %s", got)
	}
	disp := mustRun(t, tool, "--root", r.dir, "--display", "iptables")
	if !strings.Contains(disp, "/usr/sbin/iptables-shim - priority 21") || !strings.Contains(disp, "auto mode") {
		t.Errorf("group state:\n%s", disp)
	}
	// Removing our entry gives the host its previous choice back.
	mustRun(t, tool, "--root", r.dir, "--remove", "iptables", "/usr/sbin/iptables-shim")
	if got := r.readlink("/etc/alternatives/iptables"); got != "/usr/sbin/iptables-nft" {
		t.Errorf("after removal iptables -> %s", got)
	}
}

func TestManualAlternativesGroupIsSwitched(t *testing.T) {
	r, tool := debianRoot(t)
	mustRun(t, tool, "--root", r.dir, "--set", "iptables", "/usr/sbin/iptables-legacy")
	out, err := r.run(Options{})
	if err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	r.assertReachShim("/usr/sbin", "/usr/sbin/iptables-shim")
	// A package update that re-selects legacy is repaired by re-selecting.
	mustRun(t, tool, "--root", r.dir, "--set", "iptables", "/usr/sbin/iptables-legacy")
	out, err = r.run(Options{Repair: true})
	if err != nil || !strings.Contains(out, "--set iptables /usr/sbin/iptables-shim") {
		t.Fatalf("repair: %v\n%s", err, out)
	}
	r.assertReachShim("/usr/sbin", "/usr/sbin/iptables-shim")
}

func TestAlternativesNoReplacesLinks(t *testing.T) {
	r, _ := debianRoot(t)
	if out, err := r.run(Options{Alternatives: AltNo}); err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	if got := r.readlink("/usr/sbin/iptables"); got != "iptables-shim" {
		t.Errorf("iptables -> %s", got)
	}
	if got := r.readlink("/etc/alternatives/iptables"); got != "/usr/sbin/iptables-nft" {
		t.Errorf("alternatives touched: %s", got)
	}
}

func TestParseAltGroup(t *testing.T) {
	// chkconfig's format (Fedora): the same shape as dpkg's.
	data := "auto\n/usr/sbin/iptables\nip6tables\n/usr/sbin/ip6tables\niptables-save\n/usr/sbin/iptables-save\n\n/usr/sbin/iptables-nft\n10\n/usr/sbin/ip6tables-nft\n/usr/sbin/iptables-nft-save\n/usr/sbin/iptables-legacy\n5\n/usr/sbin/ip6tables-legacy\n/usr/sbin/iptables-legacy-save\n"
	g, err := parseAltGroup("iptables", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if g.Manual || g.Link != "/usr/sbin/iptables" || len(g.Slaves) != 2 || len(g.Entries) != 2 || g.topPriority() != 10 || !g.has("/usr/sbin/iptables-legacy") {
		t.Errorf("parsed %+v", g)
	}
	alt := alternatives{root: fsRoot{}, tool: "/usr/sbin/alternatives"}
	args := strings.Join(alt.registerArgs(g, "/usr/sbin/iptables-shim", 11), " ")
	want := "--install /usr/sbin/iptables iptables /usr/sbin/iptables-shim 11 --slave /usr/sbin/ip6tables ip6tables /usr/sbin/iptables-shim --slave /usr/sbin/iptables-save iptables-save /usr/sbin/iptables-shim"
	if args != want {
		t.Errorf("register args\n got %s\nwant %s", args, want)
	}
}

func TestIsBackendName(t *testing.T) {
	for name, want := range map[string]bool{
		"xtables-multi": true, "xtables-nft-multi": true, "/usr/sbin/xtables-legacy-multi": true,
		"iptables-legacy": true, "ip6tables-nft-restore": true, "iptables-legacy-save": true,
		"iptables": false, "iptables-shim": false, "iptables-wrapper": false, "iptables-restore": false,
	} {
		if got := IsBackendName(name); got != want {
			t.Errorf("IsBackendName(%q) = %v", name, got)
		}
	}
}

func TestCopyIntoSharedDirectory(t *testing.T) {
	r := newRoot(t)
	r.file("/usr/sbin/iptables-shim", shimBody)
	if err := os.MkdirAll(filepath.Join(r.dir, "/shared"), 0o777); err != nil {
		t.Fatal(err)
	}
	if out, err := r.run(Options{Dest: "/shared", Copy: true}); err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	if r.content("/shared/iptables-shim") != shimBody || r.readlink("/shared/iptables") != "iptables-shim" {
		t.Error("copy or link wrong")
	}
	fi, err := os.Stat(filepath.Join(r.dir, "/shared/iptables-shim"))
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("copy mode %v %v", fi.Mode(), err)
	}
	r.assertReachShim("/shared", "/shared/iptables-shim")
}
