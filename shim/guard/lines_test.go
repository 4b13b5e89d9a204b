package guard

import (
	"bytes"
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
