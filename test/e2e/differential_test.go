package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/kubepayload"
	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// wait is the lock flags kube-proxy 1.18-1.33 passes (value and flag are
// separate argv tokens).
var wait = []string{"-w", "5", "-W", "100000"}

// step is one call as a caller makes it: program suffix ("" for iptables,
// "-save", "-restore"), arguments, and restore input.
type step struct {
	name  string
	tool  string
	args  []string
	stdin string
	// wantCode, when not -1, is the exit status the real tool must give
	// (a check on the test itself: the shim is compared with the real
	// tool, and this makes sure the case covers what it says).
	wantCode int
	// wantStderr is a substring the real tool's stderr must contain.
	wantStderr string
}

func cmd(name string, args ...string) step {
	return step{name: name, args: append(append([]string{}, wait...), args...), wantCode: -1}
}

func (s step) exits(code int, stderr string) step {
	s.wantCode, s.wantStderr = code, stderr
	return s
}

// addr is a host address of the family.
func addr(fam string, n int) string {
	if fam == "ip6tables" {
		return fmt.Sprintf("fd00::%x", n)
	}
	return fmt.Sprintf("10.0.0.%d", n)
}

func familyOf(fam string) syntax.Family {
	if fam == "ip6tables" {
		return syntax.IPv6
	}
	return syntax.IPv4
}

// kubeSteps are the calls kube-proxy and kubelet make (see
// kube-iptables-usage.md), with the error cases callers branch on.
func kubeSteps(fam string) []step {
	payload := kubepayload.Generate(kubepayload.Options{Services: 6, Family: familyOf(fam)}).Text
	comment := []string{"-m", "comment", "--comment", "kubernetes service portals"}
	jumpRule := append(append([]string{}, comment...), "-j", "TEST-SERVICES")
	markRule := []string{"-s", addr(fam, 1), "-j", "MARK", "--set-xmark", "0x4000/0x4000"}
	return []step{
		{name: "restore kube-proxy sync", tool: "-restore", args: append(append([]string{}, wait...), "--noflush", "--counters"), stdin: payload, wantCode: 0},
		{name: "save nat", tool: "-save", args: []string{"-t", "nat"}, wantCode: 0},
		{name: "save filter", tool: "-save", args: []string{"-t", "filter"}, wantCode: 0},
		{name: "save all", tool: "-save", wantCode: 0},
		{name: "restore -T nat noflush", tool: "-restore", args: append(append([]string{}, wait...), "-T", "nat", "--noflush", "--counters"),
			stdin: "*nat\n:KUBE-SEP-EXTRA - [0:0]\n-A KUBE-SEP-EXTRA -j KUBE-MARK-MASQ\nCOMMIT\n*filter\n:TEST-SKIPPED - [0:0]\nCOMMIT\n", wantCode: 0},
		{name: "restore -T filter flush", tool: "-restore", args: append(append([]string{}, wait...), "-T", "filter"),
			stdin: "*filter\n:KUBE-FORWARD - [0:0]\n-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\nCOMMIT\n", wantCode: 0},
		{name: "restore with counters", tool: "-restore", args: append(append([]string{}, wait...), "--noflush", "--counters"),
			stdin: "*filter\n:TEST-COUNTED - [0:0]\n[7:420] -A TEST-COUNTED -j ACCEPT\nCOMMIT\n", wantCode: 0},
		{name: "save with counters", tool: "-save", args: []string{"-c", "-t", "filter"}, wantCode: 0},
		cmd("-N new", "-N", "TEST-SERVICES", "-t", "nat").exits(0, ""),
		cmd("-N existing", "-N", "TEST-SERVICES", "-t", "nat").exits(1, "Chain already exists"),
		cmd("-C missing rule", append([]string{"-C", "PREROUTING", "-t", "nat"}, jumpRule...)...).exits(1, ""),
		cmd("-C in missing chain", "-C", "TEST-NOPE", "-t", "nat", "-j", "RETURN").exits(1, ""),
		cmd("-I jump", append([]string{"-I", "PREROUTING", "-t", "nat"}, jumpRule...)...).exits(0, ""),
		cmd("-C present rule", append([]string{"-C", "PREROUTING", "-t", "nat"}, jumpRule...)...).exits(0, ""),
		cmd("-A comment", "-A", "TEST-SERVICES", "-t", "nat", "-m", "comment", "--comment", "a comment with spaces", "-j", "RETURN").exits(0, ""),
		cmd("-L chain (names resolved)", "-L", "TEST-SERVICES", "-t", "nat").exits(0, ""),
		cmd("-I mark", append([]string{"-I", "TEST-SERVICES", "-t", "nat"}, markRule...)...).exits(0, ""),
		cmd("-S chain", "-S", "TEST-SERVICES", "-t", "nat").exits(0, ""),
		cmd("-S missing chain", "-S", "TEST-NOPE", "-t", "nat").exits(1, ""),
		cmd("-L -n chain", "-L", "TEST-SERVICES", "-t", "nat", "-n").exits(0, ""),
		cmd("-S table", "-S", "-t", "nat").exits(0, ""),
		cmd("-D mark", append([]string{"-D", "TEST-SERVICES", "-t", "nat"}, markRule...)...).exits(0, ""),
		cmd("-D mark again", append([]string{"-D", "TEST-SERVICES", "-t", "nat"}, markRule...)...).exits(1, ""),
		cmd("-X referenced chain", "-X", "TEST-SERVICES", "-t", "nat"), // legacy 1, nft 4 (EBUSY)
		cmd("-D jump", append([]string{"-D", "PREROUTING", "-t", "nat"}, jumpRule...)...).exits(0, ""),
		cmd("-F chain", "-F", "TEST-SERVICES", "-t", "nat").exits(0, ""),
		cmd("-X chain", "-X", "TEST-SERVICES", "-t", "nat").exits(0, ""),
		cmd("-X missing chain", "-X", "TEST-SERVICES", "-t", "nat").exits(1, ""),
		cmd("-F missing chain", "-F", "TEST-NOPE", "-t", "filter").exits(1, ""),
		cmd("bad option", "--bogus-option").exits(2, ""),
		cmd("missing -j argument", "-A", "KUBE-FORWARD", "-j").exits(2, ""),
		{name: "restore unknown target", tool: "-restore", args: append(append([]string{}, wait...), "--noflush", "--counters"),
			stdin: "*nat\n:TEST-X - [0:0]\n-A TEST-X -j TEST-NO-SUCH-TARGET\nCOMMIT\n", wantCode: 2, wantStderr: "Error occurred at line"},
		{name: "restore bad option", tool: "-restore", args: []string{"--noflush", "--bogus"}, stdin: "", wantCode: 1, wantStderr: "unrecognized option"},
		{name: "restore commit failure", tool: "-restore", args: append(append([]string{}, wait...), "--noflush"),
			stdin: "*nat\n-X KUBE-SVC-" + strings.Repeat("X", 16) + "\nCOMMIT\n", wantCode: -1},
		{name: "restore -X referenced", tool: "-restore", args: append(append([]string{}, wait...), "--noflush"),
			stdin: "*nat\n-X KUBE-MARK-MASQ\nCOMMIT\n", wantCode: -1}, // legacy 1, nft 4
		{name: "save after errors", tool: "-save", wantCode: 0},
		{name: "version", args: []string{"--version"}, wantCode: 0},
		{name: "restore version", tool: "-restore", args: []string{"--version"}, wantCode: 0},
	}
}

// TestDifferentialExec runs kubeSteps through the shim in one namespace and
// through the real binary in another, for each backend and family, and
// compares each step's output and the kernel state after it. With the call
// log off the shim replaces itself with the backend (execbackend.Exec);
// with it on, it runs the backend as a child and waits (Backend.Run), so
// both ways of running are covered.
func TestDifferentialExec(t *testing.T) {
	requireAll(t)
	shimDir := netnstest.ShimDir(t)
	for _, mode := range modes {
		real := realDir(t, mode)
		for _, fam := range families {
			for _, how := range []string{"exec", "fork"} {
				t.Run(mode+"/"+fam+"/"+how, func(t *testing.T) {
					env := shimEnv(mode)
					logFile := filepath.Join(t.TempDir(), "calls.log")
					if how == "fork" {
						env = append(env, "IPTABLES_SHIM_LOG="+logFile)
					}
					differential(t, shimDir, real, env, mode, fam)
					if how == "fork" {
						if st, err := os.Stat(logFile); err != nil || st.Size() == 0 {
							t.Errorf("the call log %s was not written (%v): the fork path was not taken", logFile, err)
						}
					}
				})
			}
		}
	}
}

func differential(t *testing.T, shimDir, real string, env []string, mode, fam string) {
	t.Helper()
	shimNS, realNS := netnstest.New(t), netnstest.New(t)
	shimEnv := append(append([]string{}, env...), privateLock(t)...)
	realEnv := privateLock(t)
	for _, s := range kubeSteps(fam) {
		prog := fam + s.tool
		got := runAsCaller(t, shimNS, shimDir, shimEnv, strings.NewReader(s.stdin), prog, s.args...)
		want := runAsCaller(t, realNS, real, realEnv, strings.NewReader(s.stdin), prog, s.args...)
		if s.wantCode >= 0 && want.Code != s.wantCode {
			t.Errorf("%s: the real tool exited %d, the case expects %d:\n%s", s.name, want.Code, s.wantCode, want)
		}
		if !strings.Contains(want.Stderr, s.wantStderr) {
			t.Errorf("%s: the real tool's stderr lacks %q:\n%s", s.name, s.wantStderr, want)
		}
		if s.tool == "-save" {
			got.Stdout, want.Stdout = netnstest.NormalizeSave(got.Stdout), netnstest.NormalizeSave(want.Stdout)
		}
		if got != want {
			t.Errorf("%s: %s %s\nshim:\n%s\nreal:\n%s", s.name, prog, strings.Join(s.args, " "), got, want)
		}
		if g, w := kernelState(shimNS, fam, mode), kernelState(realNS, fam, mode); g != w {
			t.Fatalf("%s: kernel state differs\nshim:\n%s\nreal:\n%s", s.name, g, w)
		}
	}
	if st := kernelState(shimNS, fam, mode); !strings.Contains(st, "KUBE-SVC-") {
		t.Errorf("the kube-proxy payload did not land in %s:\n%s", mode, st)
	}
	assertUntouched(t, shimNS, fam, mode)
}
