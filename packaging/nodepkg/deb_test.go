package nodepkg

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// debRoot is a throwaway root with an empty dpkg database and Debian's own
// update-alternatives (the real one, copied in with its libraries).
func debRoot(t *testing.T) throwawayRoot {
	t.Helper()
	r := newThrowawayRoot(t, "dpkg", "ldd", "update-alternatives")
	for _, d := range []string{"/var/lib/dpkg/info", "/var/lib/dpkg/updates", "/var/lib/dpkg/triggers", "/var/lib/dpkg/alternatives", "/etc/alternatives", "/var/log"} {
		r.mkdir(d)
	}
	r.write("/var/lib/dpkg/status", "", 0o644)
	r.write("/var/lib/dpkg/available", "", 0o644)
	r.copyDynamic("/usr/bin/update-alternatives")
	// dpkg insists on finding these in the root's PATH; nothing here
	// needs them to do anything.
	r.write("/sbin/ldconfig", "#!/bin/sh\nexit 0\n", 0o755)
	r.write("/sbin/start-stop-daemon", "#!/bin/sh\nexit 0\n", 0o755)
	return r
}

// debianLayout: iptables 1.8 on Debian, groups iptables and ip6tables with
// -save/-restore following, registered by the real tool.
func debianLayout(r throwawayRoot) {
	r.iptablesBackends("/usr/sbin", "legacy", "nft")
	for _, fam := range []string{"iptables", "ip6tables"} {
		for _, be := range []struct{ name, prio string }{{"legacy", "10"}, {"nft", "20"}} {
			r.chroot("/usr/bin/update-alternatives", "--quiet", "--install", "/usr/sbin/"+fam, fam, "/usr/sbin/"+fam+"-"+be.name, be.prio,
				"--slave", "/usr/sbin/"+fam+"-restore", fam+"-restore", "/usr/sbin/"+fam+"-"+be.name+"-restore",
				"--slave", "/usr/sbin/"+fam+"-save", fam+"-save", "/usr/sbin/"+fam+"-"+be.name+"-save")
		}
	}
}

func (r throwawayRoot) dpkg(args ...string) string {
	r.t.Helper()
	cmd := exec.Command(mustLook(r.t, "dpkg"), append([]string{"--root=" + r.dir, "--force-not-root"}, args...)...)
	cmd.Env = append(os.Environ(), "PATH=/usr/sbin:/usr/bin:/sbin:/bin")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("dpkg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestDebTakeoverDebian(t *testing.T) {
	r := debRoot(t)
	debianLayout(r)
	// The admin chose legacy for IPv6 by hand; that choice must come back.
	r.chroot("/usr/bin/update-alternatives", "--quiet", "--set", "ip6tables", "/usr/sbin/ip6tables-legacy")
	before := r.snapshot()
	r.write("/etc/iptables-shim/takeover", "", 0o644)
	shim := netnstest.ShimBinary(t)
	pkgs := []string{
		buildTo(t, Spec{Version: "0.1.0", Arch: "amd64", Shim: shim}, "deb"),
		buildTo(t, Spec{Version: "0.1.1", Arch: "amd64", Shim: shim}, "deb"),
	}
	r.dpkg("-i", pkgs[0])
	r.assertNamesLeadTo("/usr/sbin", shimPath)
	r.assertNamesLeadTo("/usr/libexec/iptables-shim/bin", shimPath)
	if got := r.readlink("/usr/sbin/iptables"); got != "/etc/alternatives/iptables" {
		t.Errorf("the alternatives link itself was replaced: %s", got)
	}
	r.dpkg("-i", pkgs[1]) // upgrade
	r.assertNamesLeadTo("/usr/sbin", shimPath)
	r.dpkg("--purge", "iptables-shim")
	if got := r.resolve("/usr/sbin/ip6tables"); got != "/usr/sbin/xtables-legacy-multi" {
		t.Errorf("the manual choice was not restored: ip6tables leads to %s", got)
	}
	if d := diffSnapshots(before, r.snapshot()); len(d) > 0 {
		t.Errorf("purge did not restore the host exactly:\n%s", strings.Join(d, "\n"))
	}
}
