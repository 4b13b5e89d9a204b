// Package skew drives the built shim between a host and an image whose
// iptables-nft versions differ (kubernetes/kubernetes#112477), with real
// iptables-nft 1.8.7 (scripts/fetch-iptables.sh) and the system's 1.8.9.
package skew

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/kubefixture"
	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/internal/oracle"
)

const (
	firewallRule = `-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP`
	dropAll      = `-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -j DROP`
)

// image is an image's iptables: the directory the shim searches for a
// backend and the environment its binary needs.
type image struct {
	dirs string
	env  []string
}

// image187 is an image holding Debian 11's iptables-nft 1.8.7 (its own
// libraries; the system's newer libc).
func image187(t *testing.T) image {
	o := oracle.Require(t, "1.8.7")
	tree := filepath.Dir(o.Prog)
	return image{dirs: filepath.Join(tree, "usr/sbin"), env: []string{
		"LD_LIBRARY_PATH=" + filepath.Join(tree, "usr/lib/x86_64-linux-gnu"),
		"XTABLES_LIBDIR=" + filepath.Join(tree, "usr/lib/x86_64-linux-gnu/xtables"),
	}}
}

// image189 is an image holding the system's iptables-nft 1.8.9.
func image189(*testing.T) image { return image{dirs: "/usr/sbin"} }

// roundTrip runs iptables-save -t filter | iptables-restore through the
// shim (as kube-proxy and firewall tools do) and returns the call log.
func roundTrip(t *testing.T, ns *netnstest.NS, shimDir string, img image, nft string) string {
	t.Helper()
	logFile := filepath.Join(t.TempDir(), "calls.log")
	env := append([]string{
		"IPTABLES_SHIM_CONFIG=/nonexistent/iptables-shim.conf",
		"IPTABLES_SHIM_CACHE_DIR=" + t.TempDir(),
		"IPTABLES_SHIM_LOG=" + logFile,
		"IPTABLES_SHIM_MODE=nft",
		"IPTABLES_SHIM_NFT=" + nft,
		"IPTABLES_SHIM_BACKEND_DIRS=" + img.dirs,
	}, img.env...)
	save := ns.RunWith(netnstest.RunOpts{Env: env}, filepath.Join(shimDir, "iptables-save"), "-t", "filter")
	if save.Code != 0 {
		t.Fatalf("iptables-save through the shim: %s", save)
	}
	restore := ns.RunWith(netnstest.RunOpts{Env: env, Stdin: strings.NewReader(save.Stdout)}, filepath.Join(shimDir, "iptables-restore"))
	if restore.Code != 0 {
		t.Fatalf("iptables-restore through the shim: %s", restore)
	}
	log, _ := os.ReadFile(logFile)
	return string(log)
}

// firewall is KUBE-FIREWALL's rule as the host's own save prints it.
func firewall(t *testing.T, host oracle.Oracle, ns *netnstest.NS) string {
	t.Helper()
	for _, l := range strings.Split(host.Save(t, ns, "iptables"), "\n") {
		if strings.HasPrefix(l, "-A KUBE-FIREWALL ") {
			return l
		}
	}
	return ""
}

// TestImageHostSkew: kubelet wrote its chains with the host's iptables-nft;
// kube-proxy's image has another version. With nft=exec the shim hands the
// round trip to the image's binary and the host's KUBE-FIREWALL turns into
// drop-all (as without the shim); with nft=auto the shim sees the skew,
// does the calls natively in the host's dialect, and the rule survives.
func TestImageHostSkew(t *testing.T) {
	netnstest.Require(t, "nft")
	shimDir := netnstest.ShimDir(t)
	for _, tc := range []struct {
		name  string
		host  string
		image func(*testing.T) image
	}{
		{"image-1.8.7-on-host-1.8.9", "1.8.9", image187},
		{"image-1.8.7-on-host-1.8.11", "1.8.11", image187},
		{"image-1.8.9-on-host-1.8.7", "1.8.7", image189},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host := oracle.Require(t, tc.host)
			img := tc.image(t)
			for _, nft := range []string{"exec", "auto"} {
				ns := netnstest.New(t)
				if r := host.RunStdin(ns, kubefixture.Kubelet113, "iptables-restore", "--noflush"); r.Code != 0 {
					t.Fatalf("%s writing kubelet's chains: %s", host, r)
				}
				log := roundTrip(t, ns, shimDir, img, nft)
				got := firewall(t, host, ns)
				switch nft {
				case "exec":
					if got != dropAll {
						t.Errorf("nft=exec: the host reads KUBE-FIREWALL as %q; the reproduction expected %q", got, dropAll)
					}
					t.Logf("before (nft=exec): host %s reads %q", tc.host, got)
				case "auto":
					if got != firewallRule {
						t.Errorf("nft=auto: the host reads KUBE-FIREWALL as %q, want %q\ncall log:\n%s", got, firewallRule, log)
					}
					if !strings.Contains(log, "native") || !strings.Contains(log, "host speaks ") {
						t.Errorf("nft=auto did not take the native path for the skew:\n%s", log)
					}
					t.Logf("after (nft=auto): host %s reads %q", tc.host, got)
				}
			}
		})
	}
}
