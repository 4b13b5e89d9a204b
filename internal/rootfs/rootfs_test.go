package rootfs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// tree builds a root from a map of path -> "file" or "-> target" (a link).
func tree(t *testing.T, entries map[string]string) Root {
	t.Helper()
	dir := t.TempDir()
	for p, what := range entries {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case what == "dir":
			err = os.MkdirAll(full, 0o755)
		case len(what) > 3 && what[:3] == "-> ":
			err = os.Symlink(what[3:], full)
		default:
			err = os.WriteFile(full, []byte(what), 0o755)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return Root(dir)
}

func TestResolve(t *testing.T) {
	r := tree(t, map[string]string{
		"usr/sbin/xtables-nft-multi": "binary",
		"usr/sbin/iptables-nft":      "-> xtables-nft-multi",
		// An absolute target must be looked up inside the root, never on
		// the machine running the test.
		"usr/sbin/iptables":         "-> /etc/alternatives/iptables",
		"etc/alternatives/iptables": "-> /usr/sbin/iptables-nft",
		"sbin":                      "-> usr/sbin",
		"usr/lib/deep/dir":          "dir",
		"usr/sbin/up":               "-> ../lib/deep/dir",
		"usr/sbin/escape":           "-> ../../../../usr/sbin/iptables-nft",
		"usr/sbin/loop-a":           "-> loop-b",
		"usr/sbin/loop-b":           "-> loop-a",
		"usr/sbin/dangling":         "-> /nowhere",
	})
	for _, c := range []struct{ in, want string }{
		{"/usr/sbin/iptables", "/usr/sbin/xtables-nft-multi"},
		{"/sbin/iptables-nft", "/usr/sbin/xtables-nft-multi"},
		{"/usr/sbin/xtables-nft-multi", "/usr/sbin/xtables-nft-multi"},
		{"/sbin", "/usr/sbin"},
		// ".." after a link is taken from where the link led, as the
		// kernel does, not lexically.
		{"/usr/sbin/up/../../../sbin/iptables-nft", "/usr/sbin/xtables-nft-multi"},
		{"/usr/sbin/escape", "/usr/sbin/xtables-nft-multi"},
		{"/", "/"},
	} {
		got, err := r.Resolve(c.in)
		if err != nil || got != c.want {
			t.Errorf("Resolve(%s) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if _, err := r.Resolve("/usr/sbin/loop-a"); !errors.Is(err, ErrLoop) {
		t.Errorf("loop: %v, want ErrLoop", err)
	}
	for _, p := range []string{"/usr/sbin/dangling", "/usr/sbin/absent", "/absent/iptables"} {
		if _, err := r.Resolve(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Resolve(%s): %v, want not-exist", p, err)
		}
	}
}

func TestHost(t *testing.T) {
	for _, c := range []struct {
		root Root
		want string
	}{{"", "/usr/sbin"}, {"/", "/usr/sbin"}, {"/host", "/host/usr/sbin"}} {
		if got := c.root.Host("/usr/sbin"); got != c.want {
			t.Errorf("Root(%q).Host = %q, want %q", c.root, got, c.want)
		}
	}
}

func TestIdentity(t *testing.T) {
	r := tree(t, map[string]string{
		"usr/sbin/xtables-nft-multi": "one",
		"usr/sbin/xtables-legacy":    "two",
		"usr/sbin/iptables":          "-> /usr/sbin/xtables-nft-multi",
	})
	a, err := r.Identity("/usr/sbin/iptables")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := r.Identity("/usr/sbin/xtables-nft-multi")
	c, _ := r.Identity("/usr/sbin/xtables-legacy")
	if a != b || a == c {
		t.Errorf("identities: link %v, target %v, other %v", a, b, c)
	}
	if _, err := r.Identity("/usr/sbin/absent"); err == nil {
		t.Error("identity of a missing file")
	}
}
