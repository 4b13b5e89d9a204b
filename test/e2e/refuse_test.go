package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// The tests in this file check that the shim, with its guard on and its
// settings at their defaults, never does more than iptables would: a typo
// never becomes a chain, a write to a missing target fails as iptables
// fails, reads create nothing, and a chain the guard creates for a single
// command commits with it or not at all. Each case runs through the shim
// in one namespace and through the real binary in a twin, and everything
// the caller can observe is compared.

// guardVariant is one way the shim reaches the host's backend.
type guardVariant struct {
	name string
	mode string // the host's backend: nft or legacy
	nft  string // IPTABLES_SHIM_NFT
	// alone: the image has no iptables binary, only the shim.
	alone bool
}

var guardVariants = []guardVariant{
	{name: "nft-exec", mode: "nft", nft: "exec"},
	{name: "nft-native", mode: "nft", nft: "native"},
	{name: "nft-native-alone", mode: "nft", nft: "native", alone: true},
	{name: "legacy", mode: "legacy", nft: "exec"},
}

// guardEnv is the shim's environment for a variant: mode forced, the guard
// and every other setting at their defaults, no config file from the
// machine, the call log on (so the fork path runs and the log can be read).
func guardEnv(t *testing.T, v guardVariant, logFile string) []string {
	env := []string{
		"IPTABLES_SHIM_MODE=" + v.mode,
		"IPTABLES_SHIM_NFT=" + v.nft,
		"IPTABLES_SHIM_CONFIG=/nonexistent/iptables-shim.conf",
		"IPTABLES_SHIM_CACHE_DIR=" + t.TempDir(),
		"IPTABLES_SHIM_LOG=" + logFile,
	}
	if v.alone {
		env = append(env, "IPTABLES_SHIM_BACKEND_DIRS="+t.TempDir())
	}
	return append(env, privateLock(t)...)
}

// kubeletChains is what kubelet 1.13 gives the nat table: the world the
// guard promises a caller that jumps to KUBE-MARK-DROP.
const kubeletChains = "*nat\n:KUBE-MARK-DROP - [0:0]\n-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000\nCOMMIT\n"

// guardCase is one call, made the same way through the shim and through
// the real binary.
type guardCase struct {
	name string
	// setup is applied in both namespaces with the real restore
	// (--noflush) before the call.
	setup string
	tool  string // "" (iptables) or "-restore"
	args  []string
	stdin string
	// kubelet: the real binary's namespace also holds kubeletChains (the
	// shim's does not: its guard supplies them), the world the guard
	// promises. Used where the guard does its work: a call that succeeds
	// with the chains, and restores (whose payload the guard completes).
	// A single command that fails anyway needs no such world: the guard
	// steps aside and the caller sees what iptables says on this host.
	kubelet bool
	// unchanged: the shim's namespace must be left exactly as it was
	// (a kubelet case whose call fails as a whole).
	unchanged bool
	// want is the exit status the real binary must give (a check on the
	// case itself).
	want int
}

func guardCases() []guardCase {
	chainX := "*filter\n:TEST-X - [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n*nat\n:TEST-X - [0:0]\nCOMMIT\n"
	hostRules := "*filter\n-A INPUT -s 127.0.0.1/32 -j ACCEPT\n-A INPUT -s 10.1.1.1/32 -j ACCEPT\nCOMMIT\n"
	chainXRule := "*nat\n:TEST-X - [0:0]\n-A TEST-X -j RETURN\nCOMMIT\n"
	return []guardCase{
		// 1. Typos never become chains.
		{name: "typo target", args: []string{"-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCPET"}, want: 2},
		{name: "target checked before chain", args: []string{"-A", "NOPE", "-j", "KUBE-SEP-ABC"}, want: 2},
		{name: "nat target checked before chain", args: []string{"-t", "nat", "-A", "NOPE", "-j", "KUBE-SEP-ABC"}, want: 2},
		{name: "insert to missing non-catalog chain", setup: chainX, args: []string{"-w", "-I", "TEST-X", "-j", "DOCKER"}, want: 2},
		{name: "goto missing chain", args: []string{"-A", "INPUT", "-g", "foobar"}, want: 2},
		{name: "marker is never created", args: []string{"-t", "nat", "-A", "TEST-X", "-j", "KUBE-KUBELET-CANARY"}, setup: chainX, want: 2},
		{name: "restore jumps to undeclared DOCKER", tool: "-restore", args: []string{"--noflush"},
			stdin: "*filter\n:TEST-A - [0:0]\n-A TEST-A -j DOCKER\nCOMMIT\n", want: 2},
		{name: "restore flush jumps to undeclared DOCKER", tool: "-restore",
			stdin: "*filter\n:INPUT ACCEPT [0:0]\n:TEST-A - [0:0]\n-A TEST-A -j DOCKER-USER\nCOMMIT\n", want: 2},
		{name: "restore: catalog chain made, DOCKER still fails", setup: chainX, tool: "-restore", args: []string{"-w", "5", "--noflush"}, kubelet: true, unchanged: true,
			stdin: "*nat\n:TEST-FW - [0:0]\n-A TEST-FW -j KUBE-MARK-DROP\n-A TEST-FW -j DOCKER\nCOMMIT\n", want: 2},
		// 2. Writes to a missing target; reads create nothing.
		{name: "replace with missing target (0004-return-codes)", setup: chainX, args: []string{"-R", "INPUT", "1", "-j", "foobar"}, want: 2},
		{name: "check missing target", setup: chainX, args: []string{"-C", "INPUT", "-j", "foobar"}, want: 2},
		{name: "delete missing target", setup: chainX, args: []string{"-D", "INPUT", "-j", "foobar"}, want: 2},
		{name: "check catalog chain", setup: chainX, args: []string{"-t", "nat", "-C", "TEST-X", "-j", "KUBE-MARK-DROP"}, want: 2},
		{name: "delete catalog chain jump", setup: chainX, args: []string{"-t", "nat", "-D", "TEST-X", "-j", "KUBE-MARK-DROP"}, want: 2},
		{name: "list catalog chain", args: []string{"-t", "nat", "-L", "KUBE-MARK-DROP"}, want: 1},
		{name: "list rules of catalog chain", args: []string{"-t", "nat", "-S", "KUBE-MARK-MASQ"}, want: 1},
		{name: "zero catalog chain", args: []string{"-t", "nat", "-Z", "KUBE-POSTROUTING"}, want: 1},
		{name: "list missing chain", args: []string{"-L", "foobar", "-n"}, want: 1},
		// 3. A catalog chain commits with the command or not at all; a
		// command that fails anyway fails as on this host.
		{name: "catalog jump from missing chain", args: []string{"-t", "nat", "-A", "NOPE", "-j", "KUBE-MARK-DROP"}, want: 2},
		{name: "catalog jump from missing chain, nat present", setup: chainX, args: []string{"-w", "-t", "nat", "-A", "NOPE", "-j", "KUBE-MARK-DROP"}, want: 2},
		{name: "catalog jump with a bad rule number", setup: chainX, args: []string{"-t", "nat", "-I", "TEST-X", "5", "-j", "KUBE-MARK-DROP"}, want: 2},
		{name: "catalog jump replacing a missing rule", setup: chainX, args: []string{"-t", "nat", "-R", "TEST-X", "1", "-j", "KUBE-MARK-MASQ"}, want: 2},
		{name: "catalog jump with bare -w", setup: chainX, args: []string{"-w", "-t", "nat", "-A", "TEST-X", "-j", "KUBE-MARK-DROP"}, kubelet: true, want: 0},
		{name: "catalog jump replacing a rule", setup: chainXRule, args: []string{"-t", "nat", "-R", "TEST-X", "1", "-j", "KUBE-MARK-DROP"}, kubelet: true, want: 0},
		{name: "catalog jump inserted at 2", setup: chainXRule, args: []string{"-t", "nat", "-I", "TEST-X", "2", "-p", "tcp", "-m", "comment", "--comment", "a \"quoted\" comment", "-j", "KUBE-MARK-DROP"}, kubelet: true, want: 0},
		{name: "catalog jump with -w 5", setup: chainX, args: []string{"-w", "5", "-t", "nat", "-I", "TEST-X", "-j", "KUBE-MARK-DROP"}, kubelet: true, want: 0},
		// 5. The shim's parser is not the authority.
		{name: "host name", args: []string{"-A", "INPUT", "-s", "localhost", "-j", "ACCEPT"}, want: 0},
		{name: "host name and list", args: []string{"-A", "INPUT", "-s", "localhost,10.1.1.1", "-d", "10.2.2.2,10.3.3.3", "-j", "ACCEPT"}, want: 0},
		{name: "check by host name", setup: hostRules, args: []string{"-C", "INPUT", "-s", "localhost", "-j", "ACCEPT"}, want: 0},
		{name: "check by host name and list, one missing", setup: hostRules, args: []string{"-C", "INPUT", "-s", "localhost,10.9.9.9", "-j", "ACCEPT"}, want: 1},
		{name: "delete by host name and list", setup: hostRules, args: []string{"-D", "INPUT", "-s", "localhost,10.1.1.1", "-j", "ACCEPT"}, want: 0},
		{name: "delete by list, one missing", setup: hostRules, args: []string{"-D", "INPUT", "-s", "10.1.1.1,10.9.9.9", "-j", "ACCEPT"}, want: 1},
		{name: "insert list at 2", setup: hostRules, args: []string{"-I", "INPUT", "2", "-s", "10.7.7.1,localhost", "-j", "DROP"}, want: 0},
		{name: "insert list after the last rule", setup: hostRules, args: []string{"-I", "INPUT", "3", "-s", "10.7.7.1,10.7.7.2", "-j", "DROP"}, want: 0},
		{name: "insert list at the head", setup: hostRules, args: []string{"-I", "INPUT", "-d", "10.7.7.1,10.7.7.2", "-j", "DROP"}, want: 0},
		{name: "replace with a list", setup: hostRules, args: []string{"-R", "INPUT", "1", "-s", "10.7.7.1,10.7.7.2", "-j", "DROP"}, want: 2},
		{name: "host name that does not resolve", args: []string{"-A", "INPUT", "-s", "nosuchhost.invalid", "-j", "ACCEPT"}, want: 2},
		// 6. Per COMMIT: the nat table, with the guard's chain, commits;
		// the filter table after it fails.
		{name: "restore: later table fails, earlier keeps its chain", tool: "-restore", args: []string{"--noflush"}, kubelet: true,
			stdin: "*nat\n:TEST-FW - [0:0]\n-A TEST-FW -j KUBE-MARK-DROP\nCOMMIT\n*filter\n:TEST-B - [0:0]\n-A TEST-B -j DOCKER\nCOMMIT\n", want: 2},
	}
}

// TestGuardDoesNoMoreThanIptables runs every guardCase in every variant.
func TestGuardDoesNoMoreThanIptables(t *testing.T) {
	requireAll(t)
	shimDir := netnstest.ShimDir(t)
	for _, v := range guardVariants {
		real := realDir(t, v.mode)
		for _, gc := range guardCases() {
			t.Run(v.name+"/"+gc.name, func(t *testing.T) {
				runGuardCase(t, shimDir, real, v, gc)
			})
		}
	}
}

func runGuardCase(t *testing.T, shimDir, real string, v guardVariant, gc guardCase) {
	shimNS, realNS := netnstest.New(t), netnstest.New(t)
	restore := "iptables-" + v.mode + "-restore"
	for _, ns := range []*netnstest.NS{shimNS, realNS} {
		if gc.setup != "" {
			ns.MustRunStdin(gc.setup, restore, "--noflush")
		}
	}
	if gc.kubelet {
		realNS.MustRunStdin(kubeletChains, restore, "--noflush")
	}
	before := kernelState(shimNS, "iptables", v.mode)
	logFile := filepath.Join(t.TempDir(), "calls.log")
	prog := "iptables" + gc.tool
	got := runAsCaller(t, shimNS, shimDir, guardEnv(t, v, logFile), strings.NewReader(gc.stdin), prog, gc.args...)
	want := runAsCaller(t, realNS, real, privateLock(t), strings.NewReader(gc.stdin), prog, gc.args...)
	if want.Code != gc.want {
		t.Errorf("the real tool exited %d, the case expects %d:\n%s", want.Code, gc.want, want)
	}
	if got != want {
		t.Errorf("%s %s\nshim:\n%s\nreal:\n%s", prog, strings.Join(gc.args, " "), got, want)
	}
	after := kernelState(shimNS, "iptables", v.mode)
	if gc.unchanged {
		if after != before {
			t.Errorf("the failed call changed the kernel:\n%s", netnstest.LineDiff(before, after))
		}
	} else if w := kernelState(realNS, "iptables", v.mode); after != w {
		t.Errorf("kernel state differs (- real, + shim):\n%s", netnstest.LineDiff(w, after))
	}
	if t.Failed() {
		if data, err := os.ReadFile(logFile); err == nil {
			t.Logf("shim log:\n%s", data)
		}
	}
	assertUntouched(t, shimNS, "iptables", v.mode)
}

// TestGuardRestoreCommitsPerTable: a restore whose first table jumps to a
// catalog chain and whose second table fails keeps the first table, with
// the guard's chain, as both real restores do; the chain is recorded as
// created by the shim (doctor, detection), and the next sync, which now
// finds it, neither duplicates nor flushes it.
func TestGuardRestoreCommitsPerTable(t *testing.T) {
	requireAll(t)
	shimDir := netnstest.ShimDir(t)
	payload := "*nat\n:TEST-FW - [0:0]\n-A TEST-FW -j KUBE-MARK-DROP\nCOMMIT\n*filter\n:TEST-B - [0:0]\n-A TEST-B -j DOCKER\nCOMMIT\n"
	for _, v := range guardVariants {
		t.Run(v.name, func(t *testing.T) {
			ns := netnstest.New(t)
			logFile := filepath.Join(t.TempDir(), "calls.log")
			env := guardEnv(t, v, logFile)
			for round := 0; round < 2; round++ {
				r := runAsCaller(t, ns, shimDir, env, strings.NewReader(payload), "iptables-restore", "--noflush")
				if r.Code != 2 {
					t.Fatalf("round %d: want exit 2 (the filter table fails), got %s", round, r)
				}
			}
			save := ns.MustRun("iptables-" + v.mode + "-save")
			if n := len(regexp.MustCompile(`(?m)^-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000$`).FindAllString(save, -1)); n != 1 {
				t.Errorf("KUBE-MARK-DROP holds %d MARK rules after two syncs, want 1:\n%s", n, save)
			}
			if n := strings.Count(save, "-A TEST-FW -j KUBE-MARK-DROP"); n != 1 {
				t.Errorf("want the nat table applied (one jump, TEST-FW is redeclared each sync), got %d:\n%s", n, save)
			}
			if strings.Contains(save, "TEST-B") {
				t.Errorf("the failed filter table was applied:\n%s", save)
			}
			log, _ := os.ReadFile(logFile)
			if n := strings.Count(string(log), "event=guard-created"); n != 1 {
				t.Errorf("want the chain recorded once as created by the guard, got %d:\n%s", n, log)
			}
		})
	}
}

// returnCodeSteps are the calls of iptables' own shell test
// iptables/0004-return-codes (1.8.9), in its order: each one's exit status,
// messages and effect must be the real binary's, through every variant and
// with the guard on.
var returnCodeSteps = [][]string{
	{"-N", "foo"}, {"-N", "foo"},
	{"-F", "foo"}, {"-Z", "foo"}, {"-F", "bar"}, {"-Z", "bar"},
	{"-E", "foo", "bar"}, {"-E", "foo", "bar"}, {"-E", "foo", "bar2"}, {"-N", "foo2"}, {"-E", "foo2", "bar"},
	{"-A", "INPUT", "-j", "ACCEPT"}, {"-A", "noexist", "-j", "ACCEPT"},
	{"-I", "INPUT", "-j", "foobar"}, {"-R", "INPUT", "1", "-j", "foobar"}, {"-D", "INPUT", "-j", "foobar"},
	{"-D", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT"},
	{"-I", "INPUT", "23", "-j", "ACCEPT"}, {"-D", "INPUT", "23"}, {"-R", "INPUT", "23", "-j", "ACCEPT"},
	{"-I", "nonexist", "23", "-j", "ACCEPT"}, {"-D", "nonexist", "23"}, {"-R", "nonexist", "23", "-j", "ACCEPT"},
	{"-C", "INPUT", "-j", "ACCEPT"}, {"-C", "FORWARD", "-j", "ACCEPT"}, {"-C", "nonexist", "-j", "ACCEPT"},
	{"-C", "INPUT", "-m", "foobar", "-j", "ACCEPT"}, {"-C", "INPUT", "-j", "foobar"},
	{"-t", "foobar", "-C", "INPUT", "-j", "ACCEPT"},
}

// TestReturnCodesAsIptables runs returnCodeSteps through the shim and the
// real binary, per variant and family, and compares every step.
func TestReturnCodesAsIptables(t *testing.T) {
	requireAll(t)
	shimDir := netnstest.ShimDir(t)
	for _, v := range guardVariants {
		real := realDir(t, v.mode)
		for _, fam := range families {
			t.Run(v.name+"/"+fam, func(t *testing.T) {
				shimNS, realNS := netnstest.New(t), netnstest.New(t)
				logFile := filepath.Join(t.TempDir(), "calls.log")
				env := guardEnv(t, v, logFile)
				for _, args := range returnCodeSteps {
					got := runAsCaller(t, shimNS, shimDir, env, nil, fam, args...)
					want := runAsCaller(t, realNS, real, privateLock(t), nil, fam, args...)
					if got != want {
						t.Errorf("%s %s\nshim:\n%s\nreal:\n%s", fam, strings.Join(args, " "), got, want)
					}
					if g, w := kernelState(shimNS, fam, v.mode), kernelState(realNS, fam, v.mode); g != w {
						t.Fatalf("after %s %s the kernel state differs (- real, + shim):\n%s", fam, strings.Join(args, " "), netnstest.LineDiff(w, g))
					}
				}
			})
		}
	}
}
