// Command testsummary runs `go test -json` in each module of the repository
// and prints what `make test` shows: up front whether the network-namespace
// tests run, one line per package as it finishes (with the output of what
// failed), a list of packages still running every so often, a summary per
// package group, and a closing line "N passed, N failed, N skipped" that CI
// judges the run by. It exits 1 when anything failed.
//
//	go run ./internal/testsummary [-go GO] [-flags "-count=1 ..."] [-fuzztime 10s] [-tests=false] MODULE_DIR...
//
// With -fuzztime, every fuzz target of the modules then runs for that long
// (its seed corpus first), one `go test -fuzz` each; each target counts as
// one test of the group "fuzz", so a crash shows in the closing line. A
// crashing input is saved by go test under the package's testdata/fuzz.
//
// A group is the module's directory for a nested module (packaging,
// test/kubeproxy) and the top-level directory (shim, detect, test, ...)
// inside the root module. Tests are counted at the leaves: a test with
// subtests counts through its subtests.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// requireEnv turns the privileged tests' skip into a failure (see
// internal/netnstest).
const requireEnv = "IPTABLES_SHIM_REQUIRE_PRIVILEGED"

func main() {
	goTool := flag.String("go", "go", "the go command")
	testFlags := flag.String("flags", "", "flags for go test, space separated")
	interval := flag.Duration("progress", time.Minute, "how often to list packages still running (0: never)")
	fuzzTime := flag.String("fuzztime", "", "run every fuzz target this long (a duration, or Nx for N inputs); empty: no fuzzing")
	tests := flag.Bool("tests", true, "run the tests (false with -fuzztime: fuzz only)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: testsummary [-go GO] [-flags FLAGS] [-progress DURATION] MODULE_DIR...")
		flag.PrintDefaults()
	}
	flag.Parse()
	modules := flag.Args()
	if len(modules) == 0 {
		modules = []string{"."}
	}
	fmt.Println(preamble(os.Geteuid() == 0, os.Getenv(requireEnv) == "1", modules))
	s := NewSummary(os.Stdout)
	for _, dir := range modules {
		if !*tests {
			break
		}
		if err := runModule(s, *goTool, strings.Fields(*testFlags), dir, *interval); err != nil {
			fmt.Printf("FAIL  module %s: %v\n", dir, err)
			s.Fail(groupName(dir, ""))
		}
	}
	if *fuzzTime != "" {
		fuzzModules(s, *goTool, *fuzzTime, modules)
	}
	fmt.Println()
	fmt.Println("== summary by package group")
	s.WriteGroups(os.Stdout)
	if s.Total().Failed > 0 {
		os.Exit(1)
	}
}

// preamble says which tests will run: as root the network-namespace tests
// run against the real iptables binaries; otherwise they skip (or fail,
// when CI requires them).
func preamble(root, required bool, modules []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "testing modules: %s\n", strings.Join(modules, " "))
	switch {
	case root && required:
		b.WriteString("running as root: the network-namespace tests run (" + requireEnv + "=1: a skipped one counts as a failure)")
	case root:
		b.WriteString("running as root: the network-namespace tests run against the real iptables binaries")
	case required:
		b.WriteString("not root, but " + requireEnv + "=1: every network-namespace test will FAIL; run as root")
	default:
		b.WriteString("not root: the network-namespace tests are skipped (run as root to include them)")
	}
	return b.String()
}

// runModule runs go test -json ./... in dir and feeds the summary. An exit
// status that no test failure explains is an error.
func runModule(s *Summary, goTool string, flags []string, dir string, interval time.Duration) error {
	modPath, err := modulePath(dir)
	if err != nil {
		return err
	}
	args := append([]string{"test", "-json"}, flags...)
	args = append(args, "./...")
	fmt.Printf("\n== module %s: %s %s\n", dir, goTool, strings.Join(args, " "))
	cmd := exec.Command(goTool, args...)
	cmd.Dir = dir
	cmd.Stderr = os.Stdout // go test's own complaints, in order with the rest
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	before := s.Total().Failed
	if err := cmd.Start(); err != nil {
		return err
	}
	s.Read(out, func(pkg string) string { return groupName(dir, relative(modPath, pkg)) },
		func(pkg string) string { return shortName(dir, relative(modPath, pkg)) }, interval)
	err = cmd.Wait()
	if err != nil && s.Total().Failed == before {
		return fmt.Errorf("go test: %v, with no failing test to show for it", err)
	}
	return nil
}

// groupName is the group of a package at rel inside the module in dir.
func groupName(dir, rel string) string {
	if d := filepath.ToSlash(filepath.Clean(dir)); d != "." {
		return d
	}
	if rel == "" {
		return "."
	}
	first, _, _ := strings.Cut(rel, "/")
	return first
}

// shortName is a package's path inside the repository.
func shortName(dir, rel string) string {
	d := filepath.ToSlash(filepath.Clean(dir))
	switch {
	case d == ".":
		return "./" + rel
	case rel == "":
		return "./" + d
	}
	return "./" + d + "/" + rel
}

// relative is pkg's path inside module mod.
func relative(mod, pkg string) string {
	if pkg == mod {
		return ""
	}
	return strings.TrimPrefix(pkg, mod+"/")
}

// modulePath reads the module line of dir/go.mod.
func modulePath(dir string) (string, error) {
	f, err := os.Open(filepath.Join(dir, "go.mod"))
	if err != nil {
		return "", err
	}
	defer f.Close()
	return moduleLine(f)
}

func moduleLine(r io.Reader) (string, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`), nil
		}
	}
	return "", fmt.Errorf("go.mod has no module line")
}
