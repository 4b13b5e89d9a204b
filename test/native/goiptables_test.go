package native_test

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

// The go-iptables client runs in a re-executed test binary inside a
// namespace (go-iptables runs the iptables binary itself).
const (
	clientEnv       = "NATIVE_GOIPTABLES_CLIENT" // path of the iptables program
	clientFamilyEnv = "NATIVE_GOIPTABLES_FAMILY" // "iptables" or "ip6tables"
)

func TestMain(m *testing.M) {
	if os.Getenv(clientEnv) != "" {
		os.Exit(runGoIptablesClient())
	}
	os.Exit(m.Run())
}

// runGoIptablesClient drives every go-iptables verb and prints a
// transcript of the results (exit statuses and listings).
func runGoIptablesClient() int {
	proto := iptables.ProtocolIPv4
	src := "10.0.0.1"
	if os.Getenv(clientFamilyEnv) == "ip6tables" {
		proto, src = iptables.ProtocolIPv6, "fd00::1"
	}
	ipt, err := iptables.New(iptables.IPFamily(proto), iptables.Path(os.Getenv(clientEnv)), iptables.Timeout(5))
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-iptables:", err)
		return 1
	}
	rule := []string{"-s", src, "-p", "tcp", "--dport", "80", "-m", "comment", "--comment", "go client rule", "-j", "RETURN"}
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
		say("Insert 3", status(ipt.Insert(table, "KUBE-GO", 3, "-j", "RETURN")))
		say("Replace", status(ipt.Replace(table, "KUBE-GO", 3, "-j", "ACCEPT")))
		ok, err := ipt.Exists(table, "KUBE-GO", rule...)
		say("Exists", ok, " ", status(err))
		ok, err = ipt.Exists(table, "KUBE-GO", "-j", "DROP")
		say("Exists missing", ok, " ", status(err))
		ok, err = ipt.ChainExists(table, "KUBE-GO")
		say("ChainExists", ok, " ", status(err))
		rules, err := ipt.List(table, "KUBE-GO")
		say("List", strings.Join(rules, " | "), " ", status(err))
		rules, err = ipt.ListWithCounters(table, "KUBE-GO")
		say("ListWithCounters", strings.Join(rules, " | "), " ", status(err))
		chains, err := ipt.ListChains(table)
		say("ListChains", strings.Join(chains, ","), " ", status(err))
		stats, err := ipt.Stats(table, "KUBE-GO")
		say("Stats", stats, " ", status(err))
		structured, err := ipt.StructuredStats(table, "KUBE-GO")
		say("StructuredStats", len(structured), " ", status(err))
		say("ZeroChain", status(ipt.ChangePolicy("filter", "FORWARD", "DROP")))
		say("AppendUnique", status(ipt.AppendUnique(table, "KUBE-GO", rule...)))
		say("DeleteById", status(ipt.DeleteById(table, "KUBE-GO", 3)))
		say("Delete", status(ipt.Delete(table, "KUBE-GO", rule...)))
		say("Delete again", status(ipt.Delete(table, "KUBE-GO", rule...)))
		say("DeleteIfExists", status(ipt.DeleteIfExists(table, "KUBE-GO", rule...)))
		say("RenameChain", status(ipt.RenameChain(table, "KUBE-GO", "KUBE-GO-R")))
		say("ClearChain", status(ipt.ClearChain(table, "KUBE-GO-R")))
		say("ClearChain new", status(ipt.ClearChain(table, "KUBE-GO-2")))
		say("DeleteChain", status(ipt.DeleteChain(table, "KUBE-GO-R")))
		say("DeleteChain again", status(ipt.DeleteChain(table, "KUBE-GO-R")))
		say("ClearAll", status(ipt.ClearAll()))
		say("DeleteAll", status(ipt.DeleteAll()))
	}
	return 0
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
				env = append(env, clientEnv+"="+filepath.Join(dir, fam), clientFamilyEnv+"="+fam)
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
