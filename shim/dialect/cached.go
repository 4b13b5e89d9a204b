package dialect

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Cached is a finding kept between calls (per network namespace and
// family), with what it rests on, so the next call can re-check it for
// the price of a netlink round trip or a few instead of a fingerprint
// dump.
type Cached struct {
	Finding Finding `json:"finding"`
	Basis   Basis   `json:"basis"`
}

// Basis is what a finding rests on, for its re-check:
//
//   - a finding from rules rests on the rules its clues were seen in
//     (Finding.Clues[i].Rule): it holds while each of them still says
//     what it said (the rule at that place, decoded again, gives the same
//     hint), whatever else changes;
//   - a finding the rules did not decide (an empty host, rules that do
//     not tell) rests on the ruleset as it was: it holds while the
//     nf_tables generation is Gen (once rules appear they may decide);
//   - a finding the host's package database or binary decided (or
//     helped decide) also rests on those files: HostFiles is their
//     stamp (HostStamp).
//
// Either way it holds for at most Trust after At: rules of another
// writer that appear next to the ones seen (iptables-nft 1.8.7 next to
// 1.8.9: mixed, 1.8.7's forms must be written) are noticed within that
// time.
type Basis struct {
	// FromRules says the rules decided the dialect (Finding.Clues with a
	// Rule are the ones to re-check).
	FromRules bool `json:"from_rules,omitempty"`
	// Gen is the nf_tables generation the rules were read at.
	Gen uint32 `json:"gen"`
	// HostFiles is HostStamp of the host root when the fallback was
	// asked; "" when it was not.
	HostFiles string    `json:"host_files,omitempty"`
	At        time.Time `json:"at"`
}

// Trust bounds how long a cached finding stands without a full
// fingerprint. A variable only so tests can shorten it.
var Trust = 30 * time.Second

// Fresh reports whether the basis is recent enough to be re-checked
// rather than replaced (at is now; a time from the future is not fresh).
func (b Basis) Fresh(now time.Time) bool {
	return !b.At.IsZero() && !b.At.After(now) && now.Sub(b.At) < Trust
}

// RuleClues are the clues of the finding that name their rule.
func (c Cached) RuleClues() []Clue {
	var out []Clue
	for _, cl := range c.Finding.Clues {
		if cl.Rule != nil {
			out = append(out, cl)
		}
	}
	return out
}

// FileStamp identifies one version of a file cheaply (device, inode,
// size, modification time): a file replaced or rewritten gets another
// stamp. "" when the file cannot be looked at; "-" when it does not
// exist.
func FileStamp(path string) string {
	fi, err := os.Stat(path)
	if os.IsNotExist(err) {
		return "-"
	}
	if err != nil {
		return ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%d:%d:%d:%d", st.Dev, st.Ino, fi.Size(), fi.ModTime().UnixNano())
}

// HostStamp stamps the files FromHost reads under root: a package
// upgrade on the host changes it.
func HostStamp(root string) string {
	parts := []string{FileStamp(filepath.Join(root, "var/lib/dpkg/status"))}
	for _, b := range hostBinaries {
		parts = append(parts, FileStamp(filepath.Join(root, b)))
	}
	return strings.Join(parts, " ")
}

// ImageVersion is the version built into one binary, as BinaryVersion
// read it, with the binary's FileStamp when it was read.
type ImageVersion struct {
	Path    string `json:"path"`
	Stamp   string `json:"stamp"`
	Version string `json:"version"`
}

// Holds reports whether the record is path's, and path is still the file
// it was read from.
func (v ImageVersion) Holds(path string) bool {
	return v.Path == path && v.Stamp != "" && v.Stamp != "-" && FileStamp(path) == v.Stamp
}

// ReadImageVersion reads path's version (BinaryVersion) with its stamp,
// the stamp taken first so a binary replaced meanwhile stamps otherwise
// next time.
func ReadImageVersion(path string) ImageVersion {
	st := FileStamp(path)
	return ImageVersion{Path: path, Stamp: st, Version: BinaryVersion(path)}
}
