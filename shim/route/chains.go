package route

import (
	"context"
	"errors"
	"time"

	"github.com/iptables-shim/iptables-shim/detect/nftquery"
	"github.com/iptables-shim/iptables-shim/detect/xtables"
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// kernelChains answers the guard's "which of these chains exist?" from the
// kernel, for one mode and family, without running any binary and without
// creating a table.
type kernelChains struct {
	mode backend.Mode
	fam  syntax.Family
}

// lookupsBeforeListing is how many chains are looked up one by one before
// listing the table's chains is cheaper (a 1.28 partial sync can jump to
// thousands of chains it did not declare).
const lookupsBeforeListing = 16

func (k kernelChains) Existing(table string, names []string) (map[string]bool, error) {
	if k.mode == backend.Legacy {
		return legacyChains(k.fam, table, names)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := nftquery.Dial(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	out := map[string]bool{}
	if len(names) > lookupsBeforeListing {
		t, err := c.Table(k.fam, table)
		if err == nil {
			return pick(names, func(n string) bool { _, ok := t.Chain(n); return ok }), nil
		}
		// A missing table answers ENOENT; the lookups below say "absent".
	}
	for _, n := range names {
		ok, err := c.HasChain(k.fam, table, n)
		if err != nil {
			return nil, err
		}
		if ok {
			out[n] = true
		}
	}
	return out, nil
}

func legacyChains(fam syntax.Family, table string, names []string) (map[string]bool, error) {
	r, err := xtables.Open(fam)
	if errors.Is(err, xtables.ErrUnavailable) {
		return map[string]bool{}, nil // no x_tables: nothing exists there
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	// One copy of the table, walked for chain heads only (an unlisted table
	// is never asked for: that would make the kernel create it).
	return r.ChainsIn(table, names)
}

func pick(names []string, has func(string) bool) map[string]bool {
	out := map[string]bool{}
	for _, n := range names {
		if has(n) {
			out[n] = true
		}
	}
	return out
}
