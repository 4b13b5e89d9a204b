package detect

import (
	"context"
	"errors"
	"os"

	"github.com/iptables-shim/iptables-shim/detect/nftquery"
	"github.com/iptables-shim/iptables-shim/detect/ruleset"
	"github.com/iptables-shim/iptables-shim/detect/xtables"
	"github.com/iptables-shim/iptables-shim/shim/netfilter"
)

// TableReader reads a backend's tables in full, for doctor: chains, rule
// counts, jumps. Its cost grows with the ruleset; detection itself never
// reads this much. The kernel probers are TableReaders.
type TableReader interface {
	Mode() netfilter.Mode
	// ReadTables reads every table of the family. A table that could not
	// be read is left out and its error joined to the one returned.
	ReadTables(ctx context.Context, f netfilter.Family) ([]ruleset.Table, error)
}

// ReadTables reads every nf_tables table of the family.
func (p NFTProber) ReadTables(ctx context.Context, f netfilter.Family) ([]ruleset.Table, error) {
	c, err := p.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	names, err := c.Tables(f)
	if err != nil {
		return nil, err
	}
	var out []ruleset.Table
	for _, n := range names {
		t, terr := c.Table(f, n)
		if terr != nil {
			err = errors.Join(err, terr)
			continue
		}
		out = append(out, *t)
	}
	return out, err
}

// ReadTables reads every listed x_tables table of the family.
func (p LegacyProber) ReadTables(_ context.Context, f netfilter.Family) ([]ruleset.Table, error) {
	r, err := p.open(f)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []ruleset.Table
	for _, n := range r.Tables() {
		t, terr := r.Table(n)
		if terr != nil {
			err = errors.Join(err, terr)
			continue
		}
		out = append(out, *t)
	}
	return out, err
}

// Loaded says whether the family has x_tables here (its tables names file
// exists): no socket, so it needs no privileges.
func (p LegacyProber) Loaded(f netfilter.Family) error {
	k := p.Kernel
	if k == nil {
		_, err := xtables.TableNames(f)
		return err
	}
	_, err := k.TableNames(f)
	return err
}

// IsUnavailable says whether err, from a prober or a TableReader, means the
// subsystem is absent here; a permission error never does (the reading
// could not be done, which says nothing about the kernel).
func IsUnavailable(err error) bool {
	return (errors.Is(err, nftquery.ErrUnavailable) || errors.Is(err, xtables.ErrUnavailable)) && !errors.Is(err, os.ErrPermission)
}
