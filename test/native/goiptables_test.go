package native_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/goiptclient"
	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

func TestMain(m *testing.M) {
	goiptclient.MainIfClient()
	os.Exit(m.Run())
}

// TestGoIptables drives github.com/coreos/go-iptables through the shim in
// native mode in one namespace and through the real iptables-nft in
// another, for both families, and compares transcripts and kernel state.
func TestGoIptables(t *testing.T) {
	netnstest.Require(t, "xtables-nft-multi", "nft")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	shimDir, real := netnstest.ShimDir(t), realDir(t)
	for _, fam := range []string{"iptables", "ip6tables"} {
		t.Run(fam, func(t *testing.T) {
			shimNS, realNS := netnstest.New(t), netnstest.New(t)
			client := func(ns *netnstest.NS, dir string, env []string) netnstest.Result {
				env = append(env, goiptclient.Env(filepath.Join(dir, fam), fam)...)
				return ns.RunWith(netnstest.RunOpts{Env: env}, exe)
			}
			got, want := client(shimNS, shimDir, shimEnv(t)), client(realNS, real, nil)
			if want.Code != 0 || !strings.Contains(want.Stdout, "Exists true ok") {
				t.Fatalf("the client against the real tool failed:\n%s", want)
			}
			if got != want {
				t.Errorf("go-iptables transcript differs\nshim:\n%s\nreal:\n%s", got, want)
			}
			if g, w := shimNS.NFTDump(), realNS.NFTDump(); g != w {
				t.Errorf("kernel state differs\nshim:\n%s\nreal:\n%s", g, w)
			}
		})
	}
}
