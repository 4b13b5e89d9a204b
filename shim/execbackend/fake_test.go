package execbackend

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// The test binary doubles as a fake iptables backend: when fakeModeEnv is
// set it prints what it was called with and behaves as told, so tests can
// check argv[0], arguments, stdin, exit codes and signals exactly as a real
// backend would see them.
const (
	fakeModeEnv = "EXECBACKEND_FAKE" // report | echo | signal | shim
	fakeExitEnv = "EXECBACKEND_FAKE_EXIT"
	fakeRootEnv = "EXECBACKEND_FAKE_ROOT"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeModeEnv); mode != "" {
		os.Exit(fakeBackend(mode))
	}
	os.Exit(m.Run())
}

func fakeBackend(mode string) int {
	switch mode {
	case "echo":
		// Echo each stdin line at once, so a test can prove stdin streams.
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			fmt.Printf("echo:%s\n", sc.Text())
		}
		return 0
	case "signal":
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
		fmt.Println("ready")
		s := <-sigs
		fmt.Printf("got %v\n", s)
		return 7
	case "kill":
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	case "exec":
		// A shim that hands over to the backend: Exec must not return.
		// Like the real shim it checks the marker first, so a mistake in
		// the test cannot turn into an endless exec loop.
		if err := CheckRecursion(os.LookupEnv); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		bin, err := Locate(LocateOptions{Root: os.Getenv(fakeRootEnv), Self: "/nonexistent"}, backend.Legacy, syntax.IPv4, backend.Save)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		var env []string
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, fakeModeEnv+"=") {
				env = append(env, kv)
			}
		}
		env = append(env, fakeModeEnv+"=report")
		err = Exec(bin, os.Args[1:], env)
		fmt.Fprintln(os.Stderr, "Exec returned:", err)
		return 1
	case "reraise":
		// A shim whose backend gets killed: it must die the same way.
		env := []string{fakeModeEnv + "=kill"}
		b := &Backend{Mode: backend.NFT, Locate: LocateOptions{Root: os.Getenv(fakeRootEnv), Self: "/nonexistent"}, Env: env}
		err := b.Run(context.Background(), &backend.Call{Tool: backend.Iptables, Family: syntax.IPv4})
		DieLikeBackend(err)
		fmt.Fprintln(os.Stderr, "still alive after", err)
		return 1
	case "shim":
		// A copy of the shim found as a backend: what cmd does first.
		if err := CheckRecursion(os.LookupEnv); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println("not refused")
		return 0
	}
	fmt.Printf("argv0=%s\nargs=%q\ndepth=%s\n", os.Args[0], os.Args[1:], os.Getenv(DepthEnv))
	if in, err := io.ReadAll(os.Stdin); err == nil && len(in) > 0 {
		fmt.Printf("stdin=%s", in)
	}
	code, _ := strconv.Atoi(os.Getenv(fakeExitEnv))
	return code
}

// fakeRoot builds an image layout under a temporary root. Each value says
// what the path (inside the root) is:
//
//	"fake"    a hard link to the test binary (a working fake backend)
//	"copy"    a copy of the test binary (same content, another inode)
//	"shim"    the fake shim's own executable (LocateOptions.Self)
//	"empty"   an empty executable file
//	"noexec"  a non-empty file without execute bits
//	"plain"   a non-empty executable that is no known backend
//	"dir"     a directory
//	"->T"     a symlink to T (relative or absolute inside the root)
type fakeRoot map[string]string

// shimPath is where every layout keeps the fake shim.
const shimPath = "/usr/local/bin/iptables-shim"

// build lays out the root and returns options pointing at it.
func (l fakeRoot) build(t *testing.T) LocateOptions {
	t.Helper()
	root := t.TempDir()
	self := testExe(t)
	items := map[string]string{shimPath: "shim"}
	for k, v := range l {
		items[k] = v
	}
	for p, what := range items {
		hp := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(hp), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case strings.HasPrefix(what, "->"):
			err = os.Symlink(strings.TrimPrefix(what, "->"), hp)
		case what == "fake":
			if err = os.Link(self, hp); err != nil {
				err = copyFile(self, hp)
			}
		case what == "copy":
			err = copyFile(self, hp)
		case what == "shim", what == "plain":
			err = os.WriteFile(hp, []byte("#!/bin/sh\nexit 99\n"), 0o755)
		case what == "empty":
			err = os.WriteFile(hp, nil, 0o755)
		case what == "noexec":
			err = os.WriteFile(hp, []byte("data"), 0o644)
		case what == "dir":
			err = os.Mkdir(hp, 0o755)
		default:
			t.Fatalf("bad layout item %q", what)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return LocateOptions{Root: root, Self: filepath.Join(root, shimPath)}
}

func testExe(t *testing.T) string {
	t.Helper()
	p, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o755)
}

// debian189 is Debian 12's iptables 1.8.9 layout with alternatives set to nft.
var debian189 = fakeRoot{
	"/sbin":                               "->usr/sbin",
	"/usr/sbin/xtables-nft-multi":         "fake",
	"/usr/sbin/xtables-legacy-multi":      "fake",
	"/etc/alternatives/iptables":          "->/usr/sbin/iptables-nft",
	"/etc/alternatives/iptables-save":     "->/usr/sbin/iptables-nft-save",
	"/usr/sbin/iptables":                  "->/etc/alternatives/iptables",
	"/usr/sbin/iptables-save":             "->/etc/alternatives/iptables-save",
	"/usr/sbin/iptables-nft":              "->xtables-nft-multi",
	"/usr/sbin/iptables-nft-save":         "->xtables-nft-multi",
	"/usr/sbin/iptables-nft-restore":      "->xtables-nft-multi",
	"/usr/sbin/ip6tables-nft":             "->xtables-nft-multi",
	"/usr/sbin/iptables-legacy":           "->xtables-legacy-multi",
	"/usr/sbin/iptables-legacy-save":      "->xtables-legacy-multi",
	"/usr/sbin/iptables-legacy-restore":   "->xtables-legacy-multi",
	"/usr/sbin/ip6tables-legacy-restore":  "->xtables-legacy-multi",
	"/usr/sbin/ip6tables-legacy":          "->xtables-legacy-multi",
	"/usr/sbin/ip6tables-legacy-save":     "->xtables-legacy-multi",
	"/usr/sbin/ip6tables-nft-restore":     "->xtables-nft-multi",
	"/usr/sbin/ip6tables-nft-save":        "->xtables-nft-multi",
	"/usr/sbin/iptables-restore":          "->/etc/alternatives/iptables-restore",
	"/etc/alternatives/iptables-restore":  "->/usr/sbin/iptables-nft-restore",
	"/usr/sbin/ip6tables":                 "->/etc/alternatives/ip6tables",
	"/etc/alternatives/ip6tables":         "->/usr/sbin/ip6tables-nft",
	"/usr/sbin/ip6tables-save":            "->/etc/alternatives/ip6tables-save",
	"/etc/alternatives/ip6tables-save":    "->/usr/sbin/ip6tables-nft-save",
	"/usr/sbin/ip6tables-restore":         "->/etc/alternatives/ip6tables-restore",
	"/etc/alternatives/ip6tables-restore": "->/usr/sbin/ip6tables-nft-restore",
}

// stretch16 is the iptables 1.6 layout of kube-proxy images up to 1.16:
// one xtables-multi in /sbin, plain names linked to it, no nft.
var stretch16 = fakeRoot{
	"/usr/sbin/.keep":          "noexec",
	"/sbin/xtables-multi":      "fake",
	"/sbin/iptables":           "->xtables-multi",
	"/sbin/iptables-save":      "->xtables-multi",
	"/sbin/iptables-restore":   "->xtables-multi",
	"/sbin/ip6tables":          "->xtables-multi",
	"/sbin/ip6tables-save":     "->xtables-multi",
	"/sbin/ip6tables-restore":  "->xtables-multi",
	"/sbin/iptables-xml":       "->xtables-multi",
	"/usr/bin/iptables-apply":  "plain",
	"/usr/sbin/iptables-apply": "plain",
}

// familiesAndTools is every (family, tool) pair the shim serves.
func familiesAndTools() [][2]int {
	var out [][2]int
	for _, f := range []syntax.Family{syntax.IPv4, syntax.IPv6} {
		for _, tl := range []backend.Tool{backend.Iptables, backend.Save, backend.Restore} {
			out = append(out, [2]int{int(f), int(tl)})
		}
	}
	return out
}
