// Package e2e drives the built shim binary, in exec mode, through the six
// iptables names inside private network namespaces, and compares everything
// a caller can observe (stdout, stderr, exit status, kernel state) with the
// real iptables binaries doing the same in another namespace.
package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iptables-shim/iptables-shim/internal/goiptclient"
	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

func TestMain(m *testing.M) {
	// Re-executed inside a namespace to act as a go-iptables client
	// (go-iptables runs the binary itself, so the client must live there).
	goiptclient.MainIfClient()
	// Or copied into a fake image as its multi-call binary.
	fakeMultiMainIfAsked()
	os.Exit(m.Run())
}

// modes are the two backends the shim is run against.
var modes = []string{"nft", "legacy"}

// families are the program prefixes of the two families.
var families = []string{"iptables", "ip6tables"}

// shimEnv makes the shim a pure pass-through to the real binary of mode:
// mode forced, the nf_tables path through the real binary, no chains of its
// own (the guard), and no config file from the machine.
func shimEnv(mode string) []string {
	return []string{
		"IPTABLES_SHIM_MODE=" + mode,
		"IPTABLES_SHIM_NFT=exec",
		"IPTABLES_SHIM_GUARD=false",
		"IPTABLES_SHIM_CONFIG=/nonexistent/iptables-shim.conf",
		"IPTABLES_SHIM_LOG=",
	}
}

// realDir is the oracle: a directory where the six plain names are links to
// the real multi-call binary of mode, which is how an unshimmed Debian host
// presents them (/usr/sbin/iptables -> alternatives -> xtables-nft-multi),
// so messages carry the same program name the shim's caller sees.
func realDir(t *testing.T, mode string) string {
	t.Helper()
	multi, err := netnstest.LookBinary("xtables-" + mode + "-multi")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, n := range netnstest.ShimNames {
		if err := os.Symlink(multi, filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// requireAll is netnstest.Require with every binary the tests run.
func requireAll(t *testing.T) {
	t.Helper()
	netnstest.Require(t, "xtables-nft-multi", "xtables-legacy-multi", "iptables-nft-save", "iptables-legacy-save",
		"ip6tables-nft-save", "ip6tables-legacy-save", "nft")
}

// otherMode is the backend a call in mode must leave alone.
func otherMode(mode string) string {
	if mode == "nft" {
		return "legacy"
	}
	return "nft"
}

// backendSave is the real save program of a family and mode, e.g.
// ip6tables-legacy-save.
func backendSave(fam, mode string) string { return fam + "-" + mode + "-save" }

// kernelState is what a namespace's netfilter holds for family and mode:
// the real save output without its time stamps, and for nf_tables also the
// netlink-level dump (which shows the exact expressions).
func kernelState(ns *netnstest.NS, fam, mode string) string {
	s := netnstest.NormalizeSave(ns.MustRun(backendSave(fam, mode)))
	if mode == "nft" {
		s += "--- nft --debug=netlink list ruleset\n" + ns.NFTDump()
	}
	return s
}

// assertUntouched fails when the backend other than mode shows any chain a
// test made (every test chain name has a KUBE- or TEST- prefix).
func assertUntouched(t *testing.T, ns *netnstest.NS, fam, mode string) {
	t.Helper()
	other := otherMode(mode)
	out := ns.MustRun(backendSave(fam, other))
	if other == "nft" {
		out += ns.MustRun("nft", "list", "ruleset")
	}
	if strings.Contains(out, "KUBE-") || strings.Contains(out, "TEST-") {
		t.Errorf("a %s call through the shim reached the %s backend:\n%s", mode, other, out)
	}
}

// runAsCaller runs prog by its bare name inside ns with dir first in PATH,
// the way kube-proxy runs iptables: argv[0] is then the bare name, which
// the real tools print in some messages ("iptables-restore: unrecognized
// option"). env is added to the environment.
func runAsCaller(t *testing.T, ns *netnstest.NS, dir string, env []string, stdin io.Reader, prog string, args ...string) netnstest.Result {
	t.Helper()
	ip, err := netnstest.LookBinary("ip")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, ip, append([]string{"netns", "exec", ns.Name, prog}, args...)...)
	c.Env = append(append(os.Environ(), env...), "PATH="+dir+":/usr/sbin:/usr/bin:/sbin:/bin")
	c.Stdin = stdin
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	code := 0
	if err := c.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("running %s in %s: %v", prog, ns.Name, err)
		}
		code = ee.ExitCode()
	}
	return netnstest.Result{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

// privateLock gives a test its own xtables lock file. iptables-legacy takes
// a machine-wide flock on /run/xtables.lock whatever the network namespace,
// so without this the legacy tests would wait on (and time out behind)
// anything else on the machine that holds it; XTABLES_LOCKFILE moves it.
func privateLock(t *testing.T) []string {
	t.Helper()
	return []string{"XTABLES_LOCKFILE=" + filepath.Join(t.TempDir(), "xtables.lock")}
}
