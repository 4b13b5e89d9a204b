package incident

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// debian9Etc writes the /etc of a Debian 9 based kube-proxy image (1.13's
// debian-iptables): alternatives pointing at iptables-legacy, os-release 9.
// Read as the host's, it says "legacy" on any node.
func debian9Etc(t *testing.T) string {
	t.Helper()
	etc := filepath.Join(t.TempDir(), "etc")
	if err := os.MkdirAll(filepath.Join(etc, "alternatives"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/usr/sbin/iptables-legacy", filepath.Join(etc, "alternatives/iptables")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(etc, "os-release"), []byte("PRETTY_NAME=\"Debian GNU/Linux 9 (stretch)\"\nID=debian\nVERSION_ID=\"9\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return etc
}

// imageRootShimDir makes a directory of the shim's seven names, each a
// script that runs the real shim in a private mount namespace whose /etc is
// the image's (and, with pidNS, a PID namespace of its own, as in a
// container), with host-root left at "/". The shim then sees an image-like
// root, exactly as in a kube-proxy pod without a host mount.
func imageRootShimDir(t *testing.T, shims, etc string, pidNS bool) string {
	t.Helper()
	dir := t.TempDir()
	unshare := "unshare --mount --propagation private"
	if pidNS {
		unshare += " --pid --fork --mount-proc"
	}
	for _, name := range append([]string{"iptables-shim"}, netnstest.ShimNames...) {
		script := fmt.Sprintf("#!/bin/sh\nexec %s /bin/sh -ec 'mount --bind %q /etc; exec %q \"$@\"' %s \"$@\"\n",
			unshare, etc, filepath.Join(shims, name), name)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// imageRootCase is how the image root is presented.
var imageRootCases = []struct {
	name  string
	pidNS bool
}{
	{"debian9-root-own-mntns", false},
	{"debian9-root-container", true},
}

// TestMatrixImageRoot: cells where "/" is an image-like root (a Debian 9
// image's /etc, in a private mount namespace) on an empty nf_tables host
// and on kubelet-chains hosts. Before, the image's alternatives link
// decided "legacy" on the empty nf_tables host (the incident again); the
// decision must follow the host's kernel evidence, never the image.
func TestMatrixImageRoot(t *testing.T) {
	netnstest.Require(t, "iptables-nft", "iptables-legacy", "ipset", "unshare")
	shims := netnstest.ShimDir(t)
	etc := debian9Etc(t)
	picked := map[string]bool{"empty-kube-proxy-first": true, "centos8.2-nft-kubelet1.13": true,
		"nft-kubelet1.24-markers": true, "centos7.6-legacy-kubelet1.13": true}
	for _, rc := range imageRootCases {
		dir := imageRootShimDir(t, shims, etc, rc.pidNS)
		for _, h := range hosts {
			if !picked[h.name] {
				continue
			}
			for _, img := range images {
				if img.name != "k8s1.13-legacy-iptables1.6" {
					continue // the Debian 9 based image
				}
				img := img
				img.name += "+" + rc.name
				for _, cl := range callers {
					h, cl := h, cl
					t.Run(h.name+"/"+img.name+"/"+cl.name, func(t *testing.T) {
						result := runCell(t, dir, h, img, cl)
						if t.Failed() {
							result = "FAIL"
						}
						record(h, img, cl, result)
					})
				}
			}
		}
	}
}

// TestImageRootDecision looks at the decision itself on an empty nf_tables
// host: nf_tables, and no hint taken from the image's /etc.
func TestImageRootDecision(t *testing.T) {
	netnstest.Require(t, "unshare")
	shims := netnstest.ShimDir(t)
	etc := debian9Etc(t)
	for _, rc := range imageRootCases {
		t.Run(rc.name, func(t *testing.T) {
			ns := netnstest.New(t)
			dir := imageRootShimDir(t, shims, etc, rc.pidNS)
			res := ns.RunWith(netnstest.RunOpts{Env: []string{
				"IPTABLES_SHIM_CONFIG=" + filepath.Join(t.TempDir(), "absent"),
				"IPTABLES_SHIM_CACHE_DIR=" + t.TempDir(),
				"IPTABLES_SHIM_DETECT_WAIT=200ms",
			}}, filepath.Join(dir, "iptables-shim"), "detect", "--json", "--fresh")
			var d struct {
				Mode     string
				Reason   string
				Detail   string
				Evidence struct {
					Hints struct {
						Trusted      bool
						Trust        string
						ReadFrom     string `json:"read_from"`
						Alternatives string
						OSVersionID  string `json:"os_version_id"`
					}
				}
			}
			if err := json.Unmarshal([]byte(res.Stdout), &d); err != nil {
				t.Fatalf("decoding: %v\n%s", err, res)
			}
			h := d.Evidence.Hints
			if d.Mode != "nft" || h.Alternatives == "/usr/sbin/iptables-legacy" || h.OSVersionID == "9" {
				t.Fatalf("decided %s/%s (%s) with hints %+v: the image's /etc was taken for the host's", d.Mode, d.Reason, d.Detail, h)
			}
			if h.Trust == "" || (h.Trusted && h.ReadFrom == "/") {
				t.Errorf("hints %+v: / (the image) trusted, or no reason given", h)
			}
			text := ns.RunWith(netnstest.RunOpts{Env: []string{
				"IPTABLES_SHIM_CONFIG=" + filepath.Join(t.TempDir(), "absent"),
				"IPTABLES_SHIM_CACHE_DIR=" + t.TempDir(),
				"IPTABLES_SHIM_DETECT_WAIT=0s",
			}}, filepath.Join(dir, "iptables-shim"), "detect")
			if !strings.Contains(text.Stdout, "host hints: ") {
				t.Errorf("detect does not say where host hints come from:\n%s", text)
			}
		})
	}
}
