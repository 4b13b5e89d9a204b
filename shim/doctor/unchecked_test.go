package doctor

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iptables-shim/iptables-shim/detect"
	"github.com/iptables-shim/iptables-shim/detect/ruleset"
	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"golang.org/x/sys/unix"
)

// deniedInventory is what an unprivileged doctor reads: nothing, for want
// of CAP_NET_ADMIN and CAP_NET_RAW.
func deniedInventory() Inventory {
	nftErr := fmt.Errorf("listing ip tables: %w", unix.EPERM)
	legErr := fmt.Errorf("reading /proc/net/ip_tables_names: %w", unix.EACCES)
	return Inventory{Backends: []BackendTables{
		{Mode: backend.NFT, Families: []FamilyTables{{Family: "ipv4", Err: nftErr}, {Family: "ipv6", Err: nftErr}}},
		{Mode: backend.Legacy, Families: []FamilyTables{{Family: "ipv4", Err: legErr}, {Family: "ipv6", Err: legErr}}},
	}}
}

func TestCouldNotReadIsUnknownNotHealthy(t *testing.T) {
	r := Report{Decision: detect.Decision{Mode: backend.NFT}}
	analyze(&r, deniedInventory(), nil)
	if r.Verdict != Unknown || ExitCode(r) != ExitUnknown || len(r.Problems) != 0 {
		t.Fatalf("verdict %s, exit %d, problems %+v; want unknown, 3, none", r.Verdict, ExitCode(r), r.Problems)
	}
	if len(r.Unchecked) != 4 {
		t.Fatalf("unchecked %+v, want the four backend-family reads", r.Unchecked)
	}
	for _, u := range r.Unchecked {
		if !strings.HasPrefix(u.Reason, "run as root") {
			t.Errorf("%s: reason %q does not say to run as root", u.Check, u.Reason)
		}
	}
	if !strings.Contains(r.Action, "run the doctor as root") {
		t.Errorf("action: %s", r.Action)
	}
	var b strings.Builder
	Render(&b, r, false)
	for _, want := range []string{"verdict:      UNKNOWN\n", "not checked:  nf_tables ipv4: run as root"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("rendering lacks %q:\n%s", want, b.String())
		}
	}

	// A problem found despite what could not be read is still a problem.
	inv := deniedInventory()
	inv.Backends[0].Families[0] = FamilyTables{Family: "ipv4", Tables: kubeletNFT()}
	inv.Backends[1].Families[0] = FamilyTables{Family: "ipv4", Tables: proxyTables()}
	r = Report{Decision: detect.Decision{Mode: backend.NFT}}
	analyze(&r, inv, nil)
	if r.Verdict != Problem || ExitCode(r) != ExitProblem || len(r.Unchecked) != 2 {
		t.Errorf("verdict %s, exit %d, unchecked %d; want problem, 1, 2", r.Verdict, ExitCode(r), len(r.Unchecked))
	}

	// An absent subsystem is a fact, not a check that could not run.
	absent := inventory(kubeletNFT(), nil)
	absent.Backends[1].Families[1] = FamilyTables{Family: "ipv6", Err: fmt.Errorf("x_tables unavailable: not loaded"), Unavailable: true}
	r = Report{Decision: detect.Decision{Mode: backend.NFT}}
	analyze(&r, absent, nil)
	if r.Verdict != Healthy || ExitCode(r) != ExitHealthy {
		t.Errorf("verdict %s, unchecked %+v", r.Verdict, r.Unchecked)
	}
}

func proxyTables() []ruleset.Table {
	return []ruleset.Table{tbl("nat", "KUBE-SERVICES", "KUBE-SVC-X:x>KUBE-MARK-MASQ", "KUBE-MARK-MASQ")}
}

func TestGuardOffIsAProblem(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	r := Report{Decision: detect.Decision{Mode: backend.NFT}, GuardOff: &detect.GuardOffRecord{Count: 2, First: at,
		Last: detect.GuardOff{Program: "iptables-restore", Mode: backend.NFT, Error: "netlink receive: timeout", At: at}}}
	analyze(&r, inventory(kubeletNFT(), nil), nil)
	if r.Verdict != Problem || len(r.Problems) != 1 || r.Problems[0].Kind != KindGuardOff {
		t.Fatalf("verdict %s, problems %+v", r.Verdict, r.Problems)
	}
	for _, want := range []string{"2 call(s)", "iptables-restore", "netlink receive: timeout", "2026-12-01T10:00:00Z"} {
		if !strings.Contains(r.Problems[0].Summary, want) {
			t.Errorf("summary lacks %q: %s", want, r.Problems[0].Summary)
		}
	}
	if !strings.Contains(r.Action, "guard-disabled") {
		t.Errorf("action: %s", r.Action)
	}
}

// publicShim copies the shim where an unprivileged user can run it.
func publicShim(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "iptables-shim-public-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	data, err := os.ReadFile(netnstest.ShimBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "iptables-shim")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestDoctorWithoutPrivileges runs the real shim's doctor as nobody, in a
// namespace where kubelet's chains sit in nf_tables and kube-proxy's in
// legacy (a problem root would see). Before, it said HEALTHY (exit 0,
// "problems": []) having read nothing; now UNKNOWN, exit 3, with the reason.
func TestDoctorWithoutPrivileges(t *testing.T) {
	netnstest.Require(t, "setpriv", "unshare", "iptables-nft", "iptables-legacy")
	ns := netnstest.New(t)
	ns.MustRun("iptables-nft", "-t", "nat", "-N", "KUBE-MARK-DROP")
	ns.MustRun("iptables-legacy", "-t", "nat", "-N", "KUBE-SERVICES")
	shim := publicShim(t)
	env := []string{
		"IPTABLES_SHIM_CONFIG=" + filepath.Join(t.TempDir(), "absent"),
		"IPTABLES_SHIM_CACHE_DIR=" + filepath.Join(filepath.Dir(shim), "cache"),
		"IPTABLES_SHIM_DETECT_WAIT=0s",
	}
	for _, who := range []struct {
		name string
		wrap []string
	}{
		{"nobody", []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"}},
		{"user namespace", []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "unshare", "-U"}},
	} {
		t.Run(who.name, func(t *testing.T) {
			res := ns.RunWith(netnstest.RunOpts{Env: env}, who.wrap[0], append(who.wrap[1:], shim, "doctor", "--json")...)
			var rep Report
			if err := json.Unmarshal([]byte(res.Stdout), &rep); err != nil {
				t.Fatalf("decoding report: %v\n%s", err, res)
			}
			if res.Code != ExitUnknown || rep.Verdict != Unknown {
				t.Fatalf("exit %d, verdict %q, problems %+v; want exit 3, unknown", res.Code, rep.Verdict, rep.Problems)
			}
			if len(rep.Unchecked) < 4 {
				t.Errorf("unchecked %+v, want every backend and family", rep.Unchecked)
			}
			for _, u := range rep.Unchecked {
				if !strings.HasPrefix(u.Reason, "run as root") {
					t.Errorf("%s: %q", u.Check, u.Reason)
				}
			}
			text := ns.RunWith(netnstest.RunOpts{Env: env}, who.wrap[0], append(who.wrap[1:], shim, "doctor")...)
			if text.Code != ExitUnknown || !strings.Contains(text.Stdout, "UNKNOWN") || !strings.Contains(text.Stdout, "run as root") {
				t.Errorf("text report: %s", text)
			}
		})
	}
	// As root the same namespace is a problem.
	res := ns.RunWith(netnstest.RunOpts{Env: env}, shim, "doctor", "--json")
	if res.Code != ExitProblem {
		t.Errorf("as root: %s", res)
	}
}

// TestDoctorInAFreshNamespaceListsNoInheritedChains: the guard creates
// KUBE-MARK-DROP in one namespace, which then dies; doctor in new
// namespaces (one of them likely handed the dead one's inode) lists no
// chain "created by the shim".
func TestDoctorInAFreshNamespaceListsNoInheritedChains(t *testing.T) {
	netnstest.Require(t, "unshare", "iptables-nft", "xtables-nft-multi")
	ns := netnstest.New(t)
	shims := netnstest.ShimDir(t)
	env := []string{
		"IPTABLES_SHIM_CONFIG=" + filepath.Join(t.TempDir(), "absent"),
		"IPTABLES_SHIM_MODE=nft",
		"IPTABLES_SHIM_CACHE_DIR=" + t.TempDir(),
	}
	type state struct {
		Inode uint64
		Rep   Report
	}
	doctorIn := func(script string) state {
		t.Helper()
		res := ns.RunWith(netnstest.RunOpts{Env: append(env, "SHIMS="+shims)}, "unshare", "--net", "sh", "-ec",
			script+`
stat -L -c %i /proc/self/ns/net
"$SHIMS/iptables-shim" doctor --json || true`)
		if res.Code != 0 {
			t.Fatalf("%s", res)
		}
		inode, rest, _ := strings.Cut(res.Stdout, "\n")
		var st state
		fmt.Sscan(inode, &st.Inode)
		if err := json.Unmarshal([]byte(rest), &st.Rep); err != nil {
			t.Fatalf("decoding report: %v\n%s", err, res)
		}
		return st
	}
	first := doctorIn(`"$SHIMS/iptables" -t nat -N KUBE-SERVICES
"$SHIMS/iptables" -t nat -A KUBE-SERVICES -j KUBE-MARK-DROP`)
	if len(first.Rep.Created) != 1 || first.Rep.Created[0].Chain != "KUBE-MARK-DROP" {
		t.Fatalf("the guard's creation is not listed where it happened: %+v", first.Rep.Created)
	}
	reused := false
	for i := 0; i < 8 && !reused; i++ {
		st := doctorIn("")
		reused = st.Inode == first.Inode
		if len(st.Rep.Created) != 0 {
			t.Fatalf("a fresh namespace (inode reused: %v) lists chains created by the shim: %+v", reused, st.Rep.Created)
		}
		if !reused {
			time.Sleep(time.Second) // a namespace's inode is freed once the kernel has torn it down
		}
	}
	t.Logf("a fresh namespace got the dead one's inode %d: %v", first.Inode, reused)
}
