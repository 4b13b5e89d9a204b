package nodepkg

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

const shimPath = "/usr/libexec/iptables-shim/bin/iptables-shim"

// rpmRoot is a throwaway root with an rpm database and the chkconfig
// alternatives double.
func rpmRoot(t *testing.T) throwawayRoot {
	t.Helper()
	r := newThrowawayRoot(t, "rpm")
	r.copyFile("/usr/sbin/alternatives", rhelAlternatives(t), 0o755)
	r.rpm("--initdb")
	return r
}

// fedoraLayout: Fedora / RHEL 9, one group with five followers, both
// backends registered, nft selected.
func fedoraLayout(r throwawayRoot) {
	r.iptablesBackends("/usr/sbin", "legacy", "nft")
	for _, be := range []struct{ name, prio string }{{"legacy", "5"}, {"nft", "10"}} {
		args := []string{"/usr/sbin/alternatives", "--install", "/usr/sbin/iptables", "iptables", "/usr/sbin/iptables-" + be.name, be.prio}
		for _, n := range shimNames[1:] {
			args = append(args, "--slave", "/usr/sbin/"+n, n, "/usr/sbin/"+strings.Replace(n, "tables", "tables-"+be.name, 1))
		}
		r.chroot(args...)
	}
}

// rhel8Layout: no alternatives, the names are package-owned links to the
// nft backend.
func rhel8Layout(r throwawayRoot) {
	r.mkdir("/var/lib/alternatives") // chkconfig's, present though unused for iptables
	r.write("/usr/sbin/xtables-nft-multi", "#!stand-in nft backend\n", 0o755)
	for _, n := range shimNames {
		r.symlink("/usr/sbin/"+n, "xtables-nft-multi")
	}
}

// packages returns amd64 rpms of the real shim, one per version; each is
// built once per test process (xz over the binary is the slow part).
func packages(t *testing.T, versions ...string) []string {
	t.Helper()
	shim := netnstest.ShimBinary(t)
	builtMu.Lock()
	defer builtMu.Unlock()
	var out []string
	for _, v := range versions {
		if built[v] == "" {
			p := buildTo(t, Spec{Version: v, Arch: "amd64", Shim: shim}, "rpm")
			dst := filepath.Join(builtDir(t), filepath.Base(p))
			if err := os.Rename(p, dst); err != nil {
				t.Fatal(err)
			}
			built[v] = dst
		}
		out = append(out, built[v])
	}
	return out
}

var (
	builtMu  sync.Mutex
	built    = map[string]string{}
	builtTop string
)

// builtDir outlives single tests; TestMain removes it.
func builtDir(t *testing.T) string {
	t.Helper()
	if builtTop == "" {
		d, err := os.MkdirTemp("", "iptables-shim-rpms-")
		if err != nil {
			t.Fatal(err)
		}
		builtTop = d
	}
	return builtTop
}

func TestRPMWithoutTakeoverLeavesHostAlone(t *testing.T) {
	r := rpmRoot(t)
	fedoraLayout(r)
	before := r.snapshot()
	pkgs := packages(t, "0.1.0")
	r.rpm("-i", "--nodeps", pkgs[0])
	if got := r.resolve("/usr/sbin/iptables"); got != "/usr/sbin/xtables-nft-multi" {
		t.Errorf("without opt-in, iptables leads to %s", got)
	}
	r.assertNamesLeadTo("/usr/libexec/iptables-shim/bin", shimPath)
	if got := r.resolve("/usr/sbin/iptables-shim"); got != shimPath {
		t.Errorf("/usr/sbin/iptables-shim leads to %s", got)
	}
	r.rpm("-e", "iptables-shim")
	if d := diffSnapshots(before, r.snapshot()); len(d) > 0 {
		t.Errorf("erase did not restore the host:\n%s", strings.Join(d, "\n"))
	}
}

func TestRPMTakeoverFedora(t *testing.T) {
	r := rpmRoot(t)
	fedoraLayout(r)
	r.chroot("/usr/sbin/alternatives", "--set", "iptables", "/usr/sbin/iptables-legacy") // an admin's manual choice
	before := r.snapshot()
	r.write("/etc/iptables-shim/takeover", "", 0o644)
	pkgs := packages(t, "0.1.0", "0.1.1")
	r.rpm("-i", "--nodeps", pkgs[0])
	r.assertNamesLeadTo("/usr/sbin", shimPath)
	if got := r.readlink("/usr/sbin/ip6tables-save"); got != "/etc/alternatives/ip6tables-save" {
		t.Errorf("the alternatives link itself was replaced: %s", got)
	}
	r.rpm("-U", "--nodeps", pkgs[1])
	r.assertNamesLeadTo("/usr/sbin", shimPath)
	if q := r.rpm("-q", "iptables-shim"); !strings.Contains(q, "0.1.1") {
		t.Errorf("after upgrade: %s", q)
	}
	r.rpm("-e", "iptables-shim")
	if got := r.resolve("/usr/sbin/iptables"); got != "/usr/sbin/xtables-legacy-multi" {
		t.Errorf("the manual choice was not restored: iptables leads to %s", got)
	}
	if d := diffSnapshots(before, r.snapshot()); len(d) > 0 {
		t.Errorf("erase did not restore the host exactly:\n%s", strings.Join(d, "\n"))
	}
}

func TestRPMTakeoverRHEL8(t *testing.T) {
	r := rpmRoot(t)
	rhel8Layout(r)
	before := r.snapshot()
	r.write("/etc/iptables-shim/takeover", "", 0o644)
	pkgs := packages(t, "0.1.0")
	r.rpm("-i", "--nodeps", pkgs[0])
	r.assertNamesLeadTo("/usr/sbin", shimPath)

	// An iptables update rewrites the links it owns: the shim is bypassed
	// until repair runs (from the systemd path unit on a real host).
	r.symlink("/usr/sbin/iptables", "xtables-nft-multi")
	r.symlink("/usr/sbin/ip6tables-restore", "xtables-nft-multi")
	if got := r.resolve("/usr/sbin/iptables"); got != "/usr/sbin/xtables-nft-multi" {
		t.Fatalf("setup: %s", got)
	}
	r.chroot("/usr/libexec/iptables-shim/takeover", "repair")
	r.assertNamesLeadTo("/usr/sbin", shimPath)
	status := r.chroot("/usr/libexec/iptables-shim/takeover", "status")
	if !strings.Contains(status, "all names lead to") {
		t.Errorf("status:\n%s", status)
	}

	r.rpm("-e", "iptables-shim")
	if d := diffSnapshots(before, r.snapshot()); len(d) > 0 {
		t.Errorf("erase did not restore the host exactly:\n%s", strings.Join(d, "\n"))
	}
}

func TestRPMTakeoverRollsBackWhenAlternativesFailsSilently(t *testing.T) {
	r := rpmRoot(t)
	fedoraLayout(r)
	// A regular file where a follower link should be: alternatives prints
	// "exists and it is not a symlink" and still exits 0.
	r.write("/usr/sbin/ip6tables-save", "#!local script\n", 0o755)
	before := r.snapshot()
	r.write("/etc/iptables-shim/takeover", "", 0o644)
	out := r.rpm("-i", "--nodeps", packages(t, "0.1.0")[0])
	if !strings.Contains(out, "takeover failed") || !strings.Contains(out, "rolling back") {
		t.Errorf("no rollback reported:\n%s", out)
	}
	if got := r.resolve("/usr/sbin/iptables"); got != "/usr/sbin/xtables-nft-multi" {
		t.Errorf("after rollback iptables leads to %s", got)
	}
	after := r.snapshot()
	delete(after, "/usr/sbin/iptables-shim") // the package itself stays installed
	if d := diffSnapshots(before, after); len(d) > 0 {
		t.Errorf("rollback left changes:\n%s", strings.Join(d, "\n"))
	}
}
