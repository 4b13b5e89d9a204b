// Package goiptclient drives the real client library
// github.com/coreos/go-iptables through every verb and prints a transcript
// (results and exit statuses, not messages, which carry the binary's path),
// so tests can run it once against the shim and once against the real
// iptables and compare. go-iptables runs the iptables binary itself, so the
// client runs in a re-executed test binary inside the test's network
// namespace: tests call MainIfClient from TestMain and start the client
// with Env.
package goiptclient

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/coreos/go-iptables/iptables"
)

const (
	programEnv = "GOIPTCLIENT_PROGRAM" // path of the iptables program to drive
	familyEnv  = "GOIPTCLIENT_FAMILY"  // "iptables" or "ip6tables"
)

// Env is the environment that makes a re-executed test binary run the
// client against program (family "iptables" or "ip6tables").
func Env(program, family string) []string {
	return []string{programEnv + "=" + program, familyEnv + "=" + family}
}

// MainIfClient runs the client and exits when the environment asks for it;
// otherwise it returns. Call it first in TestMain.
func MainIfClient() {
	if os.Getenv(programEnv) != "" {
		os.Exit(run(os.Getenv(programEnv), os.Getenv(familyEnv)))
	}
}

func run(program, family string) int {
	proto, src := iptables.ProtocolIPv4, "10.0.0.1"
	if family == "ip6tables" {
		proto, src = iptables.ProtocolIPv6, "fd00::1"
	}
	ipt, err := iptables.New(iptables.IPFamily(proto), iptables.Path(program), iptables.Timeout(5))
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-iptables:", err)
		return 1
	}
	rule := []string{"-s", src, "-p", "tcp", "--dport", "80", "-m", "comment", "--comment", "go client rule", "-j", "RETURN"}
	mark := []string{"-j", "MARK", "--set-xmark", "0x4000/0x4000"}
	say := func(what string, v ...any) { fmt.Println(what, fmt.Sprint(v...)) }
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
		say("ChangePolicy", status(ipt.ChangePolicy("filter", "FORWARD", "DROP")))
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

// status is an error as the transcript records it: its exit status and
// whether go-iptables calls it "does not exist".
func status(err error) string {
	if err == nil {
		return "ok"
	}
	var e *iptables.Error
	if errors.As(err, &e) {
		return fmt.Sprintf("exit %d notexist=%v", e.ExitStatus(), e.IsNotExist())
	}
	return "error " + err.Error()
}
