package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// event is one line of `go test -json` (cmd/test2json's TestEvent, plus
// the build events go test adds for packages that do not compile).
type event struct {
	Time        time.Time
	Action      string
	Package     string
	Test        string
	Elapsed     float64
	Output      string
	ImportPath  string
	FailedBuild string
}

// Counts are the test results of a package, a group or the whole run.
type Counts struct{ Passed, Failed, Skipped int }

func (c *Counts) add(o Counts) {
	c.Passed += o.Passed
	c.Failed += o.Failed
	c.Skipped += o.Skipped
}

// String is the closing line's shape: "N passed, N failed, N skipped".
func (c Counts) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", c.Passed, c.Failed, c.Skipped)
}

// testState is what one test (or subtest) did.
type testState struct {
	result string // pass, fail or skip; "" while running
	output []string
}

// pkgState collects one package's events until it ends.
type pkgState struct {
	group   string
	started time.Time
	tests   map[string]*testState
	output  []string // package-level output (panics, timeouts, summary)
}

// Summary turns a stream of test events into progress lines and counts per
// group. It is fed one module's `go test -json` output at a time.
type Summary struct {
	out io.Writer
	// groupOf names the group a package belongs to; shortName is how a
	// package is shown (its path inside the repository).
	groupOf, shortName func(pkg string) string
	running            map[string]*pkgState
	build              map[string][]string // build output by import path
	groups             map[string]*Counts
	total              Counts
}

// NewSummary writes progress to out.
func NewSummary(out io.Writer) *Summary {
	return &Summary{out: out, running: map[string]*pkgState{}, build: map[string][]string{}, groups: map[string]*Counts{}}
}

// Read consumes one `go test -json` stream; groupOf names each package's
// group, shortName how a package is shown. Lines that are not JSON (go test's own messages) are echoed. Every
// interval (when positive) it lists the packages still running, so a long
// package shows that it is alive.
func (s *Summary) Read(r io.Reader, groupOf, shortName func(pkg string) string, interval time.Duration) {
	s.groupOf, s.shortName = groupOf, shortName
	lines := make(chan []byte)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			lines <- append([]byte(nil), sc.Bytes()...)
		}
	}()
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				// Packages that never ended: the stream was cut (go test
				// killed or crashed).
				for pkg := range s.running {
					s.end(pkg, event{Action: "fail", Package: pkg, Output: "no end event: go test stopped"})
				}
				return
			}
			s.line(line)
		case now := <-tick:
			if r := s.Running(now); len(r) > 0 {
				fmt.Fprintf(s.out, "      ... running: %s\n", strings.Join(r, ", "))
			}
		}
	}
}

func (s *Summary) line(line []byte) {
	var e event
	if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
		fmt.Fprintf(s.out, "%s\n", line)
		return
	}
	s.handle(e)
}

func (s *Summary) pkg(name string) *pkgState {
	p := s.running[name]
	if p == nil {
		p = &pkgState{group: s.groupOf(name), started: time.Now(), tests: map[string]*testState{}}
		s.running[name] = p
	}
	return p
}

func (s *Summary) handle(e event) {
	switch e.Action {
	case "build-output":
		s.build[e.ImportPath] = append(s.build[e.ImportPath], e.Output)
		return
	case "build-fail":
		return
	}
	if e.Package == "" {
		return
	}
	p := s.pkg(e.Package)
	if e.Test == "" {
		switch e.Action {
		case "pass", "fail":
			s.end(e.Package, e)
		case "skip": // no test files
			delete(s.running, e.Package)
		case "output":
			p.output = append(p.output, e.Output)
		}
		return
	}
	t := p.tests[e.Test]
	if t == nil {
		t = &testState{}
		p.tests[e.Test] = t
	}
	switch e.Action {
	case "output":
		t.output = append(t.output, e.Output)
	case "pass", "fail", "skip":
		t.result = e.Action
	}
}

// count counts leaf tests: a test with subtests is counted through them,
// unless it failed on its own while all of them passed.
func (p *pkgState) count() Counts {
	hasChild := map[string]bool{}
	failedChild := map[string]bool{}
	for name, t := range p.tests {
		for i := strings.LastIndexByte(name, '/'); i > 0; i = strings.LastIndexByte(name[:i], '/') {
			hasChild[name[:i]] = true
			if t.result == "fail" {
				failedChild[name[:i]] = true
			}
		}
	}
	var c Counts
	for name, t := range p.tests {
		if hasChild[name] {
			if t.result == "fail" && !failedChild[name] {
				c.Failed++
			}
			continue
		}
		switch t.result {
		case "pass":
			c.Passed++
		case "fail", "": // "" : still running when the package died
			c.Failed++
		case "skip":
			c.Skipped++
		}
	}
	return c
}

// end closes a package: one progress line, and on failure what explains it.
func (s *Summary) end(pkg string, e event) {
	p := s.running[pkg]
	delete(s.running, pkg)
	c := p.count()
	if e.Action == "fail" && c.Failed == 0 {
		c.Failed++ // the package failed outside any test: build, TestMain, timeout
	}
	status := "ok  "
	if e.Action == "fail" {
		status = "FAIL"
	}
	fmt.Fprintf(s.out, "%s  %-28s %s  (%.1fs)\n", status, s.shortName(pkg), c, e.Elapsed)
	if e.Action == "fail" {
		s.explain(pkg, p, e)
	}
	g := s.groups[p.group]
	if g == nil {
		g = &Counts{}
		s.groups[p.group] = g
	}
	g.add(c)
	s.total.add(c)
}

// explain prints the output of failed tests (or of the package when no test
// failed), indented under the FAIL line.
func (s *Summary) explain(pkg string, p *pkgState, e event) {
	var names []string
	for name, t := range p.tests {
		if t.result == "fail" || t.result == "" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	lines := 0
	for _, name := range names {
		for _, l := range p.tests[name].output {
			if strings.HasPrefix(l, "=== ") {
				continue
			}
			fmt.Fprintf(s.out, "      %s", strings.TrimLeft(l, " "))
			if !strings.HasSuffix(l, "\n") {
				fmt.Fprintln(s.out)
			}
			lines++
		}
	}
	if lines > 0 {
		return
	}
	out := p.output
	if e.FailedBuild != "" {
		out = append(s.build[e.FailedBuild], out...)
	}
	if e.Output != "" {
		out = append(out, e.Output+"\n")
	}
	for _, l := range out {
		fmt.Fprintf(s.out, "      %s", l)
	}
}

// Running lists the packages still running and for how long.
func (s *Summary) Running(now time.Time) []string {
	var out []string
	for name, p := range s.running {
		out = append(out, fmt.Sprintf("%s (%s)", s.shortName(name), now.Sub(p.started).Round(time.Second)))
	}
	sort.Strings(out)
	return out
}

// Fail counts a failure that no test event shows (go test exiting non-zero
// with nothing failed, for instance), in group g.
func (s *Summary) Fail(g string) { s.Add(g, Counts{Failed: 1}) }

// Add counts results gathered elsewhere in group g.
func (s *Summary) Add(g string, c Counts) {
	if s.groups[g] == nil {
		s.groups[g] = &Counts{}
	}
	s.groups[g].add(c)
	s.total.add(c)
}

// Total is every package's counts added up.
func (s *Summary) Total() Counts { return s.total }

// WriteGroups prints one line per group, then the overall line alone.
func (s *Summary) WriteGroups(w io.Writer) {
	var names []string
	for g := range s.groups {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		fmt.Fprintf(w, "%-20s %s\n", g, *s.groups[g])
	}
	fmt.Fprintln(w, s.total)
}
