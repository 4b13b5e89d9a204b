package kubeproxy_test

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/test/kubeproxy/harness"
	"github.com/iptables-shim/iptables-shim/test/kubeproxy/proxyrun"
)

func TestMain(m *testing.M) {
	harness.Child()
	code := m.Run()
	printSummary()
	os.Exit(code)
}

var (
	summaryMu sync.Mutex
	summary   []string
)

func record(format string, args ...any) {
	summaryMu.Lock()
	defer summaryMu.Unlock()
	summary = append(summary, fmt.Sprintf(format, args...))
}

func printSummary() {
	if len(summary) == 0 {
		return
	}
	fmt.Printf("\nkube-proxy 1.37.2 iptables proxier through the shim:\n%-26s %-7s %-12s %-6s %s\n", "HOST", "NFACCT", "CANDIDATE", "SYNCS", "RESULT")
	for _, l := range summary {
		fmt.Println(l)
	}
}

// TestKubeProxy runs the proxier on each host kind, with and without
// nfacct, with the real binaries and through the shim in exec and native
// mode: every sync must succeed and leave the real binaries' ruleset.
func TestKubeProxy(t *testing.T) {
	netnstest.Require(t, harness.Tools...)
	env, err := harness.NewEnv(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range harness.Hosts {
		for _, nfacct := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/nfacct=%v", h.Name, nfacct), func(t *testing.T) {
				runHost(t, env, h, nfacct, harness.ShimExec, harness.ShimNative)
			})
		}
	}
}

// TestKubeProxyVersionSkew runs the proxier on nodes whose iptables-nft is
// 1.8.11 or 1.8.7, with that version's binaries (the oracle) and through
// the shim, natively and as shipped (nft=auto, the machine's 1.8.9
// reachable as the image's binary): the shim must leave what the host's
// own version leaves, expression for expression. (Exec mode runs the
// image's 1.8.9, which writes 1.8.9's encoding whatever the host's: that
// is what nft=exec asks for.)
func TestKubeProxyVersionSkew(t *testing.T) {
	netnstest.Require(t, harness.Tools...)
	env, err := harness.NewEnv(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range harness.SkewHosts {
		t.Run(h.Name, func(t *testing.T) {
			if env.RealAt[h.Version] == "" {
				msg := "iptables-nft " + h.Version + " is not fetched: run scripts/fetch-iptables.sh " + h.Version
				if netnstest.Required() {
					t.Fatal(msg)
				}
				t.Skip(msg)
			}
			runHost(t, env, h, false, harness.ShimNative, harness.ShimAuto)
		})
	}
}

func runHost(t *testing.T, env *harness.Env, h harness.Host, nfacct bool, candidates ...harness.Candidate) {
	plan := proxyrun.Plan{NFAcct: nfacct}
	oracle, err := env.Run(h, harness.Real, plan, harness.RunOpts{})
	if err != nil {
		t.Fatalf("real binaries: %v\n%s", err, tail(oracle))
	}
	if !checkRun(t, h, oracle) {
		t.Fatalf("the real binaries do not give a usable reference")
	}
	record("%-26s %-7v %-12s %-6s %s", h.Name, nfacct, "real", syncCount(oracle), rulesetSize(oracle))
	for _, c := range candidates {
		got, err := env.Run(h, c, plan, harness.RunOpts{CallLog: true})
		if err != nil {
			t.Errorf("%s: %v\n%s", c.Name, err, tail(got))
			record("%-26s %-7v %-12s %-6s %s", h.Name, nfacct, c.Name, "-", "FAIL: "+err.Error())
			continue
		}
		ok := checkRun(t, h, got)
		diffs := harness.Compare(oracle, got)
		for _, d := range got.ReadDiffs {
			diffs = append(diffs, "read: "+d)
		}
		for i, d := range diffs {
			if i == 20 {
				t.Errorf("%s: ... %d more differences", c.Name, len(diffs)-i)
				break
			}
			t.Errorf("%s: %s", c.Name, d)
		}
		if !ok || len(diffs) > 0 {
			if got.CallLog != "" {
				t.Logf("%s call log (last lines):\n%s", c.Name, lastLines(got.CallLog, 40))
			}
		}
		res := fmt.Sprintf("same ruleset as the real binaries; %d reads identical", got.ReadsCompared)
		if len(diffs) > 0 {
			res = fmt.Sprintf("FAIL: %d differences", len(diffs))
		}
		record("%-26s %-7v %-12s %-6s %s", h.Name, nfacct, c.Name, syncCount(got), res)
	}
}

// checkRun checks that every sync succeeded as the step asked, and that
// nfacct rules are there exactly when the kernel counters are used.
func checkRun(t *testing.T, h harness.Host, o *harness.Outcome) bool {
	t.Helper()
	ok := true
	for _, f := range o.Result.Failures() {
		t.Errorf("%s: %s", o.Candidate, f)
		ok = false
	}
	for _, e := range o.Result.Other {
		t.Logf("%s: logged outside a sync: %s", o.Candidate, e)
	}
	for fam, counters := range o.Result.NFAcct {
		if o.Plan.NFAcct && !counters["runner"] {
			if netnstest.Required() {
				t.Errorf("%s: %s proxier has no nfacct runner: the kernel lacks nfnetlink_acct", o.Candidate, fam)
			} else {
				t.Skipf("the kernel lacks nfnetlink_acct: cannot run kube-proxy with nfacct")
			}
			ok = false
		}
	}
	var nfacctRules int
	for _, rs := range o.Save {
		for _, tb := range rs {
			for _, rules := range tb.Rules {
				for _, r := range rules {
					if strings.Contains(r, "-m nfacct") {
						nfacctRules++
					}
				}
			}
		}
	}
	if o.Plan.NFAcct && nfacctRules == 0 || !o.Plan.NFAcct && nfacctRules > 0 {
		t.Errorf("%s: %d nfacct rules with nfacct=%v", o.Candidate, nfacctRules, o.Plan.NFAcct)
		ok = false
	}
	if len(o.Leaked) > 0 {
		ok = false
	}
	return ok
}

func syncCount(o *harness.Outcome) string {
	n := 0
	for _, s := range o.Result.Syncs {
		if s.OK {
			n++
		}
	}
	return fmt.Sprintf("%d/%d", n, len(proxyrun.Steps)*2)
}

func rulesetSize(o *harness.Outcome) string {
	var parts []string
	for _, fam := range []string{"IPv4", "IPv6"} {
		c, r := o.Save[fam].Count()
		parts = append(parts, fmt.Sprintf("%s %d chains %d rules", fam, c, r))
	}
	sort.Strings(parts)
	return "reference: " + strings.Join(parts, ", ")
}

func tail(o *harness.Outcome) string {
	if o == nil {
		return ""
	}
	return "child stderr:\n" + lastLines(o.Stderr, 30) + "\ncall log:\n" + lastLines(o.CallLog, 30)
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
