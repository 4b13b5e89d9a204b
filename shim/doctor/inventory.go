package doctor

import (
	"context"
	"errors"
	"os"

	"github.com/iptables-shim/iptables-shim/detect"
	"github.com/iptables-shim/iptables-shim/detect/nftquery"
	"github.com/iptables-shim/iptables-shim/detect/ruleset"
	"github.com/iptables-shim/iptables-shim/detect/xtables"
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// Inventory is every table of every backend and family, as read.
type Inventory struct {
	Backends []BackendTables
}

// BackendTables is one backend's tables per family.
type BackendTables struct {
	Mode     backend.Mode
	Families []FamilyTables
}

// FamilyTables is one backend and family: its tables, or why they could not
// be read.
type FamilyTables struct {
	Family      string
	Tables      []ruleset.Table
	Err         error
	Unavailable bool
}

// family returns the tables of one backend and family (empty when absent).
func (inv Inventory) family(m backend.Mode, fam string) FamilyTables {
	for _, b := range inv.Backends {
		if b.Mode != m {
			continue
		}
		for _, f := range b.Families {
			if f.Family == fam {
				return f
			}
		}
	}
	return FamilyTables{Family: fam}
}

// ReadInventory reads both backends in full. Its cost grows with the
// ruleset; the doctor is not on any hot path.
func ReadInventory(ctx context.Context) Inventory {
	var inv Inventory
	for _, m := range []backend.Mode{backend.NFT, backend.Legacy} {
		b := BackendTables{Mode: m}
		for _, f := range detect.Families() {
			var ft FamilyTables
			if m == backend.NFT {
				ft = readNFT(ctx, f)
			} else {
				ft = readLegacy(f)
			}
			ft.Family = detect.FamilyName(f)
			b.Families = append(b.Families, ft)
		}
		inv.Backends = append(inv.Backends, b)
	}
	return inv
}

func readNFT(ctx context.Context, f syntax.Family) FamilyTables {
	c, err := nftquery.Dial(ctx)
	if err != nil {
		return FamilyTables{Err: err, Unavailable: unavailable(err, nftquery.ErrUnavailable)}
	}
	defer c.Close()
	names, err := c.Tables(f)
	if err != nil {
		return FamilyTables{Err: err, Unavailable: unavailable(err, nftquery.ErrUnavailable)}
	}
	var ft FamilyTables
	for _, n := range names {
		t, err := c.Table(f, n)
		if err != nil {
			ft.Err = errors.Join(ft.Err, err)
			continue
		}
		ft.Tables = append(ft.Tables, *t)
	}
	return ft
}

func readLegacy(f syntax.Family) FamilyTables {
	r, err := xtables.Open(f)
	if err != nil {
		return FamilyTables{Err: err, Unavailable: unavailable(err, xtables.ErrUnavailable)}
	}
	defer r.Close()
	var ft FamilyTables
	for _, n := range r.Tables() {
		t, err := r.Table(n)
		if err != nil {
			ft.Err = errors.Join(ft.Err, err)
			continue
		}
		ft.Tables = append(ft.Tables, *t)
	}
	return ft
}

// unavailable says whether err means the subsystem is absent; a permission
// error never does (the reading could not be done: see unchecked).
func unavailable(err, absent error) bool {
	return errors.Is(err, absent) && !errors.Is(err, os.ErrPermission)
}
