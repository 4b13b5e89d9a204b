package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// fuzzGroup is the group every fuzz target counts in.
const fuzzGroup = "fuzz"

// fuzzTarget is one fuzz function and the package directory holding it,
// relative to its module.
type fuzzTarget struct{ dir, name string }

var fuzzFunc = regexp.MustCompile(`^func (Fuzz[A-Za-z0-9_]*)\(\w+ \*testing\.F\)`)

// findFuzzTargets lists the fuzz targets in module dir's packages, leaving
// out nested modules and testdata.
func findFuzzTargets(module string) ([]fuzzTarget, error) {
	var out []fuzzTarget
	err := filepath.WalkDir(module, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if p != module && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || fileExists(filepath.Join(p, "go.mod"))) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if m := fuzzFunc.FindStringSubmatch(sc.Text()); m != nil {
				rel, err := filepath.Rel(module, filepath.Dir(p))
				if err != nil {
					return err
				}
				out = append(out, fuzzTarget{dir: "./" + filepath.ToSlash(rel), name: m[1]})
			}
		}
		return sc.Err()
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].dir != out[j].dir {
			return out[i].dir < out[j].dir
		}
		return out[i].name < out[j].name
	})
	return out, err
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// fuzzModules runs every fuzz target of the modules for fuzzTime each.
func fuzzModules(s *Summary, goTool, fuzzTime string, modules []string) {
	for _, mod := range modules {
		targets, err := findFuzzTargets(mod)
		if err != nil {
			fmt.Printf("FAIL  fuzz targets of module %s: %v\n", mod, err)
			s.Fail(fuzzGroup)
			continue
		}
		fmt.Printf("\n== fuzzing module %s: %d targets, %s each\n", mod, len(targets), fuzzTime)
		for _, t := range targets {
			s.Add(fuzzGroup, fuzzOne(goTool, fuzzTime, mod, t))
		}
	}
}

// fuzzOne runs one fuzz target and returns its result (one test).
func fuzzOne(goTool, fuzzTime, mod string, t fuzzTarget) Counts {
	args := []string{"test", "-json", "-run", "^$", "-fuzz", "^" + t.name + "$", "-fuzztime", fuzzTime, "-timeout", "10m", t.dir}
	fmt.Printf("%s %s\n", goTool, strings.Join(args, " "))
	label := t.dir + " " + t.name
	if mod != "." {
		label = filepath.ToSlash(filepath.Join(mod, t.dir)) + " " + t.name
	}
	corpus := filepath.Join(mod, t.dir, "testdata", "fuzz", t.name)
	before := listDir(corpus)
	cmd := exec.Command(goTool, args...)
	cmd.Dir = mod
	// buf holds the progress lines, errOut go test's own complaints; one
	// buffer for both would be written from two goroutines.
	var buf, errOut bytes.Buffer
	cmd.Stderr = &errOut
	out, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		fmt.Printf("FAIL  %s: %v\n", label, err)
		return Counts{Failed: 1}
	}
	sub := NewSummary(&buf)
	sub.Read(out, func(string) string { return fuzzGroup }, func(string) string { return label }, 0)
	err = cmd.Wait()
	buf.Write(errOut.Bytes())
	c := sub.Total()
	switch {
	case c.Failed > 0 && deadlineRace(buf.String()) && len(listDir(corpus)) == len(before):
		// go.dev/issue/75804 (Go before 1.27): the coordinator can fail a
		// target with "context deadline exceeded" as -fuzztime ends,
		// having found nothing. A real crash writes its input to the
		// corpus and prints it; this wrote nothing.
		fmt.Printf("ok    %-28s fuzzing ran its time; ignored the coordinator's end-of-time race (go.dev/issue/75804, no input written)\n", label)
		return Counts{Passed: 1}
	case err != nil && c.Failed == 0:
		os.Stdout.Write(buf.Bytes())
		fmt.Printf("FAIL  %s: go test: %v\n", label, err)
		return Counts{Failed: 1}
	case err == nil && c == (Counts{}):
		os.Stdout.Write(buf.Bytes())
		fmt.Printf("FAIL  %s: go test reported no result for the target\n", label)
		return Counts{Failed: 1}
	}
	os.Stdout.Write(buf.Bytes())
	return c
}

// deadlineRace reports output whose only complaint is the fuzz
// coordinator's own "context deadline exceeded".
func deadlineRace(out string) bool {
	if !strings.Contains(out, "context deadline exceeded") || strings.Contains(out, "Failing input written") {
		return false
	}
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "", l == "context deadline exceeded", strings.HasPrefix(l, "fuzz: elapsed:"),
			strings.HasPrefix(l, "--- FAIL: Fuzz"), strings.HasPrefix(l, "FAIL  "), l == "FAIL", strings.HasPrefix(l, "exit status "):
		default:
			return false
		}
	}
	return true
}

func listDir(dir string) []string {
	entries, _ := os.ReadDir(dir)
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names
}
