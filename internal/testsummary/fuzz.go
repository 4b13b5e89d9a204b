package main

import (
	"bufio"
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
			args := []string{"test", "-json", "-run", "^$", "-fuzz", "^" + t.name + "$", "-fuzztime", fuzzTime, "-timeout", "10m", t.dir}
			fmt.Printf("%s %s\n", goTool, strings.Join(args, " "))
			cmd := exec.Command(goTool, args...)
			cmd.Dir = mod
			cmd.Stderr = os.Stdout
			out, err := cmd.StdoutPipe()
			if err == nil {
				err = cmd.Start()
			}
			if err != nil {
				fmt.Printf("FAIL  %s %s: %v\n", t.dir, t.name, err)
				s.Fail(fuzzGroup)
				continue
			}
			before := s.Total()
			label := t.dir + " " + t.name
			if mod != "." {
				label = filepath.ToSlash(filepath.Join(mod, t.dir)) + " " + t.name
			}
			s.Read(out, func(string) string { return fuzzGroup }, func(string) string { return label }, 0)
			err = cmd.Wait()
			after := s.Total()
			if err != nil && after.Failed == before.Failed {
				fmt.Printf("FAIL  %s %s: go test: %v\n", t.dir, t.name, err)
				s.Fail(fuzzGroup)
			} else if err == nil && after == before {
				fmt.Printf("FAIL  %s %s: go test reported no result for the target\n", t.dir, t.name)
				s.Fail(fuzzGroup)
			}
		}
	}
}
