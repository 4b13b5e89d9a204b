// Package netnstest gives tests a private network namespace to play with
// netfilter in, and runs commands (real iptables binaries or the shim) inside
// it.
//
// Tests never touch the root namespace's firewall: every namespace is created
// with a unique name and deleted when the test ends.
//
// Privileged tests call Require first. Outside CI a test without root or
// without the ip tool is skipped; when the environment variable named by
// RequireEnv is "1" (as .ci/run sets it) the same condition fails the test,
// so CI can never go green by skipping.
package netnstest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iptables-shim/iptables-shim/internal/shimbuild"
)

// RequireEnv names the variable that turns a skip for missing privileges or
// tools into a failure.
const RequireEnv = "IPTABLES_SHIM_REQUIRE_PRIVILEGED"

// Required reports whether privileged tests must run (CI).
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// Require skips (or, under CI, fails) the test unless it runs as root with
// the ip tool and every named binary available at an absolute path.
func Require(t testing.TB, binaries ...string) {
	t.Helper()
	missing := func(why string) {
		t.Helper()
		if Required() {
			t.Fatalf("privileged test cannot run: %s (%s=1)", why, RequireEnv)
		}
		t.Skipf("skipping privileged test: %s", why)
	}
	if runtime.GOOS != "linux" {
		missing("not linux")
	}
	if os.Geteuid() != 0 {
		missing("not root")
	}
	for _, b := range append([]string{"ip"}, binaries...) {
		if _, err := LookBinary(b); err != nil {
			missing(err.Error())
		}
	}
}

// LookBinary finds a system binary in the sbin/bin directories by absolute
// path, without consulting PATH (which may point at a shim).
func LookBinary(name string) (string, error) {
	if filepath.IsAbs(name) {
		if _, err := os.Stat(name); err != nil {
			return "", err
		}
		return name, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in /usr/sbin, /sbin, /usr/bin, /bin", name)
}

// NS is a network namespace owned by one test.
type NS struct {
	Name string
	// LockFile is the xtables lock file every command run in the namespace
	// uses (XTABLES_LOCKFILE). /run/xtables.lock is one file for every
	// namespace on the machine, so a private one keeps tests from queueing
	// behind each other (and behind anything else on the machine); programs
	// within one test still contend as on a node.
	LockFile string
	t        testing.TB
}

// New creates a fresh network namespace with a unique name and registers its
// deletion with t.Cleanup. Loopback is brought up.
func New(t testing.TB) *NS {
	t.Helper()
	Require(t)
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("shimtest-%d-%s", os.Getpid(), hex.EncodeToString(b[:]))
	if out, err := exec.Command(mustLook(t, "ip"), "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	ns := &NS{Name: name, LockFile: filepath.Join(t.TempDir(), "xtables.lock"), t: t}
	t.Cleanup(func() {
		if out, err := exec.Command(mustLook(t, "ip"), "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	ns.MustRun("ip", "link", "set", "lo", "up")
	return ns
}

func mustLook(t testing.TB, name string) string {
	t.Helper()
	p, err := LookBinary(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Result is what one command did.
type Result struct {
	Stdout string
	Stderr string
	Code   int
}

// String renders a result for test failure messages.
func (r Result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
}

// Command builds an exec.Cmd that runs prog inside the namespace. A bare prog
// name is resolved with LookBinary (never PATH); an absolute path is used as
// is. The environment is the test's, plus the namespace's private lock file.
func (ns *NS) Command(ctx context.Context, prog string, args ...string) *exec.Cmd {
	ns.t.Helper()
	p := prog
	if !filepath.IsAbs(prog) {
		p = mustLook(ns.t, prog)
	}
	cmd := exec.CommandContext(ctx, mustLook(ns.t, "ip"), append([]string{"netns", "exec", ns.Name, p}, args...)...)
	cmd.Env = append(os.Environ(), "XTABLES_LOCKFILE="+ns.LockFile)
	return cmd
}

// RunOpts adjusts one Run.
type RunOpts struct {
	Stdin   io.Reader
	Env     []string // appended to the environment
	Timeout time.Duration
}

// Run runs prog inside the namespace and returns its outcome; it never fails
// the test on a non-zero exit.
func (ns *NS) Run(prog string, args ...string) Result {
	ns.t.Helper()
	return ns.RunWith(RunOpts{}, prog, args...)
}

// RunStdin is Run with standard input.
func (ns *NS) RunStdin(stdin string, prog string, args ...string) Result {
	ns.t.Helper()
	return ns.RunWith(RunOpts{Stdin: strings.NewReader(stdin)}, prog, args...)
}

// RunWith runs prog with options.
func (ns *NS) RunWith(o RunOpts, prog string, args ...string) Result {
	ns.t.Helper()
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := ns.Command(ctx, prog, args...)
	cmd.Env = append(cmd.Env, o.Env...)
	cmd.Stdin = o.Stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			ns.t.Fatalf("running %s %v: %v", prog, args, err)
		}
	}
	return Result{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

// MustRun runs prog and fails the test unless it exits 0; it returns stdout.
func (ns *NS) MustRun(prog string, args ...string) string {
	ns.t.Helper()
	r := ns.Run(prog, args...)
	if r.Code != 0 {
		ns.t.Fatalf("%s %s in %s: %s", prog, strings.Join(args, " "), ns.Name, r)
	}
	return r.Stdout
}

// MustRunStdin is MustRun with standard input.
func (ns *NS) MustRunStdin(stdin, prog string, args ...string) string {
	ns.t.Helper()
	r := ns.RunStdin(stdin, prog, args...)
	if r.Code != 0 {
		ns.t.Fatalf("%s %s in %s: %s", prog, strings.Join(args, " "), ns.Name, r)
	}
	return r.Stdout
}

// NFTDump returns `nft --debug=netlink list ruleset` with handles and other
// run-specific numbers removed, for comparing kernel state across namespaces.
func (ns *NS) NFTDump() string {
	ns.t.Helper()
	return NormalizeNFTDump(ns.MustRun("nft", "--debug=netlink", "list", "ruleset"))
}

// NormalizeNFTDump strips what differs between two identical rulesets in two
// namespaces: nothing at present beyond trailing blank lines, since
// `--debug=netlink list ruleset` prints no handles. Kept as one place to add
// rules if a kernel starts printing them.
func NormalizeNFTDump(s string) string {
	return strings.TrimRight(s, "\n") + "\n"
}

// NormalizeSave drops the "# Generated by"/"# Completed on" comment lines
// (they carry a time stamp and the tool's name) from iptables-save output.
func NormalizeSave(s string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if strings.HasPrefix(l, "# Generated by") || strings.HasPrefix(l, "# Completed on") {
			continue
		}
		b.WriteString(l)
	}
	return b.String()
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// ShimBinary builds cmd/iptables-shim once per test process (statically, as
// shipped) and returns its absolute path.
func ShimBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		sweepStaleBuilds()
		buildDir = filepath.Join(os.TempDir(), fmt.Sprintf("%s%d", buildPrefix, os.Getpid()))
		if buildErr = os.MkdirAll(buildDir, 0o755); buildErr != nil {
			return
		}
		out := filepath.Join(buildDir, "iptables-shim")
		cmd := shimbuild.Command("./cmd/iptables-shim", out)
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v: %s", err, b)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(buildDir, "iptables-shim")
}

// buildPrefix names the per-process build directories in the temp dir.
const buildPrefix = "iptables-shim-test-"

// sweepStaleBuilds removes build directories of test processes that have
// ended: a test binary cannot clean up after its last test, so the next one
// does.
func sweepStaleBuilds() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), buildPrefix+"*"))
	for _, d := range dirs {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), buildPrefix))
		if err != nil || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); os.IsNotExist(err) {
			_ = os.RemoveAll(d)
		}
	}
}

// ShimNames are the six names the shim answers to.
var ShimNames = []string{"iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore"}

// ShimDir makes a temporary directory holding a copy of the shim binary and
// the six iptables names as relative symlinks to it, and returns the
// directory. Put it first in PATH to drive real clients through the shim.
func ShimDir(t testing.TB) string {
	t.Helper()
	bin := ShimBinary(t)
	dir := t.TempDir()
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "iptables-shim"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range ShimNames {
		if err := os.Symlink("iptables-shim", filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// shimModule is the module path of the shim's own go.mod; the packaging
// and harness modules nested under it have their own go.mod files.
const shimModule = "github.com/iptables-shim/iptables-shim"

// moduleRoot is the directory of the shim's go.mod above the test's
// directory, skipping the go.mod files of nested modules.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && declaresModule(string(data), shimModule) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("the go.mod of %s not found above the test's directory", shimModule)
		}
		dir = parent
	}
}

// declaresModule reports whether a go.mod's text declares module path.
func declaresModule(gomod, path string) bool {
	for _, line := range strings.Split(gomod, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "module" && strings.Trim(f[1], `"`) == path {
			return true
		}
	}
	return false
}

// LineDiff shows the first lines (at most eight) where two texts differ,
// enough to debug a failed comparison of tool outputs without a diff
// library.
func LineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl == gl {
			continue
		}
		fmt.Fprintf(&b, "line %d:\n  want %q\n  got  %q\n", i+1, wl, gl)
		if shown++; shown == 8 {
			b.WriteString("  ...\n")
			break
		}
	}
	return b.String()
}
