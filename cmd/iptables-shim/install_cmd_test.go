package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInstallCommandArguments(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		text string
	}{
		{[]string{"--alternatives", "maybe"}, 2, "invalid --alternatives value"},
		{[]string{"extra"}, 2, `unexpected argument "extra"`},
		{[]string{"--no-such-flag"}, 2, "flag provided but not defined"},
		{[]string{"--dest", "/nonexistent/dir"}, 1, "destination directory does not exist"},
	} {
		var out, errOut bytes.Buffer
		if code := runInstall(c.args, &out, &errOut); code != c.code || !strings.Contains(errOut.String(), c.text) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errOut.String(), c.code, c.text)
		}
	}
	var out, errOut bytes.Buffer
	if code := runInstall([]string{"--help"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "Usage: iptables-shim install") {
		t.Errorf("--help: exit %d, %q", code, out.String())
	}
}

// TestInstallCommandLinksToItself runs the subcommand from the test binary,
// which plays the shim: the names must lead to the running executable.
func TestInstallCommandLinksToItself(t *testing.T) {
	dest := t.TempDir()
	var out, errOut bytes.Buffer
	if code := runInstall([]string{"--dest", dest, "--dry-run"}, &out, &errOut); code != 0 || strings.Count(out.String(), "would link") != 6 {
		t.Fatalf("dry run: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if entries, _ := os.ReadDir(dest); len(entries) != 0 {
		t.Fatalf("dry run wrote %d entries", len(entries))
	}
	if code := runInstall([]string{"--dest", dest}, &out, &errOut); code != 0 {
		t.Fatalf("install: exit %d\n%s", code, errOut.String())
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.Stat(self)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore"} {
		p := filepath.Join(dest, n)
		link, err := os.Readlink(p)
		if err != nil || filepath.IsAbs(link) {
			t.Errorf("%s: link %q (%v), want a relative link", n, link, err)
		}
		if got, err := os.Stat(p); err != nil || !os.SameFile(got, want) {
			t.Errorf("%s does not lead to the running binary (%v)", n, err)
		}
	}
}
