package dialect

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// maxBinary bounds how much of a binary is read for its version.
const maxBinary = 16 << 20

// versionInBinary matches, at the start of b, the version string
// libxtables is built with (XTABLES_VERSION), NUL-terminated in the
// binary's read-only data, or followed by " (nf_tables)" where a version
// string has it baked in: "\x001.8.9\x00" or "\x001.8.9 (nf_tables)".
// It returns the version and the whole match ("" when none). Matched by
// hand, not with package regexp, whose package initialisation every call
// of the shim would pay.
func versionInBinary(b []byte) (version, match string) {
	digits := func(i int) int {
		j := i
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		return j
	}
	if !bytes.HasPrefix(b, []byte("\x001.")) {
		return "", ""
	}
	i := digits(3)
	if i == 3 || i >= len(b) || b[i] != '.' {
		return "", ""
	}
	j := digits(i + 1)
	if j == i+1 {
		return "", ""
	}
	switch rest := b[j:]; {
	case bytes.HasPrefix(rest, []byte("\x00")):
		return string(b[1:j]), string(b[:j+1])
	case bytes.HasPrefix(rest, []byte(" (nf_tables)")):
		return string(b[1:j]), string(b[:j+len(" (nf_tables)")])
	}
	return "", ""
}

// BinaryVersion reads the iptables version an xtables-nft-multi (or any
// iptables) binary was built as, without running it: running `--version`
// on every call would cost a fork. "" when none is found.
func BinaryVersion(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxBinary))
	if err != nil {
		return ""
	}
	// Cheap prefilter before the expression: most binaries hold few
	// "\x001." sequences.
	best := ""
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte("\x001."))
		if j < 0 {
			break
		}
		i += j
		end := min(len(data), i+32)
		if v, m := versionInBinary(data[i:end]); v != "" {
			if best == "" || strings.Contains(m, "nf_tables") {
				best = v
			}
		}
		i++
	}
	return best
}

// PackageVersion reads the version of the iptables package from a dpkg
// database under root (/var/lib/dpkg/status), as the host's package
// manager installed it; "" when there is none. RPM databases are not
// read (they are Berkeley DB or SQLite files).
func PackageVersion(root string) string {
	f, err := os.Open(filepath.Join(root, "var/lib/dpkg/status"))
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	pkg, installed, version := "", false, ""
	flush := func() string {
		if pkg == "iptables" && installed && version != "" {
			return version
		}
		return ""
	}
	for sc.Scan() {
		l := sc.Text()
		switch {
		case l == "":
			if v := flush(); v != "" {
				return v
			}
			pkg, installed, version = "", false, ""
		case strings.HasPrefix(l, "Package: "):
			pkg = strings.TrimPrefix(l, "Package: ")
		case strings.HasPrefix(l, "Status: "):
			installed = strings.HasSuffix(l, " installed")
		case strings.HasPrefix(l, "Version: "):
			version = strings.TrimPrefix(l, "Version: ")
		}
	}
	return flush()
}

// hostBinaries are where a host's xtables-nft-multi is looked for.
var hostBinaries = []string{"usr/sbin/xtables-nft-multi", "sbin/xtables-nft-multi", "usr/bin/xtables-nft-multi"}

// FromHost finds the dialect of the iptables installed on the host whose
// root file system is at root: its dpkg database first, else the version
// built into its xtables-nft-multi. A finding without a dialect when
// neither tells.
func FromHost(root string) Finding {
	if v := PackageVersion(root); v != "" {
		if d, ok := OfVersion(v); ok {
			return Finding{Dialect: d, Source: "package database", Why: "the host's iptables package is " + v,
				Clues: []Clue{{What: filepath.Join(root, "var/lib/dpkg/status") + ": iptables " + v}}}
		}
	}
	for _, b := range hostBinaries {
		p := filepath.Join(root, b)
		if v := BinaryVersion(p); v != "" {
			if d, ok := OfVersion(v); ok {
				return Finding{Dialect: d, Source: "host binary", Why: "the host's xtables-nft-multi is " + v,
					Clues: []Clue{{What: p + ": built as iptables " + v}}}
			}
		}
	}
	return Finding{Why: "the host's iptables version is unknown"}
}
