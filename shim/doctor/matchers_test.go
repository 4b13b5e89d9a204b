package doctor

import (
	"regexp"
	"testing"
)

// The regular expressions the hand-written matchers replaced.
var (
	versionExpr    = regexp.MustCompile(`(\d+\.\d+\.\d+) \((nf_tables|legacy)\)`)
	loadTargetExpr = regexp.MustCompile("Couldn't load target [`'\"]([^'`\"]+)['`\"]")
)

func checkMatchers(t *testing.T, s string) {
	t.Helper()
	var wantV, wantW string
	if m := versionExpr.FindStringSubmatch(s); m != nil {
		wantV, wantW = m[1], m[2]
	}
	if v, w := versionString([]byte(s)); v != wantV || w != wantW {
		t.Errorf("versionString(%q) = %q, %q; the expression: %q, %q", s, v, w, wantV, wantW)
	}
	want := ""
	if m := loadTargetExpr.FindStringSubmatch(s); m != nil {
		want = m[1]
	}
	if got := loadTarget(s); got != want {
		t.Errorf("loadTarget(%q) = %q; the expression: %q", s, got, want)
	}
}

var matcherSamples = []string{
	"iptables v1.8.9 (nf_tables)", "1.8.9 (legacy)", "v11.8.9 (legacy)", "123.4.5.6 (legacy)", "1.8 (legacy)", "1.8.9  (legacy)",
	"1.8.9 (nf_tables", "x 1.8.7 (nf_tables) 1.8.9 (legacy)", "",
	"iptables-restore v1.8.9 (legacy): Couldn't load target `KUBE-MARK-DROP':No such file or directory",
	"Couldn't load target 'X'", "Couldn't load target \"X\"", "Couldn't load target ``Couldn't load target `Y'",
	"Couldn't load target `", "Couldn't load target X", "Couldn't load target `a\"b'",
}

// TestMatchersAsTheExpressions: versionString and loadTarget find what the
// regular expressions they replaced found.
func TestMatchersAsTheExpressions(t *testing.T) {
	for _, s := range matcherSamples {
		checkMatchers(t, s)
	}
}

func FuzzMatchers(f *testing.F) {
	for _, s := range matcherSamples {
		f.Add(s)
	}
	f.Fuzz(checkMatchers)
}
