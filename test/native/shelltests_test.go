package native_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/internal/oracle"
)

// TestIptablesShellTests runs iptables' own shell tests (iptables/tests/
// shell/testcases of the 1.8.9 and 1.8.11 releases, fetched by
// scripts/fetch-iptables-tests.sh) through scripts/iptables-shell-tests.sh,
// once against the real iptables-nft 1.8.9 and once against the shim in
// native mode with no real binary reachable. Every test the real 1.8.9
// passes must pass natively, or be out of scope (it calls ebtables,
// arptables, iptables-xml or another program the shim is not); where
// 1.8.11's tests expect 1.8.11's behaviour, the real 1.8.9 fails them and
// so may the shim. The suites then run as on hosts of other versions (1.8.11's
// on a 1.8.11 host, both on a 1.8.7 host): against that real iptables-nft
// (scripts/fetch-iptables.sh) and the shim in its dialect, where every test
// the real one passes must pass natively.
func TestIptablesShellTests(t *testing.T) {
	netnstest.Require(t, "xtables-nft-multi", "nft", "unshare", "bash")
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	shim := netnstest.ShimBinary(t)
	for _, v := range []string{"1.8.9", "1.8.11"} {
		t.Run(v, func(t *testing.T) {
			cases := filepath.Join(oracle.CacheDir(), "iptables-tests-"+v, "testcases")
			if _, err := os.Stat(cases); err != nil {
				msg := "iptables " + v + "'s shell tests are not fetched (" + cases + " missing): run scripts/fetch-iptables-tests.sh " + v
				if netnstest.Required() {
					t.Fatal(msg)
				}
				t.Skip(msg)
			}
			real, err := netnstest.LookBinary("xtables-nft-multi")
			if err != nil {
				t.Fatal(err)
			}
			compareShellTests(t, v, "1.8.9", runShellTests(t, root, shim, cases, "XT_MULTI="+real), runShellTests(t, root, shim, cases))
			// The suite on hosts of other versions: the newest suite
			// on its own version's host, both on a 1.8.7 host.
			hosts := []string{"1.8.7"}
			if v == "1.8.11" {
				hosts = append(hosts, "1.8.11")
			}
			for _, host := range hosts {
				multi, err := oracle.Require(t, host).WriteMulti(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				compareShellTests(t, v, host, runShellTests(t, root, shim, cases, "XT_MULTI="+multi), runShellTests(t, root, shim, cases, "SHIM_DIALECT="+host))
			}
		})
	}
}

// compareShellTests fails every test of version v's suite the real
// iptables-nft of version host passed and the shim, in that host's
// dialect, did not (unless out of scope or a known gap).
func compareShellTests(t *testing.T, v, host string, want, got shellRun) {
	t.Helper()
	t.Logf("iptables %s shell tests on a %s host: real iptables-nft %s %s; shim native %s", v, host, host, want.summary, got.summary)
	for name, ok := range want.passed {
		switch {
		case !ok || got.passed[name] || got.outOfScope[name]:
		case shellTestGaps[v+"/"+name] != "":
			t.Logf("known gap: %s fails natively: %s", name, shellTestGaps[v+"/"+name])
		default:
			t.Errorf("%s passes with iptables-nft %s but fails natively:\n%s", name, host, got.output[name])
		}
	}
	for name := range shellTestGaps {
		if rest, ok := strings.CutPrefix(name, v+"/"); ok && got.passed[rest] {
			t.Logf("%s passes natively now: take it off shellTestGaps", name)
		}
	}
}

// shellTestGaps are the shell tests ("VERSION/TEST") iptables-nft 1.8.9
// passes and the native backend does not yet, with the reason.
var shellTestGaps = map[string]string{}

// shellRun is one run of scripts/iptables-shell-tests.sh.
type shellRun struct {
	passed, outOfScope map[string]bool
	output             map[string]string
	summary            string
}

var (
	shellFail  = regexp.MustCompile(`^=== FAIL (\S+)`)
	shellScope = regexp.MustCompile(`^=== OUT OF SCOPE (\S+)`)
)

func runShellTests(t *testing.T, root, shim, cases string, env ...string) shellRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "scripts", "iptables-shell-tests.sh"), shim, cases)
	cmd.Env = append(os.Environ(), env...)
	out, _ := cmd.CombinedOutput() // exit 1 when any test fails
	r := shellRun{passed: map[string]bool{}, outOfScope: map[string]bool{}, output: map[string]string{}}
	entries, err := filepath.Glob(filepath.Join(cases, "*", "*_[0-9]"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name, _ := filepath.Rel(cases, e)
		if !strings.HasPrefix(name, "arptables/") && !strings.HasPrefix(name, "ebtables/") {
			r.passed[name] = true
		}
	}
	current := ""
	for _, l := range strings.Split(string(out), "\n") {
		switch {
		case shellFail.MatchString(l):
			current = shellFail.FindStringSubmatch(l)[1]
			r.passed[current] = false
		case shellScope.MatchString(l):
			current = ""
			name := shellScope.FindStringSubmatch(l)[1]
			r.passed[name], r.outOfScope[name] = false, true
		case strings.HasPrefix(l, "passed "):
			r.summary = l
			current = ""
		case strings.HasPrefix(l, "out of scope "):
			r.summary += "; " + l
		case current != "":
			r.output[current] += l + "\n"
		}
	}
	if r.summary == "" {
		t.Fatalf("scripts/iptables-shell-tests.sh printed no summary:\n%s", out)
	}
	return r
}
