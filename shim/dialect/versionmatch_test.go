package dialect

import (
	"bytes"
	"regexp"
	"testing"
)

// versionExpr is the regular expression versionInBinary replaced.
var versionExpr = regexp.MustCompile(`\x00(1\.[0-9]+\.[0-9]+)(?:\x00| \(nf_tables\))`)

func checkVersionMatch(t *testing.T, b []byte) {
	t.Helper()
	var want, wantMatch string
	if m := versionExpr.FindSubmatch(b); m != nil && bytes.HasPrefix(b, m[0]) {
		want, wantMatch = string(m[1]), string(m[0])
	}
	if got, match := versionInBinary(b); got != want || match != wantMatch {
		t.Errorf("versionInBinary(%q) = %q, %q; the expression: %q, %q", b, got, match, want, wantMatch)
	}
}

var versionSamples = []string{
	"\x001.8.9\x00", "\x001.8.9 (nf_tables)", "\x001.8.11\x00rest", "\x001.8.\x00", "\x001..9\x00", "\x0011.8.9\x00",
	"\x001.8.9", "\x001.8.9 (legacy)", "x\x001.8.9\x00", "\x001.8.9.1\x00", "", "\x001.", "\x001.6.12\x00",
}

// TestVersionInBinaryAsTheExpression: the hand-written matcher finds what
// the regular expression it replaced found at the start of its input.
func TestVersionInBinaryAsTheExpression(t *testing.T) {
	for _, s := range versionSamples {
		checkVersionMatch(t, []byte(s))
	}
}

func FuzzVersionInBinary(f *testing.F) {
	for _, s := range versionSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(checkVersionMatch)
}
