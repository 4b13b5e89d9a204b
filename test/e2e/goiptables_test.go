package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/goiptclient"
	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// TestGoIptables drives github.com/coreos/go-iptables through the shim in
// one namespace and through the real binary in another, in both modes and
// families, and compares the transcripts and kernel state.
func TestGoIptables(t *testing.T) {
	requireAll(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	shimDir := netnstest.ShimDir(t)
	for _, mode := range modes {
		real := realDir(t, mode)
		for _, fam := range families {
			t.Run(mode+"/"+fam, func(t *testing.T) {
				shimNS, realNS := netnstest.New(t), netnstest.New(t)
				client := func(ns *netnstest.NS, dir string, env []string) netnstest.Result {
					env = append(append(env, privateLock(t)...), goiptclient.Env(filepath.Join(dir, fam), fam)...)
					return ns.RunWith(netnstest.RunOpts{Env: env}, exe)
				}
				got := client(shimNS, shimDir, shimEnv(mode))
				want := client(realNS, real, nil)
				if want.Code != 0 || !strings.Contains(want.Stdout, "Exists true ok") {
					t.Fatalf("the client against the real tool failed:\n%s", want)
				}
				if got != want {
					t.Errorf("go-iptables transcript differs\nshim:\n%s\nreal:\n%s", got, want)
				}
				if g, w := kernelState(shimNS, fam, mode), kernelState(realNS, fam, mode); g != w {
					t.Errorf("kernel state differs\nshim:\n%s\nreal:\n%s", g, w)
				}
				if st := kernelState(shimNS, fam, mode); !strings.Contains(st, "KUBE-GO-2") {
					t.Errorf("the client's chain did not land in %s:\n%s", mode, st)
				}
				assertUntouched(t, shimNS, fam, mode)
			})
		}
	}
}
