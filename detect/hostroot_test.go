package detect

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/detect/helperproc"
	"github.com/iptables-shim/iptables-shim/shim/netfilter"
)

func TestInMountinfo(t *testing.T) {
	table := []byte("22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n" +
		"35 22 0:30 / /host\\040root ro,relatime - ext4 /dev/vda1 ro\n" +
		"36 22 0:4 net:[4026532281] /run/netns/x rw shared:5 - nsfs nsfs rw\n")
	for dir, want := range map[string]bool{"/": true, "/host root": true, "/host": false, "/run/netns/x": true, "/run": false} {
		if got := inMountinfo(table, dir); got != want {
			t.Errorf("%q: got %v, want %v", dir, got, want)
		}
	}
}

// imageRoot writes a Debian 9 image's /etc: alternatives pointing at
// iptables-legacy, os-release saying 9. Taken for the host's, it decides
// "legacy" on any host: the incident.
func imageRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc/alternatives"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/usr/sbin/iptables-legacy", filepath.Join(root, "etc/alternatives/iptables")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/os-release"), []byte("ID=debian\nVERSION_ID=\"9\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// resolveVia runs the resolve helper through a wrapper (unshare ...).
func (s *scenario) resolveVia(wrapper []string, env ...string) Decision {
	s.t.Helper()
	return s.decision(helperproc.RunVia(s.t, s.ns, wrapper, "resolve", append([]string{"T_CACHE=" + s.cache}, env...)...))
}

// privateMount runs the helper in a private mount namespace after script
// (sh), e.g. a bind mount. pidNS adds a PID namespace of its own, as a
// container has.
func privateMount(script string, pidNS bool) []string {
	w := []string{"unshare", "--mount", "--propagation", "private"}
	if pidNS {
		w = append(w, "--pid", "--fork", "--mount-proc")
	}
	return append(w, "sh", "-ec", script+"\nexec \"$0\"")
}

func TestScenarioHostHintFromMountedRoot(t *testing.T) {
	netnstest := newScenario(t)
	root := imageRoot(t)
	// The host's / mounted at host-root: a mount point, so its hints count.
	d := netnstest.resolveVia(privateMount(`mount --bind "$T_ROOT" "$T_ROOT"`, true), "T_ROOT="+root, "T_WAIT=5s")
	expect(t, d, netfilter.Legacy, ReasonHostHint)
	if h := d.Evidence.Hints; !h.Trusted || h.ReadFrom != root {
		t.Errorf("hints %+v, want trusted, read from %s", h, root)
	}
}

func TestScenarioHostRootThatIsNoMountIsNotTrusted(t *testing.T) {
	scenarios(t, restoreTools, func(t *testing.T, s *scenario) {
		root := imageRoot(t)
		d := s.resolve("T_ROOT="+root, "T_WAIT=300ms")
		expect(t, d, netfilter.NFT, ReasonDefault)
		if h := d.Evidence.Hints; h.Trusted || h.Alternatives != "" || h.Trust == "" {
			t.Errorf("hints %+v, want untrusted with a reason and nothing read", h)
		}
	})
}

// The image is not the host: "/" is an image-like root (a private mount
// namespace whose /etc is a Debian 9 image's) on an empty nf_tables host.
// Before, its alternatives link decided "legacy"; now it is never read.
func TestScenarioImageRootIsNotTheHost(t *testing.T) {
	hostAlt, _ := os.Readlink("/etc/alternatives/iptables")
	for _, c := range []struct {
		name  string
		pidNS bool
	}{{"own mount namespace", false}, {"container (own mount and PID namespaces)", true}} {
		t.Run(c.name, func(t *testing.T) {
			s := newScenario(t)
			img := imageRoot(t)
			d := s.resolveVia(privateMount(`mount --bind "$T_IMAGE/etc" /etc`, c.pidNS), "T_ROOT=/", "T_IMAGE="+img, "T_WAIT=300ms")
			h := d.Evidence.Hints
			if d.Mode != netfilter.NFT || h.Alternatives == "/usr/sbin/iptables-legacy" || h.OSVersionID == "9" {
				t.Fatalf("decided %s/%s (%s) from the image's /etc: hints %+v", d.Mode, d.Reason, d.Detail, h)
			}
			if c.pidNS {
				if h.Trusted || d.Reason != ReasonDefault {
					t.Errorf("in a container / was trusted: %s/%s, hints %+v", d.Mode, d.Reason, h)
				}
				return
			}
			// In the initial PID namespace the host's own root is at
			// /proc/1/root: its hints, not the image's, are read, when
			// PID 1 can be looked at (some sandboxes deny it even to root:
			// then nothing is read).
			if _, err := os.Stat("/proc/1/root/"); err != nil {
				if h.Trusted || h.Trust == "" {
					t.Errorf("hints %+v, want untrusted with the reason", h)
				}
				t.Logf("/proc/1/root is out of reach here (%v): / untrusted, %s", err, h.Trust)
				return
			}
			if !h.Trusted || h.ReadFrom != "/proc/1/root" || h.Alternatives != hostAlt {
				t.Errorf("hints %+v, want the host's (alternatives %q) read through /proc/1/root", h, hostAlt)
			}
		})
	}
}

// TestHostRootOnTheHost: this test process runs on the machine itself, in
// its initial mount namespace, like the node package's shim: / is trusted.
func TestHostRootOnTheHost(t *testing.T) {
	pid, _ := nsInode("/proc/self/ns/pid")
	mnt, _ := nsInode("/proc/self/ns/mnt")
	initMnt, err := nsInode("/proc/1/ns/mnt")
	if pid != initialPIDNSInode || (mnt != initialMntNSInode && (err != nil || mnt != initMnt)) {
		t.Skip("not running in the host's initial PID and mount namespaces")
	}
	tr := CheckHostRoot("/")
	if !tr.Trusted || tr.ReadFrom != "/" {
		t.Fatalf("%+v, want / trusted", tr)
	}
	if tr := CheckHostRoot(t.TempDir()); tr.Trusted {
		t.Errorf("a plain directory trusted as a host root: %+v", tr)
	}
	if tr := CheckHostRoot(""); tr.Trusted {
		t.Errorf("no root trusted: %+v", tr)
	}
}

// FuzzInMountinfo: any mountinfo text and directory; no panic, and a
// directory without escapes is found exactly when a line names it.
func FuzzInMountinfo(f *testing.F) {
	f.Add([]byte("35 22 0:30 / /host\\040root ro - ext4 /dev/vda1 ro\n"), "/host root")
	f.Add([]byte("36 22 0:4 net:[4026532281] /run/netns/x rw - nsfs nsfs rw\n"), "/run/netns/x")
	f.Add([]byte("1 2 3 4 \\1\n"), "\\1")
	f.Fuzz(func(t *testing.T, data []byte, dir string) {
		got := inMountinfo(data, dir)
		if got && dir != "" && !strings.ContainsAny(dir, " \t\n\\") && !bytes.Contains(data, []byte(dir)) {
			t.Errorf("%q found in %q, which does not contain it", dir, data)
		}
		_ = unescapeMountinfo(dir)
	})
}
