// Package oracle finds, for tests, real iptables-nft binaries of the
// versions the shim must interoperate with: the system's own (Debian 12's
// 1.8.9) and the ones scripts/fetch-iptables.sh unpacks from Debian's
// archive (1.8.7 from bullseye, 1.8.11 from trixie), each with its own
// libraries and loader, never installed over the system's.
package oracle

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// Versions are the iptables-nft versions of the skew matrix, oldest first.
var Versions = []string{"1.8.7", "1.8.9", "1.8.11"}

// System is the version of the iptables-nft installed on the machine the
// tests run on (Debian 12).
const System = "1.8.9"

// Oracle is one runnable iptables-nft version.
type Oracle struct {
	Version string
	// Prog is an absolute path to run with the tool name as the first
	// argument: xtables-nft-multi itself, or a fetched tree's run script.
	Prog string
}

// CacheDir is where scripts/fetch-iptables.sh unpacks versions: the
// IPTABLES_SHIM_ORACLES directory, else $XDG_CACHE_HOME/iptables-shim, else
// /var/cache/iptables-shim (the script's own rule).
func CacheDir() string {
	if d := os.Getenv("IPTABLES_SHIM_ORACLES"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "iptables-shim")
	}
	return "/var/cache/iptables-shim"
}

// Find returns the oracle of a version, or why it is not available.
func Find(version string) (Oracle, error) {
	if version == System {
		p, err := netnstest.LookBinary("xtables-nft-multi")
		if err != nil {
			return Oracle{}, err
		}
		return Oracle{Version: version, Prog: p}, nil
	}
	run := filepath.Join(CacheDir(), "iptables-"+version, "run")
	if st, err := os.Stat(run); err != nil || st.Mode()&0o111 == 0 {
		return Oracle{}, fmt.Errorf("iptables-nft %s is not fetched (%s missing): run scripts/fetch-iptables.sh %s", version, run, version)
	}
	return Oracle{Version: version, Prog: run}, nil
}

// Require returns the oracle of a version; when it is missing the test is
// skipped with the command that fetches it, or fails when privileged tests
// are required (CI runs the fetch script first).
func Require(t testing.TB, version string) Oracle {
	t.Helper()
	o, err := Find(version)
	if err != nil {
		if netnstest.Required() {
			t.Fatalf("%v (%s=1)", err, netnstest.RequireEnv)
		}
		t.Skipf("skipping: %v", err)
	}
	return o
}

// Args returns the argument list that runs tool ("iptables",
// "iptables-save", "ip6tables-restore", ...) of this version with args.
func (o Oracle) Args(tool string, args ...string) []string {
	return append([]string{tool}, args...)
}

// Command returns a runnable command for tool of this version inside ns
// ("iptables-save", "ip6tables -S", ...), for tests that need the process
// itself (stdin pipes, signals).
func (o Oracle) Command(ctx context.Context, ns *netnstest.NS, tool string, args ...string) *exec.Cmd {
	return ns.Command(ctx, o.Prog, o.Args(tool, args...)...)
}

// Run runs tool of this version inside ns.
func (o Oracle) Run(ns *netnstest.NS, tool string, args ...string) netnstest.Result {
	return ns.Run(o.Prog, o.Args(tool, args...)...)
}

// RunStdin runs tool of this version inside ns with stdin.
func (o Oracle) RunStdin(ns *netnstest.NS, stdin, tool string, args ...string) netnstest.Result {
	return ns.RunStdin(stdin, o.Prog, o.Args(tool, args...)...)
}

// Save returns tool-save's output for a family prefix ("iptables" or
// "ip6tables") with the generated-by comments removed, failing the test
// when it does not exit 0.
func (o Oracle) Save(t testing.TB, ns *netnstest.NS, prefix string, args ...string) string {
	t.Helper()
	r := o.Run(ns, prefix+"-save", args...)
	if r.Code != 0 {
		t.Fatalf("iptables %s %s-save in %s: %s", o.Version, prefix, ns.Name, r)
	}
	return netnstest.NormalizeSave(r.Stdout)
}

// WriteNames writes into dir the six iptables names (netnstest.ShimNames)
// as scripts running this version's programs, for callers that find
// programs by name (PATH, a directory of binaries). The scripts exec the
// version's run script, so each program prints its own name.
func (o Oracle) WriteNames(dir string) error {
	for _, n := range netnstest.ShimNames {
		if err := writeScript(filepath.Join(dir, n), "exec '"+o.Prog+"' "+n+" \"$@\""); err != nil {
			return err
		}
	}
	return nil
}

// WriteMulti writes dir/xtables-nft-multi, running this version's
// multi-call binary (the first argument names the program), for callers
// that run "$XT_MULTI iptables ..." and look at the name, as iptables'
// own shell tests do.
func (o Oracle) WriteMulti(dir string) (string, error) {
	p := filepath.Join(dir, "xtables-nft-multi")
	return p, writeScript(p, "exec '"+o.Prog+"' \"$@\"")
}

func writeScript(path, body string) error {
	return os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755)
}

// String names the oracle for test names and messages.
func (o Oracle) String() string { return "iptables-nft " + o.Version }

// HasVersionLine reports whether out is what `iptables --version` of this
// version prints.
func (o Oracle) HasVersionLine(out string) bool {
	return strings.HasPrefix(out, "iptables v"+o.Version+" ")
}
