package detect

import (
	"context"
	"errors"
	"time"

	"github.com/iptables-shim/iptables-shim/detect/xtables"
	"github.com/iptables-shim/iptables-shim/shim/netfilter"
)

// chainLookupTimeout bounds the guard's nf_tables lookups of one call.
const chainLookupTimeout = 5 * time.Second

// lookupsBeforeListing is how many chains are looked up one by one in
// nf_tables before listing the table's chains is cheaper (a 1.28 partial
// sync can jump to thousands of chains it did not declare).
const lookupsBeforeListing = 16

// Chains answers the missing-chain guard's question, "which of these chains
// exist in this table?", for one backend and family, without running any
// binary and without creating a table. It is the guard's guard.Chains; the
// router gets it from its wiring, so that it needs none of detection's
// readers itself.
type Chains struct {
	Mode   netfilter.Mode
	Family netfilter.Family
	// NFT and Legacy read the backends (their zero values: the kernel's).
	NFT    NFTProber
	Legacy LegacyProber
}

// Existing returns the subset of names that are chains of table.
func (c Chains) Existing(table string, names []string) (map[string]bool, error) {
	if c.Mode == netfilter.Legacy {
		return c.Legacy.chainsIn(c.Family, table, names)
	}
	return c.NFT.chainsIn(probeContext(context.Background(), chainLookupTimeout), c.Family, table, names)
}

// chainsIn looks the names up one by one (one request, one answer each);
// past lookupsBeforeListing it lists the table's chains once instead.
func (p NFTProber) chainsIn(ctx context.Context, f netfilter.Family, table string, names []string) (map[string]bool, error) {
	c, err := p.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	out := map[string]bool{}
	if len(names) > lookupsBeforeListing {
		t, err := c.Table(f, table)
		if err == nil {
			for _, n := range names {
				if _, ok := t.Chain(n); ok {
					out[n] = true
				}
			}
			return out, nil
		}
		// A missing table answers ENOENT; the lookups below say "absent".
	}
	for _, n := range names {
		ok, err := c.HasChain(f, table, n)
		if err != nil {
			return nil, err
		}
		if ok {
			out[n] = true
		}
	}
	return out, nil
}

// chainsIn reads one copy of the table, walked for chain heads only (an
// unlisted table is never asked for: that would make the kernel create
// it). Without x_tables nothing exists there.
func (p LegacyProber) chainsIn(f netfilter.Family, table string, names []string) (map[string]bool, error) {
	r, err := p.open(f)
	if errors.Is(err, xtables.ErrUnavailable) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.ChainsIn(table, names)
}
