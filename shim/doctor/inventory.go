package doctor

import (
	"context"

	"github.com/iptables-shim/iptables-shim/detect"
	"github.com/iptables-shim/iptables-shim/detect/ruleset"
	"github.com/iptables-shim/iptables-shim/internal/nfnl"
	"github.com/iptables-shim/iptables-shim/shim/backend"
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

// ReadInventory reads both backends in full, through readers (detection's
// kernel probers when nil). Its cost grows with the ruleset; the doctor is
// not on any hot path.
func ReadInventory(ctx context.Context, readers []detect.TableReader) Inventory {
	if readers == nil {
		readers = []detect.TableReader{detect.NFTProber{}, detect.LegacyProber{}}
	}
	var inv Inventory
	for _, rd := range readers {
		b := BackendTables{Mode: rd.Mode()}
		for _, f := range detect.Families() {
			tables, err := rd.ReadTables(ctx, f)
			b.Families = append(b.Families, FamilyTables{Family: detect.FamilyName(f), Tables: tables, Err: err, Unavailable: detect.IsUnavailable(err)})
		}
		inv.Backends = append(inv.Backends, b)
	}
	return inv
}

// readers are the probers of o.Detect that read tables in full (nil: the
// kernel's).
func (o Options) readers() []detect.TableReader {
	var out []detect.TableReader
	for _, p := range o.Detect.Probers {
		if rd, ok := p.(detect.TableReader); ok {
			out = append(out, rd)
		}
	}
	return out
}

// legacy is the legacy prober of o.Detect (the kernel's when none).
func (o Options) legacy() detect.LegacyProber {
	for _, p := range o.Detect.Probers {
		if lp, ok := p.(detect.LegacyProber); ok {
			return lp
		}
	}
	return detect.LegacyProber{}
}

// nftOpener is how o.Detect's nf_tables prober opens nf_tables (nil: the
// kernel's).
func (o Options) nftOpener() nfnl.Opener {
	for _, p := range o.Detect.Probers {
		if np, ok := p.(detect.NFTProber); ok {
			return np.Open
		}
	}
	return nil
}
