package dialect

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestImageVersionHolds: a recorded binary version holds while the file is
// the same one, and not once it is replaced (a new inode), rewritten in
// place (size or time), or gone.
func TestImageVersionHolds(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "xtables-nft-multi")
	write := func(v string) {
		t.Helper()
		if err := os.WriteFile(bin, []byte("ELF\x00"+v+"\x00rest"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("1.8.7")
	v := ReadImageVersion(bin)
	if v.Version != "1.8.7" || !v.Holds(bin) {
		t.Fatalf("ReadImageVersion = %+v, holds %v", v, v.Holds(bin))
	}
	if v.Holds(bin + "x") {
		t.Error("a record held for another path")
	}
	// Rewritten in place, same size: the time differs.
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(bin, old, old); err != nil {
		t.Fatal(err)
	}
	if v.Holds(bin) {
		t.Error("a record held after the binary's time changed")
	}
	// Replaced by another file (rename over it).
	v = ReadImageVersion(bin)
	tmp := filepath.Join(dir, "new")
	if err := os.WriteFile(tmp, []byte("ELF\x001.8.9\x00rest"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(tmp, old, old); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, bin); err != nil {
		t.Fatal(err)
	}
	if v.Holds(bin) {
		t.Error("a record held after the binary was replaced")
	}
	if got := ReadImageVersion(bin).Version; got != "1.8.9" {
		t.Errorf("replaced binary reads as %q", got)
	}
	os.Remove(bin)
	if v := ReadImageVersion(bin); v.Holds(bin) || v.Stamp != "-" {
		t.Errorf("a missing binary: %+v", v)
	}
}

// TestBasisFresh: within the trust time only, and never from the future.
func TestBasisFresh(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{time.Time{}, false},
		{now, true},
		{now.Add(-Trust / 2), true},
		{now.Add(-Trust), false},
		{now.Add(time.Minute), false},
	} {
		if got := (Basis{At: tc.at}).Fresh(now); got != tc.want {
			t.Errorf("Fresh(at %v before now) = %v", now.Sub(tc.at), got)
		}
	}
}

// TestHostStampChanges: a package database rewritten changes the stamp.
func TestHostStampChanges(t *testing.T) {
	root := t.TempDir()
	before := HostStamp(root)
	if err := os.MkdirAll(filepath.Join(root, "var/lib/dpkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), []byte("Package: iptables\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if after := HostStamp(root); after == before {
		t.Errorf("HostStamp unchanged after the package database appeared: %q", after)
	}
}
