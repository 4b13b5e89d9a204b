package dialect

import (
	"os"
	"path/filepath"
	"testing"
)

func TestOfVersion(t *testing.T) {
	for v, want := range map[string]Dialect{
		"1.8.0": V187, "1.8.4": V187, "v1.8.7": V187, "1.8.7-1": V187, "1.8.8": V189, "1.8.9-2": V189,
		"1.8.10": V189, "1.8.11": V1811, "1.8.11-2": V1811, "1.9.0": V1811,
	} {
		if got, ok := OfVersion(v); !ok || got != want {
			t.Errorf("OfVersion(%q) = %q, %v; want %q", v, got, ok, want)
		}
	}
	for _, v := range []string{"1.6.1", "", "nft", "1.8"} {
		if got, ok := OfVersion(v); ok {
			t.Errorf("OfVersion(%q) = %q, want none", v, got)
		}
	}
	if d, err := Parse("auto"); err != nil || d != "" {
		t.Errorf("Parse(auto) = %q, %v", d, err)
	}
	if _, err := Parse("1.6.0"); err == nil {
		t.Error("Parse(1.6.0) accepted")
	}
}

func TestConclude(t *testing.T) {
	for _, tc := range []struct {
		hints []Hint
		want  Dialect
	}{
		{nil, ""},
		{[]Hint{AtMost1810}, ""},
		{[]Hint{AtMost187, AtMost1810}, V187},
		{[]Hint{AtLeast188, AtMost1810}, V189},
		{[]Hint{AtLeast188, Is1811}, V1811},
		// Mixed writers: the forms every version reads.
		{[]Hint{AtMost187, AtLeast188}, V187},
	} {
		var cs []Clue
		for _, h := range tc.hints {
			cs = append(cs, Clue{Hint: h})
		}
		if got := Conclude(cs).Dialect; got != tc.want {
			t.Errorf("Conclude(%v) = %q, want %q", tc.hints, got, tc.want)
		}
	}
}

func TestMisreads(t *testing.T) {
	if Misreads(V187, V189) == "" || Misreads(V187, V1811) == "" {
		t.Error("1.8.7 reading native forms is not reported")
	}
	for _, p := range [][2]Dialect{{V189, V187}, {V1811, V187}, {V189, V1811}, {V1811, V189}, {V187, V187}} {
		if m := Misreads(p[0], p[1]); m != "" {
			t.Errorf("Misreads(%s, %s) = %q", p[0], p[1], m)
		}
	}
}

func TestFromHostPackageDatabase(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "var/lib/dpkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	status := "Package: libxtables12\nStatus: install ok installed\nVersion: 1.8.7-1\n\n" +
		"Package: iptables\nStatus: deinstall ok config-files\nVersion: 1.8.4-3\n\n" +
		"Package: iptables\nStatus: install ok installed\nVersion: 1.8.7-1\n"
	if err := os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), []byte(status), 0o644); err != nil {
		t.Fatal(err)
	}
	f := FromHost(root)
	if f.Dialect != V187 || f.Source != "package database" {
		t.Errorf("FromHost = %+v", f)
	}
	if f := FromHost(t.TempDir()); f.Dialect != "" {
		t.Errorf("FromHost(empty root) = %+v", f)
	}
}

// TestImageSkew: the router hears of a skew only when the image's version
// names a dialect other than the one found on the host (not merely
// guessed), and it is unsafe when either side misreads the other.
func TestImageSkew(t *testing.T) {
	asked := 0
	host := func(d Dialect, source string) func() Finding {
		return func() Finding { asked++; return Finding{Dialect: d, Source: source} }
	}
	for _, tc := range []struct {
		version string
		host    func() Finding
		skew    bool
		unsafe  bool
	}{
		{"1.8.7", host(V189, "rules"), true, true},
		{"1.8.9", host(V187, "package database"), true, true},
		{"1.8.9", host(V189, "rules"), false, false},
		{"1.8.7", host(V189, "default"), false, false},
		{"1.8.11", host(V189, "rules"), true, false},
	} {
		why, unsafe := ImageSkew(tc.version, tc.host)
		if (why != "") != tc.skew || unsafe != tc.unsafe {
			t.Errorf("%s on %+v: %q, unsafe %v", tc.version, tc.host(), why, unsafe)
		}
	}
	asked = 0
	if why, _ := ImageSkew("", host(V187, "rules")); why != "" || asked != 0 {
		t.Errorf("an unknown version: %q, host asked %d times", why, asked)
	}
}
