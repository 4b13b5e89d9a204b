package doctor

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/shim/backend"
)

// binaryNames are the iptables programs looked for.
func binaryNames() []string {
	return []string{"iptables", "iptables-nft", "iptables-legacy", "ip6tables", "xtables-nft-multi", "xtables-legacy-multi"}
}

func binaryDirs() []string { return []string{"usr/sbin", "sbin", "usr/bin", "bin", "usr/local/sbin"} }

// versionString is how iptables 1.8 binaries carry their version:
// "1.8.9 (nf_tables)" or "1.8.9 (legacy)".
var versionString = regexp.MustCompile(`(\d+\.\d+\.\d+) \((nf_tables|legacy)\)`)

// maxScan bounds how much of a binary is read for its version string.
const maxScan = 8 << 20

// findBinaries lists the iptables programs under root, reading versions from
// the files (never running them: a host binary may not run here, and the
// name may be this shim).
func findBinaries(root string) []Binary {
	out := []Binary{}
	var self unix.Stat_t
	haveSelf := unix.Stat("/proc/self/exe", &self) == nil
	seenDir := map[string]bool{}
	versions := map[string]Binary{}
	for _, dir := range binaryDirs() {
		real, err := resolveIn(root, dir)
		if err != nil || seenDir[real] {
			continue // merged /usr: /sbin is /usr/sbin
		}
		seenDir[real] = true
		for _, name := range binaryNames() {
			rel := filepath.Join(dir, name)
			target, err := resolveIn(root, rel)
			if err != nil {
				continue
			}
			full := filepath.Join(root, target)
			var st unix.Stat_t
			if unix.Stat(full, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
				continue
			}
			b := Binary{Path: "/" + rel, Target: "/" + target}
			if haveSelf && st.Dev == self.Dev && st.Ino == self.Ino {
				b.Shim = true
				out = append(out, b)
				continue
			}
			v, ok := versions[full]
			if !ok {
				v = readVersion(full)
				versions[full] = v
			}
			b.Version, b.Backend = v.Version, v.Backend
			if b.Backend == "" {
				b.Backend = modeFromName(target)
			}
			out = append(out, b)
		}
	}
	return out
}

// resolveIn follows symbolic links of rel inside root (absolute link targets
// are taken relative to root, as they would be on the host) and returns the
// resolved path relative to root.
func resolveIn(root, rel string) (string, error) {
	p := filepath.Clean("/" + rel)
	for range 16 {
		t, err := os.Readlink(filepath.Join(root, p))
		if err != nil {
			if _, serr := os.Stat(filepath.Join(root, p)); serr != nil {
				return "", serr
			}
			return strings.TrimPrefix(p, "/"), nil
		}
		if filepath.IsAbs(t) {
			p = filepath.Clean(t)
		} else {
			p = filepath.Clean(filepath.Join(filepath.Dir(p), t))
		}
	}
	return "", fmt.Errorf("%s: too many links", rel)
}

func readVersion(path string) Binary {
	f, err := os.Open(path)
	if err != nil {
		return Binary{}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxScan))
	if err != nil {
		return Binary{}
	}
	m := versionString.FindSubmatch(data)
	if m == nil {
		return Binary{}
	}
	mode := backend.Legacy
	if string(m[2]) == "nf_tables" {
		mode = backend.NFT
	}
	return Binary{Version: string(m[1]), Backend: mode}
}

func modeFromName(p string) backend.Mode {
	base := filepath.Base(p)
	switch {
	case strings.Contains(base, "legacy"):
		return backend.Legacy
	case strings.Contains(base, "nft"):
		return backend.NFT
	}
	return ""
}

// newestNFT is the highest iptables-nft version among binaries.
func newestNFT(bs []Binary) string {
	best := ""
	for _, b := range bs {
		if b.Backend == backend.NFT && b.Version != "" && (best == "" || versionLess(best, b.Version)) {
			best = b.Version
		}
	}
	return best
}

// versionLess compares dotted numeric versions.
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}
