package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// stream is a hand-made `go test -json` run: a package with a passing
// test, a skipped one, a test whose subtest failed and one that failed after
// its subtests passed; a package that does not build; a package without
// test files; and a package whose process died inside a test.
const stream = `{"Action":"start","Package":"m/shim/a"}
{"Action":"run","Package":"m/shim/a","Test":"TestOK"}
{"Action":"pass","Package":"m/shim/a","Test":"TestOK"}
{"Action":"run","Package":"m/shim/a","Test":"TestRoot"}
{"Action":"output","Package":"m/shim/a","Test":"TestRoot","Output":"    a_test.go:9: needs root\n"}
{"Action":"skip","Package":"m/shim/a","Test":"TestRoot"}
{"Action":"run","Package":"m/shim/a","Test":"TestTable"}
{"Action":"run","Package":"m/shim/a","Test":"TestTable/one"}
{"Action":"pass","Package":"m/shim/a","Test":"TestTable/one"}
{"Action":"run","Package":"m/shim/a","Test":"TestTable/two"}
{"Action":"output","Package":"m/shim/a","Test":"TestTable/two","Output":"=== RUN   TestTable/two\n"}
{"Action":"output","Package":"m/shim/a","Test":"TestTable/two","Output":"    a_test.go:20: got 1, want 2\n"}
{"Action":"fail","Package":"m/shim/a","Test":"TestTable/two"}
{"Action":"fail","Package":"m/shim/a","Test":"TestTable"}
{"Action":"run","Package":"m/shim/a","Test":"TestParent"}
{"Action":"pass","Package":"m/shim/a","Test":"TestParent/x"}
{"Action":"output","Package":"m/shim/a","Test":"TestParent","Output":"    a_test.go:30: after the subtests\n"}
{"Action":"fail","Package":"m/shim/a","Test":"TestParent"}
{"Action":"fail","Package":"m/shim/a","Elapsed":0.5}
{"ImportPath":"m/detect [m/detect.test]","Action":"build-output","Output":"detect/x.go:3:1: syntax error\n"}
{"ImportPath":"m/detect [m/detect.test]","Action":"build-fail"}
{"Action":"start","Package":"m/detect"}
{"Action":"output","Package":"m/detect","Output":"FAIL\tm/detect [build failed]\n"}
{"Action":"fail","Package":"m/detect","Elapsed":0,"FailedBuild":"m/detect [m/detect.test]"}
{"Action":"start","Package":"m/cmd/x"}
{"Action":"output","Package":"m/cmd/x","Output":"?   \tm/cmd/x\t[no test files]\n"}
{"Action":"skip","Package":"m/cmd/x","Elapsed":0}
{"Action":"start","Package":"m/test/e2e"}
{"Action":"run","Package":"m/test/e2e","Test":"TestLong"}
{"Action":"pass","Package":"m/test/e2e","Test":"TestDone"}
go: not JSON, echoed
`

func TestSummaryCountsLeavesAndExplainsFailures(t *testing.T) {
	var out bytes.Buffer
	s := NewSummary(&out)
	s.Read(strings.NewReader(stream), func(pkg string) string { return groupName(".", relative("m", pkg)) },
		func(pkg string) string { return shortName(".", relative("m", pkg)) }, 0)
	var groups bytes.Buffer
	s.WriteGroups(&groups)
	text := out.String()
	for _, want := range []string{
		"FAIL  ./shim/a", "3 passed, 2 failed, 1 skipped",
		"a_test.go:20: got 1, want 2", "a_test.go:30: after the subtests",
		"FAIL  ./detect", "detect/x.go:3:1: syntax error",
		"FAIL  ./test/e2e", "no end event",
		"go: not JSON, echoed",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("progress lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "=== RUN") || strings.Contains(text, "cmd/x") || strings.Contains(text, "needs root") {
		t.Errorf("progress shows what it should not:\n%s", text)
	}
	want := "detect               0 passed, 1 failed, 0 skipped\n" +
		"shim                 3 passed, 2 failed, 1 skipped\n" +
		"test                 1 passed, 1 failed, 0 skipped\n" +
		"4 passed, 4 failed, 1 skipped\n"
	if groups.String() != want {
		t.Errorf("groups:\n%s\nwant:\n%s", groups.String(), want)
	}
}

func TestGroupNames(t *testing.T) {
	for _, c := range []struct{ dir, rel, want string }{
		{".", "shim/native/nfnl", "shim"},
		{".", "detect", "detect"},
		{".", "", "."},
		{"packaging", "nodepkg", "packaging"},
		{"./test/kubeproxy", "", "test/kubeproxy"},
	} {
		if got := groupName(c.dir, c.rel); got != c.want {
			t.Errorf("groupName(%q, %q) = %q, want %q", c.dir, c.rel, got, c.want)
		}
	}
	if got, err := moduleLine(strings.NewReader("// c\nmodule \"a/b\"\n\ngo 1.26\n")); got != "a/b" || err != nil {
		t.Errorf("moduleLine = %q, %v", got, err)
	}
}

func TestPreambleSaysWhatRuns(t *testing.T) {
	for _, c := range []struct {
		root, required bool
		want           string
	}{
		{true, false, "network-namespace tests run"},
		{true, true, "counts as a failure"},
		{false, false, "skipped (run as root"},
		{false, true, "will FAIL"},
	} {
		if got := preamble(c.root, c.required, []string{"."}); !strings.Contains(got, c.want) {
			t.Errorf("root=%v required=%v: %q lacks %q", c.root, c.required, got, c.want)
		}
	}
}

func TestFindFuzzTargets(t *testing.T) {
	root := t.TempDir()
	write := func(p, text string) {
		t.Helper()
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module m\n")
	write("a/x_test.go", "package a\nfunc FuzzB(f *testing.F) {}\nfunc FuzzA(f *testing.F) {}\nfunc FuzzNot(t *testing.T) {}\n")
	write("a/x.go", "package a\nfunc FuzzC(f *testing.F) {}\n")
	write("a/testdata/y_test.go", "func FuzzD(f *testing.F) {}\n")
	write("nested/go.mod", "module m/nested\n")
	write("nested/z_test.go", "func FuzzE(f *testing.F) {}\n")
	got, err := findFuzzTargets(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []fuzzTarget{{"./a", "FuzzA"}, {"./a", "FuzzB"}}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestDeadlineRaceIsToldFromACrash(t *testing.T) {
	race := `FAIL  ./shim/xt FuzzDecodeBlob     0 passed, 1 failed, 0 skipped  (10.6s)
      fuzz: elapsed: 0s, gathering baseline coverage: 0/606 completed
      fuzz: elapsed: 11s, execs: 255055 (19457/sec), new interesting: 1 (total: 607)
      --- FAIL: FuzzDecodeBlob (10.53s)
      context deadline exceeded
`
	if !deadlineRace(race) {
		t.Error("the coordinator's deadline race not recognised")
	}
	crash := `FAIL  ./p FuzzCrash     0 passed, 1 failed, 0 skipped  (0.0s)
      --- FAIL: FuzzCrash (0.00s)
      testing.go:1927: panic: boom
      Failing input written to testdata/fuzz/FuzzCrash/3d47a295d0f585b5
`
	if deadlineRace(crash) || deadlineRace(crash+"      context deadline exceeded\n") {
		t.Error("a crash taken for the deadline race")
	}
}
