package detect

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/shim/backend"
)

// DefaultCacheDir is where decisions are cached on a host.
const DefaultCacheDir = "/run/iptables-shim"

// cacheEntry is the cache file: <cacheDir>/netns-<key>.json (see NetNS).
type cacheEntry struct {
	recordHeader
	// Policy fingerprints the settings the decision was made under; a
	// different default, wait or host root re-decides.
	Policy   string   `json:"policy"`
	Decision Decision `json:"decision"`
	// Proof, when set, lets a strong decision skip re-reading its basis
	// for a while (see Options.cached).
	Proof *proof `json:"proof,omitempty"`
}

// proof records the last full re-check of a cached decision whose basis is
// costly to look up (a legacy table: the kernel copies all of it): the
// basis table's stamp, taken just before the check found the chain, and
// when. While the stamp is unchanged, and for at most proofTrust, the
// decision holds without the copy.
type proof struct {
	Stamp     string    `json:"stamp"`
	CheckedAt time.Time `json:"checked_at"`
}

func cachePath(dir string, n NetNS) string {
	return filepath.Join(dir, "netns-"+n.Key()+".json")
}

// leanEntry is a cacheEntry read without the decision's evidence, for
// callers that never show it (Options.Lean): building encoding/json's
// decoders for the evidence's types is most of what reading the cache
// costs a warm call.
type leanEntry struct {
	recordHeader
	Policy   string       `json:"policy"`
	Decision leanDecision `json:"decision"`
	Proof    *proof       `json:"proof,omitempty"`
}

// leanDecision is Decision without Evidence (and Cached, never stored).
type leanDecision struct {
	Mode      backend.Mode `json:"mode"`
	Reason    Reason       `json:"reason"`
	Detail    string       `json:"detail"`
	Warnings  []string     `json:"warnings,omitempty"`
	Basis     *Basis       `json:"basis,omitempty"`
	Split     bool         `json:"split"`
	DecidedAt time.Time    `json:"decided_at"`
}

// liteSkip: a lean entry has no evidence.
func (e *leanEntry) liteSkip() []string { return []string{"evidence"} }

// readLite reads a lean entry with the fast reader (see liteReader).
func (e *leanEntry) readLite(f *jsonFields) {
	e.recordHeader = f.header()
	e.Policy = f.str("policy")
	if d, ok := f.object("decision"); ok {
		e.Decision = leanDecision{
			Mode:      backend.Mode(d.str("mode")),
			Reason:    Reason(d.str("reason")),
			Detail:    d.str("detail"),
			Warnings:  d.strings("warnings"),
			Split:     d.boolean("split"),
			DecidedAt: d.time("decided_at"),
		}
		if b, ok := d.object("basis"); ok {
			e.Decision.Basis = &Basis{Mode: backend.Mode(b.str("mode")), Family: b.str("family"), Table: b.str("table"), Chain: b.str("chain")}
			d.err = errors.Join(d.err, b.err)
		}
		f.err = errors.Join(f.err, d.err)
	}
	if p, ok := f.object("proof"); ok {
		e.Proof = &proof{Stamp: p.str("stamp"), CheckedAt: p.time("checked_at")}
		f.err = errors.Join(f.err, p.err)
	}
}

func readCache(path string, n NetNS, policy string, lean bool) (Decision, *proof, bool) {
	if lean {
		var e leanEntry
		if ok, err := readRecord(path, n, &e); !ok || err != nil || e.Policy != policy || e.Decision.Mode == "" {
			return Decision{}, nil, false
		}
		l := e.Decision
		return Decision{Mode: l.Mode, Reason: l.Reason, Detail: l.Detail, Warnings: l.Warnings, Basis: l.Basis, Split: l.Split, DecidedAt: l.DecidedAt}, e.Proof, true
	}
	var e cacheEntry
	if ok, err := readRecord(path, n, &e); !ok || err != nil || e.Policy != policy || e.Decision.Mode == "" {
		return Decision{}, nil, false
	}
	return e.Decision, e.Proof, true
}

func writeCache(path string, n NetNS, policy string, d Decision, p *proof) error {
	d.Cached = false
	data, err := json.Marshal(cacheEntry{recordHeader: header(n), Policy: policy, Decision: d, Proof: p})
	if err != nil {
		return fmt.Errorf("encoding cache: %w", err)
	}
	return writeAtomic(path, append(data, '\n'))
}

// writeAtomic writes through a temporary file in the same directory and a
// rename, so a reader sees the old file or the new one, never a torn one.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp, 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, werr)
	}
	return nil
}

// lockFile takes an exclusive flock on path (created if needed) and returns
// its release. The lock dies with the process, so a crashed holder never
// wedges others.
func lockFile(path string) (func(), error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock %s: %w", path, err)
	}
	for {
		err = unix.Flock(fd, unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() { unix.Close(fd) }, nil
}
