package e2e

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coreos/go-iptables/iptables"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// The client half of TestGoIptables runs in a re-executed test binary
// inside a namespace; these variables tell it what to drive.
const (
	clientEnv       = "E2E_GOIPTABLES_CLIENT" // path of the iptables program
	clientFamilyEnv = "E2E_GOIPTABLES_FAMILY" // "iptables" or "ip6tables"
)

// runGoIptablesClient drives go-iptables through every verb kube-style
// callers use and prints a transcript of results (exit statuses, not
// messages: those carry the binary's path). It returns 0 unless the client
// could not be set up.
func runGoIptablesClient() int {
	proto := iptables.ProtocolIPv4
	if os.Getenv(clientFamilyEnv) == "ip6tables" {
		proto = iptables.ProtocolIPv6
	}
	ipt, err := iptables.New(iptables.IPFamily(proto), iptables.Path(os.Getenv(clientEnv)), iptables.Timeout(5))
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-iptables:", err)
		return 1
	}
	src := "10.0.0.1"
	if proto == iptables.ProtocolIPv6 {
		src = "fd00::1"
	}
	rule := []string{"-s", src, "-m", "comment", "--comment", "go client rule", "-j", "RETURN"}
	mark := []string{"-j", "MARK", "--set-xmark", "0x4000/0x4000"}
	say := func(what string, v ...any) { fmt.Println(what, fmt.Sprint(v...)) }
	status := func(err error) string {
		if err == nil {
			return "ok"
		}
		var e *iptables.Error
		if errors.As(err, &e) {
			return fmt.Sprintf("exit %d notexist=%v", e.ExitStatus(), e.IsNotExist())
		}
		return "error " + err.Error()
	}
	for _, table := range []string{"nat", "filter"} {
		say("NewChain", status(ipt.NewChain(table, "KUBE-GO")))
		say("NewChain again", status(ipt.NewChain(table, "KUBE-GO")))
		say("Append", status(ipt.Append(table, "KUBE-GO", rule...)))
		say("Insert", status(ipt.Insert(table, "KUBE-GO", 1, mark...)))
		ok, err := ipt.Exists(table, "KUBE-GO", rule...)
		say("Exists", ok, " ", status(err))
		ok, err = ipt.Exists(table, "KUBE-GO", "-j", "DROP")
		say("Exists missing", ok, " ", status(err))
		ok, err = ipt.ChainExists(table, "KUBE-GO")
		say("ChainExists", ok, " ", status(err))
		rules, err := ipt.List(table, "KUBE-GO")
		say("List", strings.Join(rules, " | "), " ", status(err))
		chains, err := ipt.ListChains(table)
		say("ListChains", strings.Join(chains, ","), " ", status(err))
		stats, err := ipt.Stats(table, "KUBE-GO")
		say("Stats", stats, " ", status(err))
		say("AppendUnique", status(ipt.AppendUnique(table, "KUBE-GO", rule...)))
		say("Delete", status(ipt.Delete(table, "KUBE-GO", rule...)))
		say("Delete again", status(ipt.Delete(table, "KUBE-GO", rule...)))
		say("DeleteIfExists", status(ipt.DeleteIfExists(table, "KUBE-GO", rule...)))
		say("ClearChain", status(ipt.ClearChain(table, "KUBE-GO")))
		say("ClearChain new", status(ipt.ClearChain(table, "KUBE-GO-2")))
		say("DeleteChain", status(ipt.DeleteChain(table, "KUBE-GO")))
		say("DeleteChain again", status(ipt.DeleteChain(table, "KUBE-GO")))
	}
	return 0
}

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
					env = append(append(env, privateLock(t)...), clientEnv+"="+filepath.Join(dir, fam), clientFamilyEnv+"="+fam)
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
