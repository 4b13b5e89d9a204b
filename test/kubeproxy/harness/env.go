// Package harness runs kube-proxy's iptables proxier (package proxyrun) in
// private network namespaces made to look like real nodes, once with the
// real iptables binaries (the oracle) and once through the shim in each of
// its modes, and compares the rulesets they leave.
//
// Every proxier runs in a child process: the program using this package
// re-executes itself under `ip netns exec` (see Child), so the proxier, its
// iptables monitor and every iptables binary it starts live in the
// namespace, and PATH decides which iptables the proxier runs.
package harness

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/iptables-shim/iptables-shim/test/kubeproxy/proxyrun"

	"github.com/iptables-shim/iptables-shim/internal/oracle"
	"github.com/iptables-shim/iptables-shim/internal/shimbuild"
)

// planEnv carries the child's plan (JSON) through its environment.
const planEnv = "IPTABLES_SHIM_KUBEPROXY_PLAN"

// Child runs the proxier when the process was started as a harness child,
// prints its result as JSON and exits; otherwise it returns at once. Call
// it first thing in main and TestMain.
func Child() {
	data := os.Getenv(planEnv)
	if data == "" {
		return
	}
	var plan proxyrun.Plan
	if err := json.Unmarshal([]byte(data), &plan); err != nil {
		fmt.Fprintf(os.Stderr, "harness child: bad plan: %v\n", err)
		os.Exit(3)
	}
	res, err := proxyrun.Run(plan)
	if err != nil {
		fmt.Fprintf(os.Stderr, "harness child: %v\n", err)
		os.Exit(3)
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		os.Exit(3)
	}
	os.Exit(0)
}

// Env is what every run shares: the built shim and the directories that put
// one iptables family or another first on the proxier's PATH.
type Env struct {
	// Self is the executable re-executed as the child.
	Self string
	// Shim holds the built shim and the six iptables names linked to it.
	Shim string
	// RealNFT and RealLegacy hold the six names linked to the machine's
	// xtables-nft-multi and xtables-legacy-multi.
	RealNFT, RealLegacy string
	// LegacyOnly is a backend directory with the legacy binaries and no
	// iptables-nft: the image of the native candidate.
	LegacyOnly string
	// RealAt holds, per other iptables-nft version fetched on this
	// machine (internal/oracle), the six names running that version.
	RealAt map[string]string
	tmp    string
}

// Tools the harness needs at absolute paths.
var Tools = []string{"ip", "nft", "xtables-nft-multi", "xtables-legacy-multi"}

// NewEnv builds the shim from the repository this module sits in and lays
// out the candidates' directories under tmp.
func NewEnv(tmp string) (*Env, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	e := &Env{Self: self, tmp: tmp}
	for _, d := range []*string{&e.Shim, &e.RealNFT, &e.RealLegacy, &e.LegacyOnly} {
		if *d, err = os.MkdirTemp(tmp, "bin"); err != nil {
			return nil, err
		}
	}
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	shim := filepath.Join(e.Shim, "iptables-shim")
	cmd := shimbuild.Command("./cmd/iptables-shim", shim)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the shim: %v: %s", err, out)
	}
	nftMulti, err := lookBinary("xtables-nft-multi")
	if err != nil {
		return nil, err
	}
	legacyMulti, err := lookBinary("xtables-legacy-multi")
	if err != nil {
		return nil, err
	}
	for _, n := range shimNames {
		for dir, target := range map[string]string{e.Shim: "iptables-shim", e.RealNFT: nftMulti, e.RealLegacy: legacyMulti} {
			if err := os.Symlink(target, filepath.Join(dir, n)); err != nil {
				return nil, err
			}
		}
	}
	e.RealAt = map[string]string{}
	for _, h := range SkewHosts {
		o, err := oracle.Find(h.Version)
		if err != nil || e.RealAt[h.Version] != "" {
			continue // the test says what is missing
		}
		dir, err := os.MkdirTemp(tmp, "bin")
		if err != nil {
			return nil, err
		}
		if err := o.WriteNames(dir); err != nil {
			return nil, err
		}
		e.RealAt[h.Version] = dir
	}
	for _, n := range []string{"xtables-legacy-multi", "iptables-legacy", "iptables-legacy-save", "iptables-legacy-restore", "ip6tables-legacy", "ip6tables-legacy-save", "ip6tables-legacy-restore"} {
		if err := os.Symlink(legacyMulti, filepath.Join(e.LegacyOnly, n)); err != nil {
			return nil, err
		}
	}
	return e, nil
}

var shimNames = []string{"iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore"}

// repoRoot finds the main module's directory above this module's.
func repoRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	dirs := []string{}
	if ok {
		dirs = append(dirs, filepath.Dir(file))
	}
	if wd, err := os.Getwd(); err == nil {
		dirs = append(dirs, wd)
	}
	for _, dir := range dirs {
		for d := dir; ; d = filepath.Dir(d) {
			data, err := os.ReadFile(filepath.Join(d, "go.mod"))
			if err == nil && bytes.HasPrefix(data, []byte("module github.com/iptables-shim/iptables-shim\n")) {
				return d, nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return "", fmt.Errorf("the iptables-shim repository (go.mod of github.com/iptables-shim/iptables-shim) is not above %v", dirs)
}

func isFile(p string) bool { st, err := os.Stat(p); return err == nil && !st.IsDir() }

// lookBinary finds a system binary by absolute path, never through PATH
// (which may lead to a shim).
func lookBinary(name string) (string, error) {
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		if p := filepath.Join(d, name); isFile(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in /usr/sbin, /sbin, /usr/bin, /bin", name)
}

// Netns is a network namespace the harness created; Close deletes it.
type Netns struct {
	Name string
	// Lock is the namespace's private xtables lock file.
	Lock string
}

// NewNetns creates a network namespace with a unique name, loopback up.
func NewNetns(tmp string) (*Netns, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	ns := &Netns{Name: fmt.Sprintf("shimkp-%d-%s", os.Getpid(), hex.EncodeToString(b[:])), Lock: filepath.Join(tmp, "xtables-"+hex.EncodeToString(b[:])+".lock")}
	if out, err := exec.Command(mustLook("ip"), "netns", "add", ns.Name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ip netns add %s: %v: %s", ns.Name, err, out)
	}
	if _, err := ns.Run("", nil, "ip", "link", "set", "lo", "up"); err != nil {
		ns.Close()
		return nil, err
	}
	return ns, nil
}

// Close deletes the namespace.
func (ns *Netns) Close() error {
	if out, err := exec.Command(mustLook("ip"), "netns", "del", ns.Name).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns del %s: %v: %s", ns.Name, err, out)
	}
	return nil
}

func mustLook(name string) string {
	p, err := lookBinary(name)
	if err != nil {
		return name
	}
	return p
}

// Run runs a system tool (by absolute path) in the namespace and returns
// its standard output; a non-zero exit is an error carrying stderr.
func (ns *Netns) Run(stdin string, env []string, prog string, args ...string) (string, error) {
	stdout, stderr, code, err := ns.exec(stdin, env, prog, args...)
	if err == nil && code != 0 {
		err = fmt.Errorf("exit status %d", code)
	}
	if err != nil {
		return stdout, fmt.Errorf("%s %s: %v: %s", prog, strings.Join(args, " "), err, stderr)
	}
	return stdout, nil
}

// exec runs prog in the namespace; err is set only when it could not run.
func (ns *Netns) exec(stdin string, env []string, prog string, args ...string) (stdout, stderr string, code int, err error) {
	p := prog
	if !filepath.IsAbs(p) {
		if p, err = lookBinary(prog); err != nil {
			return "", "", 0, err
		}
	}
	cmd := exec.Command(mustLook("ip"), append([]string{"netns", "exec", ns.Name, p}, args...)...)
	cmd.Env = append(append(os.Environ(), "XTABLES_LOCKFILE="+ns.Lock), env...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			return o.String(), e.String(), 0, err
		}
		return o.String(), e.String(), ee.ExitCode(), nil
	}
	return o.String(), e.String(), 0, nil
}

// child runs the harness child in the namespace with the given PATH head
// and extra environment, and decodes its result; stderr is returned for
// diagnosis.
func (e *Env) child(ns *Netns, pathHead string, env []string, plan proxyrun.Plan) (proxyrun.Result, string, error) {
	data, err := json.Marshal(plan)
	if err != nil {
		return proxyrun.Result{}, "", err
	}
	cmd := exec.Command(mustLook("ip"), "netns", "exec", ns.Name, e.Self)
	cmd.Env = []string{
		planEnv + "=" + string(data),
		"PATH=" + pathHead + ":/usr/sbin:/usr/bin:/sbin:/bin",
		"XTABLES_LOCKFILE=" + ns.Lock,
		"HOME=" + e.tmp,
	}
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &limitWriter{w: &stderr, n: 64 << 10}
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		return proxyrun.Result{}, "", err
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(10 * time.Minute):
		_ = cmd.Process.Kill()
		err = fmt.Errorf("timed out")
		<-done
	}
	if err != nil {
		return proxyrun.Result{}, stderr.String(), fmt.Errorf("harness child: %v", err)
	}
	var res proxyrun.Result
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(nil, 64<<20)
	if !sc.Scan() {
		return res, stderr.String(), fmt.Errorf("harness child printed no result")
	}
	if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
		return res, stderr.String(), fmt.Errorf("harness child result: %v", err)
	}
	return res, stderr.String(), nil
}

// limitWriter keeps the first n bytes written to it.
type limitWriter struct {
	w io.Writer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	k := len(p)
	if k > l.n {
		p = p[:l.n]
	}
	l.n -= len(p)
	if len(p) > 0 {
		_, _ = l.w.Write(p)
	}
	return k, nil
}
