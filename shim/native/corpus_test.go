package native

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// corpusStep is one restore call of a corpus file.
type corpusStep struct {
	fam     syntax.Family
	args    []string
	payload string
}

// parseCorpus reads a corpus file: "### restore ARGS" (or "### restore6")
// starts a step whose payload is the following lines; "#" lines before the
// first step describe the case.
func parseCorpus(t *testing.T, path string) []corpusStep {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var steps []corpusStep
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "### "); ok {
			f := strings.Fields(rest)
			s := corpusStep{fam: syntax.IPv4, args: f[1:]}
			if f[0] == "restore6" {
				s.fam = syntax.IPv6
			}
			steps = append(steps, s)
			continue
		}
		if len(steps) == 0 {
			continue
		}
		steps[len(steps)-1].payload += line
	}
	if len(steps) == 0 {
		t.Fatalf("%s: no steps", path)
	}
	return steps
}

// restoreCorpusInNamespaces runs every testdata/restore case against the real
// iptables-nft-restore and the native backend in two namespaces, step by
// step, comparing exit codes, error text, kernel state and save output.
func restoreCorpusInNamespaces(t *testing.T) {
	files, err := filepath.Glob("testdata/restore/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			d := newDiffPair(t)
			for i, s := range parseCorpus(t, f) {
				ref, mine := d.restore(s.payload, restoreProg(s.fam), s.args...)
				if ref.Code != mine.Code || normalizeErr(ref.Stderr) != mine.Stderr {
					t.Fatalf("step %d: ref %s\nmine %s", i+1, ref, mine)
				}
				d.compareState(famString(s.fam))
			}
		})
	}
}
