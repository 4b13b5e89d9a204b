package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// goIptablesPkg is the package whose own tests TestGoIptablesOwnSuite runs,
// at the version go.sum pins.
const goIptablesPkg = "github.com/coreos/go-iptables/iptables"

// TestGoIptablesOwnSuite runs go-iptables' own test suite (its
// iptables_test.go, compiled from the module cache with `go test -c`,
// nothing copied) against the shim in native nf_tables mode, with the shim
// first on PATH as the six iptables names and no real iptables binary
// reachable by the shim, in a fresh network namespace; and once against the
// real iptables-nft in another. Every test that passes against the real
// tool must pass against the shim. (The suite's TestLegacyDetection runs
// iptables-legacy and iptables-nft by those names, which are the real
// binaries in both runs: the shim does not answer to them.)
func TestGoIptablesOwnSuite(t *testing.T) {
	netnstest.Require(t, "xtables-nft-multi", "iptables-nft", "iptables-legacy", "ip6tables-nft", "ip6tables-legacy")
	suite := filepath.Join(t.TempDir(), "go-iptables.test")
	gotool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gotool); err != nil {
		gotool = "go"
	}
	build := exec.Command(gotool, "test", "-c", "-o", suite, goIptablesPkg)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go test -c %s: %v\n%s", goIptablesPkg, err, out)
	}
	shimDir := netnstest.ShimDir(t)
	const sysPath = "/usr/sbin:/usr/bin:/sbin:/bin"
	run := func(env []string) (map[string]string, string) {
		ns := netnstest.New(t)
		r := ns.RunWith(netnstest.RunOpts{Env: env, Timeout: 5 * time.Minute}, suite, "-test.v", "-test.count=1")
		return suiteOutcomes(r.Stdout), r.String()
	}
	shimEnv := []string{
		"PATH=" + shimDir + ":" + sysPath,
		"IPTABLES_SHIM_MODE=nft",
		"IPTABLES_SHIM_NFT=native",
		"IPTABLES_SHIM_GUARD=false",
		"IPTABLES_SHIM_CONFIG=/nonexistent/iptables-shim.conf",
		"IPTABLES_SHIM_CACHE_DIR=" + t.TempDir(),
		"IPTABLES_SHIM_BACKEND_DIRS=" + t.TempDir(),
		"IPTABLES_SHIM_LOG=",
	}
	got, gotOut := run(shimEnv)
	want, wantOut := run([]string{"PATH=" + sysPath})
	if len(want) == 0 {
		t.Fatalf("the suite reported no tests against the real iptables:\n%s", wantOut)
	}
	t.Logf("go-iptables suite: shim native %s; real iptables-nft %s", countOutcomes(got), countOutcomes(want))
	var names []string
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if want[n] == "PASS" && got[n] != "PASS" {
			t.Errorf("%s passes against the real iptables-nft but is %q against the shim", n, got[n])
		}
	}
	if t.Failed() {
		t.Logf("the suite against the shim:\n%s", gotOut)
	}
}

// suiteResult matches a test's verdict line in `go test -v` output,
// subtests indented.
var suiteResult = regexp.MustCompile(`(?m)^\s*--- (PASS|FAIL|SKIP): (\S+)`)

// suiteOutcomes maps each test and subtest name to PASS, FAIL or SKIP.
func suiteOutcomes(out string) map[string]string {
	m := map[string]string{}
	for _, g := range suiteResult.FindAllStringSubmatch(out, -1) {
		m[g[2]] = g[1]
	}
	return m
}

// countOutcomes says how many tests (top level, then with subtests)
// passed, failed and were skipped.
func countOutcomes(m map[string]string) string {
	var top, all [3]int
	idx := map[string]int{"PASS": 0, "FAIL": 1, "SKIP": 2}
	for n, v := range m {
		all[idx[v]]++
		if !strings.Contains(n, "/") {
			top[idx[v]]++
		}
	}
	return fmt.Sprintf("%d passed, %d failed, %d skipped of %d tests (%d of %d with subtests)",
		top[0], top[1], top[2], top[0]+top[1]+top[2], all[0], all[0]+all[1]+all[2])
}
