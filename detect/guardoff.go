package detect

import (
	"fmt"
	"time"

	"github.com/iptables-shim/iptables-shim/shim/backend"
)

// guardOffDir holds one file per network namespace, <key>.json (see NetNS):
// the calls the missing-chain guard could not look after.
const guardOffDir = "guard-off"

// GuardOff is a call the missing-chain guard let through unguarded because
// it could not find out which chains exist (a netlink timeout, a permission
// error): the call then runs as it would without the shim, so a restore can
// fail on a missing KUBE-MARK-DROP again.
type GuardOff struct {
	// Program is the name the shim was called by ("iptables-restore").
	Program string       `json:"program"`
	Mode    backend.Mode `json:"mode"`
	Error   string       `json:"error"`
	At      time.Time    `json:"at"`
}

// GuardOffRecord is what is kept per network namespace: how often it
// happened, when first, and the latest occurrence in full.
type GuardOffRecord struct {
	Count int       `json:"count"`
	First time.Time `json:"first"`
	Last  GuardOff  `json:"last"`
}

// RecordGuardOff notes one unguarded call in the calling network
// namespace's record under cacheDir. Like RecordCreated it is best effort
// for the caller, which must not fail an iptables call over it.
func RecordGuardOff(cacheDir string, g GuardOff) error {
	if g.At.IsZero() {
		g.At = time.Now().UTC()
	}
	err := updateRecord(cacheDir, guardOffDir, func(r *GuardOffRecord) {
		if r.Count == 0 {
			r.First = g.At
		}
		r.Count++
		r.Last = g
	})
	if err != nil {
		return fmt.Errorf("recording an unguarded call: %w", err)
	}
	return nil
}

// LoadGuardOff reads the calling network namespace's record; ok is false
// when the guard never had to stand aside here.
func LoadGuardOff(cacheDir string) (GuardOffRecord, bool, error) {
	r, ok, err := loadRecord[GuardOffRecord](cacheDir, guardOffDir)
	if err != nil {
		return r, false, fmt.Errorf("reading unguarded calls: %w", err)
	}
	return r, ok && r.Count > 0, nil
}
