package detect

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/iptables-shim/iptables-shim/shim/backend"
)

// CreatedChain is a chain this shim created itself (the missing-chain guard's
// KUBE-MARK-DROP, say). Detection never counts such a chain as evidence, so a
// wrong early choice cannot feed itself.
type CreatedChain struct {
	Mode   backend.Mode `json:"mode"`
	Family string       `json:"family"` // "ipv4" or "ipv6"
	Table  string       `json:"table"`
	Chain  string       `json:"chain"`
}

// CreatedSet is a set of created chains.
type CreatedSet map[CreatedChain]bool

// Has reports whether a chain is in the set (a nil set has nothing).
func (s CreatedSet) Has(m backend.Mode, family string, ref ChainRef) bool {
	return s[CreatedChain{Mode: m, Family: family, Table: ref.Table, Chain: ref.Chain}]
}

// createdPath is <cacheDir>/created/<netns inode>.json: one file per
// network namespace, like the decision cache.
func createdPath(cacheDir string, ns uint64) string {
	return filepath.Join(cacheDir, "created", fmt.Sprintf("%d.json", ns))
}

// RecordCreated adds chains to the current network namespace's created-chains
// file under cacheDir (normally /run/iptables-shim). The guard calls it right
// after it creates a chain. The file is a JSON array of CreatedChain,
// rewritten atomically under a lock, so concurrent callers lose nothing.
func RecordCreated(cacheDir string, chains ...CreatedChain) error {
	ns, err := NetNSKey()
	if err != nil {
		return err
	}
	path := createdPath(cacheDir, ns)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("recording created chains: %w", err)
	}
	unlock, err := lockFile(path + ".lock")
	if err != nil {
		return fmt.Errorf("recording created chains: %w", err)
	}
	defer unlock()
	set, err := readCreated(path)
	if err != nil {
		return err
	}
	for _, c := range chains {
		set[c] = true
	}
	list := make([]CreatedChain, 0, len(set))
	for c := range set {
		list = append(list, c)
	}
	data, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return fmt.Errorf("recording created chains: %w", err)
	}
	return writeAtomic(path, append(data, '\n'))
}

// LoadCreated reads the current network namespace's created-chains file; a
// missing file is an empty set.
func LoadCreated(cacheDir string) (CreatedSet, error) {
	ns, err := NetNSKey()
	if err != nil {
		return nil, err
	}
	return readCreated(createdPath(cacheDir, ns))
}

func readCreated(path string) (CreatedSet, error) {
	set := CreatedSet{}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return set, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading created chains: %w", err)
	}
	var list []CreatedChain
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("reading created chains %s: %w", path, err)
	}
	for _, c := range list {
		set[c] = true
	}
	return set, nil
}
