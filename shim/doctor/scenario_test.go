package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/detect"
	"github.com/iptables-shim/iptables-shim/detect/helperproc"
	xtfake "github.com/iptables-shim/iptables-shim/detect/xtables/fake"
	"github.com/iptables-shim/iptables-shim/internal/kubefixture"
	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	nftfake "github.com/iptables-shim/iptables-shim/internal/nfnl/fake"
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/native"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// proxySetupCalls are what the 1.13 IPVS proxier runs before its restore
// (the -N calls may fail: the chain may exist).
func proxySetupCalls() [][]string {
	var calls [][]string
	for _, c := range []string{"KUBE-SERVICES", "KUBE-POSTROUTING", "KUBE-FIREWALL", "KUBE-NODE-PORT", "KUBE-LOAD-BALANCER", "KUBE-MARK-MASQ"} {
		calls = append(calls, []string{"-w", "5", "-N", c, "-t", "nat"})
	}
	return append(calls,
		[]string{"-w", "5", "-N", "KUBE-FORWARD", "-t", "filter"},
		[]string{"-w", "5", "-I", "OUTPUT", "-t", "nat", "-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"},
		[]string{"-w", "5", "-I", "POSTROUTING", "-t", "nat", "-m", "comment", "--comment", "kubernetes postrouting rules", "-j", "KUBE-POSTROUTING"},
		[]string{"-w", "5", "-I", "FORWARD", "-t", "filter", "-m", "comment", "--comment", "kubernetes forwarding rules", "-j", "KUBE-FORWARD"})
}

// proxySetup runs proxySetupCalls with tool in ns.
func proxySetup(ns *netnstest.NS, tool string) {
	for _, args := range proxySetupCalls() {
		if args[2] == "-N" {
			ns.Run(tool, args...)
		} else {
			ns.MustRun(tool, args...)
		}
	}
}

func runDoctorIn(t *testing.T, ns *netnstest.NS, env ...string) (Report, int) {
	t.Helper()
	r := helperproc.Run(t, ns, "doctor", append([]string{"T_CACHE=" + t.TempDir()}, env...)...)
	if r.Code == 2 {
		t.Fatalf("doctor helper: %s", r)
	}
	var rep Report
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatalf("decoding report: %v\n%s", err, r.Stdout)
	}
	return rep, r.Code
}

// TestDoctorReproducedIncident: kubelet's chains in nf_tables, kube-proxy's
// in legacy, its restore failed on the missing KUBE-MARK-DROP: a problem,
// with the dangling reference, the split and the failed restore named. The
// fake half leaves the same state in the fakes (the failed restore changed
// nothing; its message, as iptables-legacy-restore 1.8.9 prints it, is in
// the call log) and runs the doctor on them.
func TestDoctorReproducedIncident(t *testing.T) {
	t.Run("kernel", func(t *testing.T) {
		netnstest.Require(t, "iptables-nft-restore", "iptables-legacy", "iptables-legacy-restore")
		ns := netnstest.New(t)
		ns.MustRunStdin(kubefixture.Kubelet113, "iptables-nft-restore", "--noflush")
		proxySetup(ns, "iptables-legacy")
		res := ns.RunStdin(kubefixture.ProxyIPVS113, "iptables-legacy-restore", "--noflush", "--counters")
		if res.Code != 2 || !strings.Contains(res.Stderr, "KUBE-MARK-DROP") {
			t.Fatalf("the incident did not reproduce: %s", res)
		}
		rep, code := runDoctorIn(t, ns, "T_LOG="+failedRestoreLog(t, res.Stderr))
		checkIncident(t, rep, code)
	})
	t.Run("fake", func(t *testing.T) {
		f := newFakeHost(t)
		f.nftRun(kubefixture.Kubelet113, backend.Restore, "--noflush")
		for _, args := range proxySetupCalls() {
			if err := f.legacy.Run(syntax.IPv4, args...); err != nil && args[2] != "-N" {
				t.Fatal(err)
			}
		}
		log := failedRestoreLog(t, "iptables-restore v1.8.9 (legacy): Couldn't load target `KUBE-MARK-DROP':No such file or directory\n\nError occurred at line: 9")
		rep := f.doctor(log)
		checkIncident(t, rep, ExitCode(rep))
	})
}

// failedRestoreLog is a call log holding one failed restore's stderr.
func failedRestoreLog(t *testing.T, stderr string) string {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "calls.log")
	if err := os.WriteFile(logPath, []byte("event=call prog=iptables-restore exit=2 stderr=\""+strings.TrimSpace(stderr)+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return logPath
}

func checkIncident(t *testing.T, rep Report, code int) {
	t.Helper()
	if code != 1 || rep.Verdict != Problem {
		t.Fatalf("exit %d, verdict %s; want 1, problem", code, rep.Verdict)
	}
	var found bool
	for _, d := range rep.Dangling {
		if d.Backend == backend.Legacy && d.Family == "ipv4" && d.Table == "nat" && d.Chain == "KUBE-MARK-DROP" && d.ExistsIn == backend.NFT {
			found = true
		}
	}
	if !found {
		t.Errorf("no dangling legacy KUBE-MARK-DROP reference: %+v", rep.Dangling)
	}
	if rep.Split == nil || modes(rep.Split.Kubelet) != "nf_tables" || modes(rep.Split.KubeProxy) != "legacy" {
		t.Errorf("split %+v, want kubelet nf_tables, kube-proxy legacy", rep.Split)
	}
	if len(rep.FailedRestores) != 1 || rep.FailedRestores[0].Chain != "KUBE-MARK-DROP" {
		t.Errorf("failed restores from the log: %+v", rep.FailedRestores)
	}
	if rep.Decision.Mode != backend.NFT {
		t.Errorf("decision %s (%s), want nft", rep.Decision.Mode, rep.Decision.Detail)
	}
	if !strings.Contains(rep.Action, "nf_tables") {
		t.Errorf("action does not name the right backend: %s", rep.Action)
	}
}

// fakeHost is an in-memory nf_tables and x_tables for the doctor's fake
// halves: calls go to the native backend on the one and to the fake's own
// commands on the other, and the doctor reads both through detection's
// probers.
type fakeHost struct {
	t      *testing.T
	nft    *nftfake.Kernel
	legacy *xtfake.Kernel
}

func newFakeHost(t *testing.T) *fakeHost {
	t.Setenv("XTABLES_LOCKFILE", filepath.Join(t.TempDir(), "xtables.lock"))
	return &fakeHost{t: t, nft: nftfake.New(), legacy: xtfake.New()}
}

// nftRun runs one iptables-nft call on the fake nf_tables; a failing
// restore fails the test (a single command may fail, as proxySetup's -N).
func (f *fakeHost) nftRun(stdin string, tool backend.Tool, args ...string) {
	f.t.Helper()
	var errb bytes.Buffer
	c := &backend.Call{Tool: tool, Family: syntax.IPv4, Args: args, Stdin: strings.NewReader(stdin), Stdout: io.Discard, Stderr: &errb}
	if err := native.New(native.Options{Open: f.nft.Opener()}).Run(context.Background(), c); err != nil && tool == backend.Restore {
		f.t.Fatalf("%v: %v %s", args, err, errb.String())
	}
}

// doctor runs the doctor on the fakes, with the call log at log ("" none).
func (f *fakeHost) doctor(log string) Report {
	return Run(context.Background(), Options{
		Detect: detect.Options{CacheDir: f.t.TempDir(), NoHostHints: true, Wait: -1,
			Probers: []detect.Prober{detect.NFTProber{Open: f.nft.Opener()}, detect.LegacyProber{Kernel: f.legacy}}},
		CallLog: log,
	})
}

func TestDoctorHealthyHost(t *testing.T) {
	t.Run("kernel", func(t *testing.T) {
		netnstest.Require(t, "iptables-nft", "iptables-nft-restore")
		ns := netnstest.New(t)
		ns.MustRunStdin(kubefixture.Kubelet113, "iptables-nft-restore", "--noflush")
		proxySetup(ns, "iptables-nft")
		ns.MustRunStdin(kubefixture.ProxyIPVS113, "iptables-nft-restore", "--noflush", "--counters")
		rep, code := runDoctorIn(t, ns)
		checkHealthy(t, rep, code)
	})
	t.Run("fake", func(t *testing.T) {
		// The same calls through the native backend on an in-memory
		// nf_tables, and the doctor reading it there.
		f := newFakeHost(t)
		f.nftRun(kubefixture.Kubelet113, backend.Restore, "--noflush")
		for _, args := range proxySetupCalls() {
			f.nftRun("", backend.Iptables, args...)
		}
		f.nftRun(kubefixture.ProxyIPVS113, backend.Restore, "--noflush", "--counters")
		rep := f.doctor("")
		checkHealthy(t, rep, ExitCode(rep))
	})
}

func checkHealthy(t *testing.T, rep Report, code int) {
	t.Helper()
	if code != 0 || rep.Verdict != Healthy {
		t.Fatalf("exit %d, verdict %s, problems %+v, unchecked %+v", code, rep.Verdict, rep.Problems, rep.Unchecked)
	}
	nft := rep.Backends[0].Families[0]
	if rep.Backends[0].Mode != backend.NFT || len(nft.KubeChains) == 0 || nft.Rules == 0 {
		t.Errorf("nf_tables ipv4 summary %+v", nft)
	}
}

// TestDoctorShowsGuardCreations runs the real shim: kube-proxy's restore
// through it creates KUBE-MARK-DROP (the guard), which records the chain in
// the created-chains file and the call log; the shim's doctor, in the same
// namespace with the same settings, lists it as information.
func TestDoctorShowsGuardCreations(t *testing.T) {
	netnstest.Require(t, "iptables-nft", "xtables-nft-multi")
	ns := netnstest.New(t)
	shims := netnstest.ShimDir(t)
	logPath := filepath.Join(t.TempDir(), "calls.log")
	env := []string{
		"IPTABLES_SHIM_CONFIG=" + filepath.Join(t.TempDir(), "absent"),
		"IPTABLES_SHIM_MODE=nft",
		"IPTABLES_SHIM_CACHE_DIR=" + t.TempDir(),
		"IPTABLES_SHIM_LOG=" + logPath,
	}
	proxySetup(ns, "iptables-nft")
	res := ns.RunWith(netnstest.RunOpts{Env: env, Stdin: strings.NewReader(kubefixture.ProxyIPVS113)},
		filepath.Join(shims, "iptables-restore"), "--noflush", "--counters")
	if res.Code != 0 {
		t.Fatalf("restore through the shim: %s", res)
	}

	doc := ns.RunWith(netnstest.RunOpts{Env: env}, filepath.Join(shims, "iptables-shim"), "doctor", "--json")
	var rep Report
	if err := json.Unmarshal([]byte(doc.Stdout), &rep); err != nil {
		t.Fatalf("decoding report: %v\n%s", err, doc)
	}
	want := CreatedChain{Mode: backend.NFT, Family: "ipv4", Table: "nat", Chain: "KUBE-MARK-DROP",
		Why: fmt.Sprintf("the payload at line %d jumps to it", kubefixture.ProxyIPVS113MarkDropLine), Exists: true}
	if len(rep.Created) != 1 || rep.Created[0] != want {
		t.Errorf("created chains %+v, want [%+v]", rep.Created, want)
	}
	if doc.Code != 0 || rep.Verdict != Healthy {
		t.Errorf("exit %d, verdict %s, problems %+v: a chain the guard created is not a problem", doc.Code, rep.Verdict, rep.Problems)
	}

	human := ns.RunWith(netnstest.RunOpts{Env: env}, filepath.Join(shims, "iptables-shim"), "doctor")
	line := regexp.MustCompile(fmt.Sprintf(`(?m)^created by the shim: +KUBE-MARK-DROP in nf_tables ipv4 nat \(the payload at line %d jumps to it\)$`,
		kubefixture.ProxyIPVS113MarkDropLine))
	if !line.MatchString(human.Stdout) {
		t.Errorf("human report lacks %s:\n%s", line, human.Stdout)
	}
}

// TestDoctorLegacyHostWithoutLegacyBinary runs the shim's doctor with
// backend-dirs naming a directory that holds no iptables: on a legacy host
// that is a problem, with the action naming the setting and the directory.
func TestDoctorLegacyHostWithoutLegacyBinary(t *testing.T) {
	netnstest.Require(t)
	ns := netnstest.New(t)
	empty := t.TempDir()
	doc := ns.RunWith(netnstest.RunOpts{Env: []string{
		"IPTABLES_SHIM_CONFIG=" + filepath.Join(t.TempDir(), "absent"),
		"IPTABLES_SHIM_MODE=legacy",
		"IPTABLES_SHIM_CACHE_DIR=" + t.TempDir(),
		"IPTABLES_SHIM_BACKEND_DIRS=" + empty,
	}}, filepath.Join(netnstest.ShimDir(t), "iptables-shim"), "doctor", "--json")
	var rep Report
	if err := json.Unmarshal([]byte(doc.Stdout), &rep); err != nil {
		t.Fatalf("decoding report: %v\n%s", err, doc)
	}
	if doc.Code != 1 || len(rep.Problems) != 1 || rep.Problems[0].Kind != KindNoBackend {
		t.Fatalf("exit %d, problems %+v", doc.Code, rep.Problems)
	}
	if !strings.Contains(rep.Action, "legacy iptables binaries") || !strings.Contains(rep.Action, empty) {
		t.Errorf("action: %s", rep.Action)
	}
	if len(rep.Binaries.Image) != 0 {
		t.Errorf("image binaries outside backend-dirs: %+v", rep.Binaries.Image)
	}
}
