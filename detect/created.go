package detect

import (
	"fmt"

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

// createdDir holds one file per network namespace, <key>.json (see NetNS).
const createdDir = "created"

// RecordCreated adds chains to the current network namespace's created-chains
// file under cacheDir (normally /run/iptables-shim). The guard calls it right
// after it creates a chain. The file is rewritten atomically under a lock, so
// concurrent callers lose nothing. It is keyed by the namespace's identity
// (NetNS), never by its reusable inode, so a new namespace never inherits a
// dead one's chains; without such an identity nothing is recorded and the
// error is ErrNoNetNSIdentity.
func RecordCreated(cacheDir string, chains ...CreatedChain) error {
	err := updateRecord(cacheDir, createdDir, func(list *[]CreatedChain) {
		set := CreatedSet{}
		for _, c := range *list {
			set[c] = true
		}
		for _, c := range chains {
			if !set[c] {
				set[c] = true
				*list = append(*list, c)
			}
		}
	})
	if err != nil {
		return fmt.Errorf("recording created chains: %w", err)
	}
	return nil
}

// LoadCreated reads the current network namespace's created chains; none
// recorded is an empty set. A namespace without a safe identity has none
// (and the error says so).
func LoadCreated(cacheDir string) (CreatedSet, error) {
	set := CreatedSet{}
	list, _, err := loadRecord[[]CreatedChain](cacheDir, createdDir)
	if err != nil {
		return set, fmt.Errorf("reading created chains: %w", err)
	}
	for _, c := range list {
		set[c] = true
	}
	return set, nil
}
