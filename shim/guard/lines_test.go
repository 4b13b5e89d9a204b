package guard

import (
	"bytes"
	"regexp"
	"strconv"
	"testing"
)

func TestLineFixer(t *testing.T) {
	var out bytes.Buffer
	f := NewLineFixer(&out, func(n int) int { return n - 2 })
	// Written in odd pieces, as a pipe delivers them.
	for _, piece := range []string{"iptables-restore v1.8.9 (legacy): Couldn't load target `FOO':No such file or directory\nError occ", "urred at line: 14\nTry `iptables-restore -h' for more information.\n", "iptables-restore: line 9 failed"} {
		if _, err := f.Write([]byte(piece)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	want := "iptables-restore v1.8.9 (legacy): Couldn't load target `FOO':No such file or directory\nError occurred at line: 12\nTry `iptables-restore -h' for more information.\niptables-restore: line 7 failed"
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}

// TestLineRefsAsTheExpression: the hand-written matcher rewrites exactly
// what the regular expression it replaced matched.
func TestLineRefsAsTheExpression(t *testing.T) {
	re := regexp.MustCompile(`(line )([0-9]+)( failed)|(Error occurred at line: )([0-9]+)`)
	plus := func(n int) int { return n + 100 }
	for _, in := range []string{
		"iptables-restore: line 7 failed", "Error occurred at line: 12", "line 7 failed line 8 failed",
		"line 7 failedError occurred at line: 3x", "line  7 failed", "line 7failed", "line x failed",
		"Error occurred at line: ", "Error occurred at line: 99999999999999999999999", "line 99999999999999999999999 failed",
		"", "no refs here", "lineline 3 failed", "Error occurred at line: line 4 failed",
	} {
		want := re.ReplaceAllStringFunc(in, func(m string) string {
			sub := re.FindStringSubmatch(m)
			prefix, num, suffix := sub[1], sub[2], sub[3]
			if prefix == "" {
				prefix, num = sub[4], sub[5]
			}
			n, err := strconv.Atoi(num)
			if err != nil {
				return m
			}
			return prefix + strconv.Itoa(plus(n)) + suffix
		})
		f := NewLineFixer(nil, plus)
		if got := string(f.fix([]byte(in))); got != want {
			t.Errorf("fix(%q) = %q, want %q", in, got, want)
		}
	}
}
