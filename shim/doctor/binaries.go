package doctor

import (
	"bytes"
	"io"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/iptables-shim/iptables-shim/internal/rootfs"
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/execbackend"
)

// versionString finds how iptables 1.8 binaries carry their version:
// "1.8.9 (nf_tables)" or "1.8.9 (legacy)", the first in data. It returns
// the version and the backend's word ("" when there is none). Matched by
// hand: linking package regexp costs every call of the shim (this package
// is linked into it) its package initialisation.
func versionString(data []byte) (version, backendWord string) {
	digits := func(i int) int {
		j := i
		for j < len(data) && data[j] >= '0' && data[j] <= '9' {
			j++
		}
		return j
	}
	for i := 0; i < len(data); i++ {
		if data[i] < '0' || data[i] > '9' || (i > 0 && data[i-1] >= '0' && data[i-1] <= '9') {
			continue
		}
		a := digits(i)
		if a >= len(data) || data[a] != '.' {
			continue
		}
		b := digits(a + 1)
		if b == a+1 || b >= len(data) || data[b] != '.' {
			continue
		}
		c := digits(b + 1)
		if c == b+1 {
			continue
		}
		for _, word := range []string{"nf_tables", "legacy"} {
			if bytes.HasPrefix(data[c:], []byte(" ("+word+")")) {
				return string(data[i:c]), word
			}
		}
	}
	return "", ""
}

// maxScan bounds how much of a binary is read for its version string.
const maxScan = 8 << 20

// hostDirs are where the host's binaries are looked for: the shim's default
// backend directories and /usr/local/sbin, where hand-built iptables land.
func hostDirs() []string {
	return append(append([]string{}, execbackend.DefaultDirs...), "/usr/local/sbin")
}

// findBinaries lists the iptables program files execbackend's inventory
// finds (the same search, never through PATH, that the shim makes), with
// their versions read from the files: never running them, since a host
// binary may not run here and the name may be this shim.
func findBinaries(opts execbackend.LocateOptions) []Binary {
	out := []Binary{}
	self, haveSelf := selfID(opts.Self)
	root := rootfs.Root(opts.Root)
	versions := map[string]Binary{}
	for _, e := range execbackend.Inventory(opts) {
		b := Binary{Path: e.Path, Target: e.Resolved, Kind: string(e.Kind), Usable: e.Usable, Why: e.Why, Backend: e.Kind.Mode()}
		if e.Resolved == "" {
			out = append(out, b)
			continue
		}
		if id, err := root.Identity(e.Resolved); err == nil && haveSelf && id == self {
			b.Shim, b.Backend = true, ""
			out = append(out, b)
			continue
		}
		v, ok := versions[e.Resolved]
		if !ok {
			v = readVersion(root.Host(e.Resolved))
			versions[e.Resolved] = v
		}
		if v.Version != "" {
			b.Version, b.Backend = v.Version, v.Backend
		}
		out = append(out, b)
	}
	return out
}

// selfID is the identity of the running shim (or of self when set); os.Stat
// follows /proc/self/exe, which resolving by name could not.
func selfID(self string) (rootfs.FileID, bool) {
	if self == "" {
		self = execbackend.SelfExe
	}
	fi, err := os.Stat(self)
	if err != nil {
		return rootfs.FileID{}, false
	}
	return rootfs.IDOf(fi)
}

func readVersion(file string) Binary {
	f, err := os.Open(file)
	if err != nil {
		return Binary{}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxScan))
	if err != nil {
		return Binary{}
	}
	v, word := versionString(data)
	if v == "" {
		return Binary{}
	}
	mode := backend.Legacy
	if word == "nf_tables" {
		mode = backend.NFT
	}
	return Binary{Version: v, Backend: mode}
}

// binaryGroup is the files that lead to one target, for people: a Debian
// image has a dozen names for xtables-nft-multi.
type binaryGroup struct {
	first Binary
	names []string
}

// groupBinaries groups binaries by the file they resolve to, in order of
// first appearance.
func groupBinaries(bs []Binary) []binaryGroup {
	var out []binaryGroup
	at := map[string]int{}
	for _, b := range bs {
		key := b.Target
		if key == "" {
			key = "unresolved " + b.Path
		}
		i, ok := at[key]
		if !ok {
			i = len(out)
			at[key] = i
			out = append(out, binaryGroup{first: b})
		}
		name := b.Path
		if path.Dir(b.Path) == path.Dir(b.Target) {
			name = path.Base(b.Path)
		}
		if b.Path != b.Target {
			out[i].names = append(out[i].names, name)
		}
	}
	return out
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
