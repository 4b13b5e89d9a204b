package kubepayload

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

func TestSizes(t *testing.T) {
	p := Generate(Options{Services: 2000})
	// 40 services without endpoints (one REJECT each), 160 with affinity
	// (2 more rules each), 8 fixed rules.
	if want := 1960*8 + 160*2 + 40 + 8; p.Rules != want {
		t.Errorf("2,000 services: %d rules, want %d", p.Rules, want)
	}
	if got := strings.Count(p.Text, "\n-A "); got+boolInt(strings.HasPrefix(p.Text, "-A ")) != p.Rules {
		t.Errorf("Rules = %d but text has %d -A lines", p.Rules, got)
	}
	if strings.Count(p.Text, "COMMIT\n") != 2 {
		t.Error("want two tables")
	}
	v6 := Generate(Options{Services: 50, Family: syntax.IPv6}).Text
	for _, s := range []string{"[fd00:10:244:1::2]:8080", "/128", "icmp6-port-unreachable", "ffff:ffff"} {
		if !strings.Contains(v6, s) {
			t.Errorf("IPv6 payload lacks %q", s)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestRealRestoreAccepts restores small payloads of every shape and family
// with the real binaries of both backends, each in a fresh namespace.
func TestRealRestoreAccepts(t *testing.T) {
	netnstest.Require(t, "iptables-nft-restore", "iptables-legacy-restore", "ipset")
	for _, fam := range []syntax.Family{syntax.IPv4, syntax.IPv6} {
		for _, shape := range []Shape{IptablesMode, IPVSMode} {
			for _, mode := range []string{"nft", "legacy"} {
				o := Options{Services: 60, Family: fam, Shape: shape}
				t.Run(fmt.Sprintf("%s/v%d/%s", shape, fam, mode), func(t *testing.T) {
					ns := netnstest.New(t)
					for _, s := range IPSets(o) {
						args := []string{"create", s.Name, s.Type}
						if fam == syntax.IPv6 {
							args = append(args, "family", "inet6")
						}
						ns.MustRun("ipset", args...)
					}
					prog := "iptables"
					if fam == syntax.IPv6 {
						prog = "ip6tables"
					}
					p := Generate(o)
					// A private xtables lock: legacy's /run/xtables.lock is
					// machine-wide, and anything else may hold it.
					lock := "XTABLES_LOCKFILE=" + filepath.Join(t.TempDir(), "xtables.lock")
					r := ns.RunWith(netnstest.RunOpts{Stdin: strings.NewReader(p.Text), Env: []string{lock}}, prog+"-"+mode+"-restore", "--noflush", "--counters")
					if r.Code != 0 {
						t.Fatalf("restore: %s", r)
					}
					saved := ns.MustRun(prog + "-" + mode + "-save")
					if got := strings.Count(saved, "\n-A "); got != p.Rules {
						t.Errorf("saved %d rules, generated %d", got, p.Rules)
					}
				})
			}
		}
	}
}
