package detect

import (
	"fmt"

	"github.com/iptables-shim/iptables-shim/shim/dialect"
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
