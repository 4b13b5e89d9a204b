// Package execbackend carries out iptables calls by running the host's real
// iptables binary (legacy or nf_tables), found by absolute path and by
// identity, never through PATH (PATH finds the shim itself).
//
// Locate picks the binary for one mode, family and tool; Backend runs it as
// a child (when the caller must do work afterwards) and Exec replaces the
// process with it (when nothing has to follow). Inventory lists every
// iptables binary an image holds, for the doctor.
package execbackend

import (
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// DefaultDirs are the directories searched, in order, when LocateOptions
// names none. They are the places distributions and kube-proxy images put
// iptables (1.6 images: /sbin; 1.8 and later: /usr/sbin; Fedora 42+: /usr/bin).
var DefaultDirs = []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"}

// SelfExe is where the running shim's own executable is found, to tell it
// apart from a backend by device and inode.
const SelfExe = "/proc/self/exe"

// LocateOptions says where backends are looked for.
type LocateOptions struct {
	// Root is a prefix every searched path (and every absolute symlink
	// target) is taken under, as if it were "/"; "" means the real root.
	// Tests point it at a fake image.
	Root string
	// Dirs are the directories searched in order; nil means DefaultDirs.
	Dirs []string
	// Self is a path to the shim's own executable (outside Root); a
	// candidate that is the same file is never used. "" means SelfExe.
	Self string
}

func (o LocateOptions) dirs() []string {
	if o.Dirs == nil {
		return DefaultDirs
	}
	return o.Dirs
}

func (o LocateOptions) self() string {
	if o.Self == "" {
		return SelfExe
	}
	return o.Self
}

// Kind is what a backend file is, told from its (resolved) file name.
type Kind string

const (
	// KindNFTMulti is iptables 1.8+ xtables-nft-multi.
	KindNFTMulti Kind = "xtables-nft-multi"
	// KindLegacyMulti is iptables 1.8+ xtables-legacy-multi.
	KindLegacyMulti Kind = "xtables-legacy-multi"
	// KindXtablesMulti is the iptables 1.4/1.6 multi-call binary
	// (xtables-multi, or the older iptables-multi/ip6tables-multi); it is
	// always legacy and dispatches on the plain program name in argv[0].
	KindXtablesMulti Kind = "xtables-multi"
	// KindNFTNamed is a file named iptables-nft* that is not a known
	// multi-call binary.
	KindNFTNamed Kind = "iptables-nft"
	// KindLegacyNamed is a file named iptables-legacy* that is not a known
	// multi-call binary.
	KindLegacyNamed Kind = "iptables-legacy"
	// KindUnknown is a file whose name says nothing about its backend (a
	// plain /usr/sbin/iptables that is a regular file, a wrapper, the shim).
	KindUnknown Kind = "unknown"
)

// Mode is the backend a kind of file drives, "" for KindUnknown.
func (k Kind) Mode() backend.Mode {
	switch k {
	case KindNFTMulti, KindNFTNamed:
		return backend.NFT
	case KindLegacyMulti, KindXtablesMulti, KindLegacyNamed:
		return backend.Legacy
	}
	return ""
}

// kindOf classifies a file by its base name. Only the name is looked at:
// running `--version` would cost a fork on every call.
func kindOf(base string) Kind {
	switch base {
	case "xtables-nft-multi":
		return KindNFTMulti
	case "xtables-legacy-multi":
		return KindLegacyMulti
	case "xtables-multi", "iptables-multi", "ip6tables-multi":
		return KindXtablesMulti
	}
	for _, p := range []string{"iptables-", "ip6tables-"} {
		if strings.HasPrefix(base, p+"nft") {
			return KindNFTNamed
		}
		if strings.HasPrefix(base, p+"legacy") {
			return KindLegacyNamed
		}
	}
	return KindUnknown
}

// Binary is a backend program ready to run.
type Binary struct {
	// Path is the file to execute: symlinks resolved, Root prefix included.
	Path string
	// Argv0 is the program name to pass as argv[0], so that a multi-call
	// binary dispatches to the right tool (e.g. "ip6tables-save"; see
	// argv0For).
	Argv0 string
	// Kind is what the resolved file is; Kind.Mode() is its backend.
	Kind Kind
	// Found is the path (inside Root) where the candidate was found, before
	// symlinks were resolved, e.g. /usr/sbin/iptables-nft-save.
	Found string
}

// candidate is one file name to look for.
type candidate struct {
	name string
	// explicit is set for names that say their backend themselves
	// (xtables-nft-multi, iptables-legacy, ...): such a name is trusted
	// unless its resolved file is known to be the other backend. A plain
	// name (iptables) must resolve to a file known to be of the mode.
	explicit bool
}

// modedName is a program name with the backend infix, e.g.
// ("ip6tables-save", nft) -> "ip6tables-nft-save".
func modedName(plain string, m backend.Mode) string {
	base, suffix, _ := strings.Cut(plain, "-")
	if suffix != "" {
		suffix = "-" + suffix
	}
	return base + "-" + string(m) + suffix
}

// candidates lists, in preference order, the files a mode may run for one
// tool.
func candidates(m backend.Mode, fam syntax.Family, tool backend.Tool) []candidate {
	plain := backend.ProgramName(tool, fam)
	named := modedName(plain, m)
	switch m {
	case backend.NFT:
		return []candidate{{"xtables-nft-multi", true}, {named, true}, {plain, false}}
	case backend.Legacy:
		return []candidate{{"xtables-legacy-multi", true}, {named, true}, {"xtables-multi", true}, {plain, false}}
	}
	return nil
}

// argv0For is the program name a located file is called by. Every known
// multi-call binary (1.8's xtables-nft-multi and xtables-legacy-multi as
// well as 1.4/1.6's xtables-multi) is given the plain name the caller used:
// each maps it to its own backend, and iptables-nft prints argv[0] in its
// messages ("iptables-restore v1.8.9 (nf_tables): ..."), so the caller sees
// exactly what an unshimmed host's /usr/sbin/iptables-restore would print.
// A file of unknown make keeps the name it was found under, which is the
// one it is known to answer to.
func argv0For(k Kind, found string, fam syntax.Family, tool backend.Tool) string {
	switch k {
	case KindNFTMulti, KindLegacyMulti, KindXtablesMulti:
		return backend.ProgramName(tool, fam)
	}
	return path.Base(found)
}

// Locate finds the real binary that carries out tool for fam in mode. The
// error for a missing backend is an *ipterr.Error of class Other whose
// one-line message names the mode and the paths searched.
func Locate(opts LocateOptions, mode backend.Mode, fam syntax.Family, tool backend.Tool) (Binary, error) {
	self, haveSelf := selfID(opts.self())
	cands := candidates(mode, fam, tool)
	if cands == nil {
		return Binary{}, ipterr.New(ipterr.Other, "iptables-shim: unknown backend mode %q", mode)
	}
	for _, c := range cands {
		for _, dir := range opts.dirs() {
			p := path.Join(dir, c.name)
			e, ok := inspect(opts.Root, p, self, haveSelf)
			if !ok || !e.Usable {
				continue
			}
			if m := e.Kind.Mode(); m != mode && (m != "" || !c.explicit) {
				continue
			}
			return Binary{Path: hostPath(opts.Root, e.Resolved), Argv0: argv0For(e.Kind, p, fam, tool), Kind: e.Kind, Found: p}, nil
		}
	}
	names := make([]string, len(cands))
	for i, c := range cands {
		names[i] = c.name
	}
	dirs := make([]string, len(opts.dirs()))
	for i, d := range opts.dirs() {
		dirs[i] = hostPath(opts.Root, d)
	}
	return Binary{}, ipterr.New(ipterr.Other,
		"iptables-shim: no %s backend for %s: looked for %s in %s",
		mode, backend.ProgramName(tool, fam), strings.Join(names, ", "), strings.Join(dirs, ", "))
}

// Entry is one iptables-related file found in an image, for the doctor.
type Entry struct {
	// Path is where it was found (inside Root), before resolving symlinks.
	Path string
	// Resolved is the file it leads to (inside Root); "" when resolving
	// failed.
	Resolved string
	// Kind is what Resolved is, judged by its name.
	Kind Kind
	// Usable is set when the file could be run as a backend: a non-empty
	// executable regular file that is not the shim itself.
	Usable bool
	// Why says why it is not usable ("" when it is).
	Why string
}

// inventoryNames are every file name the shim knows for iptables programs.
func inventoryNames() []string {
	names := []string{"xtables-nft-multi", "xtables-legacy-multi", "xtables-multi", "iptables-multi", "ip6tables-multi"}
	for _, fam := range []syntax.Family{syntax.IPv4, syntax.IPv6} {
		for _, tool := range []backend.Tool{backend.Iptables, backend.Save, backend.Restore} {
			plain := backend.ProgramName(tool, fam)
			names = append(names, plain, modedName(plain, backend.NFT), modedName(plain, backend.Legacy))
		}
	}
	return names
}

// Inventory lists every iptables program file present in the searched
// directories, usable or not. A directory reached twice (/sbin -> usr/sbin)
// is listed once.
func Inventory(opts LocateOptions) []Entry {
	self, haveSelf := selfID(opts.self())
	seenDir := map[string]bool{}
	var out []Entry
	for _, dir := range opts.dirs() {
		rd, err := resolveIn(opts.Root, dir)
		if err != nil || seenDir[rd] {
			continue
		}
		seenDir[rd] = true
		for _, n := range inventoryNames() {
			if e, ok := inspect(opts.Root, path.Join(dir, n), self, haveSelf); ok {
				out = append(out, e)
			}
		}
	}
	return out
}

// inspect looks at the file at p (inside root). ok is false when nothing is
// there at all; otherwise the Entry says what it is and whether it can run.
func inspect(root, p string, self fileID, haveSelf bool) (Entry, bool) {
	if _, err := os.Lstat(hostPath(root, p)); err != nil {
		return Entry{}, false
	}
	e := Entry{Path: p, Kind: KindUnknown}
	resolved, err := resolveIn(root, p)
	if err != nil {
		e.Why = fmt.Sprintf("cannot resolve: %v", err)
		return e, true
	}
	e.Resolved = resolved
	e.Kind = kindOf(path.Base(resolved))
	fi, err := os.Stat(hostPath(root, resolved))
	switch {
	case err != nil:
		e.Why = err.Error()
	case !fi.Mode().IsRegular():
		e.Why = "not a regular file"
	case fi.Size() == 0:
		e.Why = "empty file"
	case fi.Mode().Perm()&0o111 == 0:
		e.Why = "not executable"
	default:
		if id, ok := idOf(fi); ok && haveSelf && id == self {
			e.Why = "is the shim itself"
			break
		}
		e.Usable = true
	}
	return e, true
}
