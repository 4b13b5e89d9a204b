package detect

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"github.com/iptables-shim/iptables-shim/shim/netfilter"
)

// dialectDir holds one file per network namespace, <key>.json (see NetNS):
// the host's iptables-nft dialect as last found, per family, and the
// versions of the image's binaries, so a call re-checks them instead of
// finding them again.
const dialectDir = "dialect"

// DialectRecord is what is kept per network namespace.
type DialectRecord struct {
	// Families are the findings by family name ("ipv4", "ipv6").
	Families map[string]dialect.Cached `json:"families,omitempty"`
	// Images are the image binaries' versions, by path.
	Images map[string]dialect.ImageVersion `json:"images,omitempty"`
}

// LoadDialect reads the calling network namespace's dialect record; an
// empty record when there is none.
func LoadDialect(cacheDir string) (DialectRecord, error) {
	r, _, err := loadRecord[DialectRecord](cacheDir, dialectDir)
	if err != nil {
		return DialectRecord{}, fmt.Errorf("reading the dialect record: %w", err)
	}
	return r, nil
}

// RecordDialect rewrites the calling network namespace's dialect record
// with change applied, atomically under its lock. Best effort for the
// caller, like RecordCreated.
func RecordDialect(cacheDir string, change func(*DialectRecord)) error {
	if err := updateRecord(cacheDir, dialectDir, change); err != nil {
		return fmt.Errorf("recording the dialect: %w", err)
	}
	return nil
}

// DialectStore keeps the host's dialect findings and the image binaries'
// versions between calls, in the calling network namespace's record, read
// at most once per call. It is the native backend's DialectCache.
type DialectStore struct {
	cacheDir string
	record   func() DialectRecord
}

// NewDialectStore is the store of the record under cacheDir.
func NewDialectStore(cacheDir string) *DialectStore {
	return &DialectStore{cacheDir: cacheDir, record: sync.OnceValue(func() DialectRecord {
		r, _ := LoadDialect(cacheDir) // unreadable: found again
		return r
	})}
}

// LoadDialect is the cached finding for fam.
func (s *DialectStore) LoadDialect(fam netfilter.Family) (dialect.Cached, bool) {
	c, ok := s.record().Families[FamilyName(fam)]
	return c, ok
}

// StoreDialect records fam's finding; a read-only cache only costs the
// next call the fingerprint again.
func (s *DialectStore) StoreDialect(fam netfilter.Family, c dialect.Cached) {
	_ = RecordDialect(s.cacheDir, func(r *DialectRecord) {
		if r.Families == nil {
			r.Families = map[string]dialect.Cached{}
		}
		r.Families[FamilyName(fam)] = c
	})
}

// ImageVersion is the version built into the binary at path: the one
// recorded while the file is the same (device, inode, size, time), else
// read from the binary and recorded.
func (s *DialectStore) ImageVersion(path string) string {
	if v, ok := s.record().Images[path]; ok && v.Holds(path) {
		return v.Version
	}
	v := dialect.ReadImageVersion(path)
	if v.Stamp != "" && v.Stamp != "-" {
		_ = RecordDialect(s.cacheDir, func(r *DialectRecord) {
			if r.Images == nil {
				r.Images = map[string]dialect.ImageVersion{}
			}
			r.Images[path] = v
		})
	}
	return v.Version
}

// The record's body is one JSON string in a compact tab-separated form
// (MarshalJSON): it is read on every call, and decoding it field by field
// with encoding/json's reflection costs several times what the rest of a
// warm call's bookkeeping does. One line per item, fields quoted with
// strconv.Quote:
//
//	F family dialect source why from-rules gen host-files at(unix ns)
//	C family hint has-rule table chain handle what
//	I path stamp version

// MarshalJSON writes the compact form.
func (r DialectRecord) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	q := strconv.Quote
	for _, fam := range slices.Sorted(maps.Keys(r.Families)) {
		c := r.Families[fam]
		f := c.Finding
		fmt.Fprintf(&b, "F\t%s\t%s\t%s\t%s\t%t\t%d\t%s\t%d\n", q(fam), q(string(f.Dialect)), q(f.Source), q(f.Why),
			c.Basis.FromRules, c.Basis.Gen, q(c.Basis.HostFiles), c.Basis.At.UnixNano())
		for _, cl := range f.Clues {
			var rr dialect.RuleRef
			if cl.Rule != nil {
				rr = *cl.Rule
			}
			fmt.Fprintf(&b, "C\t%s\t%d\t%t\t%s\t%s\t%d\t%s\n", q(fam), int(cl.Hint), cl.Rule != nil, q(rr.Table), q(rr.Chain), rr.Handle, q(cl.What))
		}
	}
	for _, p := range slices.Sorted(maps.Keys(r.Images)) {
		v := r.Images[p]
		fmt.Fprintf(&b, "I\t%s\t%s\t%s\n", q(v.Path), q(v.Stamp), q(v.Version))
	}
	return json.Marshal(b.String())
}

// UnmarshalJSON reads the compact form; anything malformed is an error
// (the record is then found again).
func (r *DialectRecord) UnmarshalJSON(data []byte) error {
	*r = DialectRecord{}
	if string(data) == "null" {
		return nil
	}
	var text string
	if err := json.Unmarshal(data, &text); err != nil {
		return fmt.Errorf("dialect record: %w", err)
	}
	return r.readText(text)
}

// readLiteBody reads the record from the fast reader's value (see
// liteBody): the same string UnmarshalJSON reads.
func (r *DialectRecord) readLiteBody(v jsonValue) error {
	*r = DialectRecord{}
	switch v.kind {
	case 'z':
		return nil
	case 's':
		return r.readText(v.s)
	}
	return errJSONLite
}

// readText reads the compact form's text.
func (r *DialectRecord) readText(text string) error {
	bad := func(line string) error { return fmt.Errorf("dialect record: malformed line %q", line) }
	for _, line := range strings.Split(text, "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		str := func(i int) (string, bool) {
			s, err := strconv.Unquote(f[i])
			return s, err == nil
		}
		switch {
		case f[0] == "F" && len(f) == 9:
			fam, ok1 := str(1)
			d, ok2 := str(2)
			src, ok3 := str(3)
			why, ok4 := str(4)
			hf, ok5 := str(7)
			fromRules, err1 := strconv.ParseBool(f[5])
			gen, err2 := strconv.ParseUint(f[6], 10, 32)
			at, err3 := strconv.ParseInt(f[8], 10, 64)
			if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || err1 != nil || err2 != nil || err3 != nil {
				return bad(line)
			}
			if r.Families == nil {
				r.Families = map[string]dialect.Cached{}
			}
			c := r.Families[fam]
			c.Finding.Dialect, c.Finding.Source, c.Finding.Why = dialect.Dialect(d), src, why
			c.Basis = dialect.Basis{FromRules: fromRules, Gen: uint32(gen), HostFiles: hf, At: time.Unix(0, at)}
			r.Families[fam] = c
		case f[0] == "C" && len(f) == 8:
			fam, ok1 := str(1)
			table, ok2 := str(4)
			chain, ok3 := str(5)
			what, ok4 := str(7)
			hint, err1 := strconv.Atoi(f[2])
			hasRule, err2 := strconv.ParseBool(f[3])
			handle, err3 := strconv.ParseUint(f[6], 10, 64)
			c, known := r.Families[fam]
			if !ok1 || !ok2 || !ok3 || !ok4 || err1 != nil || err2 != nil || err3 != nil || !known {
				return bad(line)
			}
			cl := dialect.Clue{Hint: dialect.Hint(hint), What: what}
			if hasRule {
				cl.Rule = &dialect.RuleRef{Table: table, Chain: chain, Handle: handle}
			}
			c.Finding.Clues = append(c.Finding.Clues, cl)
			r.Families[fam] = c
		case f[0] == "I" && len(f) == 4:
			p, ok1 := str(1)
			st, ok2 := str(2)
			v, ok3 := str(3)
			if !ok1 || !ok2 || !ok3 {
				return bad(line)
			}
			if r.Images == nil {
				r.Images = map[string]dialect.ImageVersion{}
			}
			r.Images[p] = dialect.ImageVersion{Path: p, Stamp: st, Version: v}
		default:
			return bad(line)
		}
	}
	return nil
}
