// Package helperproc runs parts of a test binary inside a network namespace
// (test support for the detect and doctor packages).
// Detection probes run in-process over netlink and getsockopt, and a socket
// belongs to the namespace of the thread that opened it; re-running the test
// binary under `ip netns exec` puts the whole process in the namespace, with
// none of the per-thread setns pitfalls.
package helperproc

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// envName selects the helper to run instead of the tests.
const envName = "IPTABLES_SHIM_TEST_HELPER"

// Main is called from TestMain: when the process was started by Run it runs
// the named helper and exits with its status; otherwise it runs the tests.
func Main(m *testing.M, helpers map[string]func() int) {
	if name := os.Getenv(envName); name != "" {
		h, ok := helpers[name]
		if !ok {
			names := make([]string, 0, len(helpers))
			for n := range helpers {
				names = append(names, n)
			}
			sort.Strings(names)
			fmt.Fprintf(os.Stderr, "unknown test helper %q (have %v)\n", name, names)
			os.Exit(2)
		}
		os.Exit(h())
	}
	os.Exit(m.Run())
}

// Run starts the named helper of this test binary inside ns, with extra
// environment variables, and returns what it did.
func Run(t testing.TB, ns *netnstest.NS, name string, env ...string) netnstest.Result {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return ns.RunWith(netnstest.RunOpts{Env: append([]string{envName + "=" + name}, env...)}, exe)
}

// RunVia is Run with the helper started through a wrapper command (its
// words, then the test binary's path): e.g. unshare, to give the helper a
// mount or PID namespace of its own.
func RunVia(t testing.TB, ns *netnstest.NS, wrapper []string, name string, env ...string) netnstest.Result {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return ns.RunWith(netnstest.RunOpts{Env: append([]string{envName + "=" + name}, env...)}, wrapper[0], append(wrapper[1:], exe)...)
}

// RunJSON is Run for a helper that prints JSON: it fails the test unless the
// helper exits 0, and decodes its output into out.
func RunJSON(t testing.TB, ns *netnstest.NS, name string, out any, env ...string) {
	t.Helper()
	r := Run(t, ns, name, env...)
	if r.Code != 0 {
		t.Fatalf("helper %s: %s", name, r)
	}
	if err := json.Unmarshal([]byte(r.Stdout), out); err != nil {
		t.Fatalf("helper %s: %v", name, err)
	}
}

// Print ends a helper that prints one JSON value: out on stdout and 0, or
// err on stderr and 1 when reading it failed.
func Print(out any, err error) int {
	if err == nil {
		err = json.NewEncoder(os.Stdout).Encode(out)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
