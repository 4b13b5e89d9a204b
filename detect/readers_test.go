package detect

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	xtfake "github.com/iptables-shim/iptables-shim/detect/xtables/fake"
	nftfake "github.com/iptables-shim/iptables-shim/internal/nfnl/fake"
	"github.com/iptables-shim/iptables-shim/shim/netfilter"
)

// TestChainsOnFakes: the guard's lookups answer which of the names are
// chains of the table, in both backends, whether nf_tables is asked name
// by name or (past lookupsBeforeListing) by one listing; a missing table,
// or a family without x_tables, has none. (The kernel's answers are
// covered through the guard's namespace tests, test/e2e.)
func TestChainsOnFakes(t *testing.T) {
	t.Setenv("XTABLES_LOCKFILE", filepath.Join(t.TempDir(), "xtables.lock"))
	s := &scenario{t: t, nft: nftfake.New(), legacy: xtfake.New()}
	payload := "*nat\n:KUBE-MARK-DROP - [0:0]\n:KUBE-SERVICES - [0:0]\nCOMMIT\n"
	s.load("iptables-nft-restore", payload)
	s.load("iptables-legacy-restore", payload)
	many := []string{"KUBE-MARK-DROP", "KUBE-SERVICES"}
	for i := range lookupsBeforeListing {
		many = append(many, fmt.Sprintf("KUBE-SVC-%d", i))
	}
	for _, mode := range []netfilter.Mode{netfilter.NFT, netfilter.Legacy} {
		c := Chains{Mode: mode, Family: netfilter.IPv4, NFT: NFTProber{Open: s.nft.Opener()}, Legacy: LegacyProber{Kernel: s.legacy}}
		for _, tc := range []struct {
			names, want []string
		}{
			{[]string{"KUBE-MARK-DROP", "KUBE-MARK-MASQ"}, []string{"KUBE-MARK-DROP"}},
			{many, []string{"KUBE-MARK-DROP", "KUBE-SERVICES"}},
		} {
			got, err := c.Existing("nat", tc.names)
			if keys := slices.Sorted(maps.Keys(got)); err != nil || !slices.Equal(keys, tc.want) {
				t.Errorf("%s, %d names: %v, %v; want %v", mode, len(tc.names), keys, err, tc.want)
			}
		}
		if got, err := c.Existing("raw", many); err != nil || len(got) != 0 {
			t.Errorf("%s: chains of a missing table: %v, %v", mode, got, err)
		}
	}
	s.legacy.Unload(netfilter.IPv6)
	c := Chains{Mode: netfilter.Legacy, Family: netfilter.IPv6, Legacy: LegacyProber{Kernel: s.legacy}}
	if got, err := c.Existing("nat", many); err != nil || len(got) != 0 {
		t.Errorf("without x_tables: %v, %v", got, err)
	}
}

// TestReadTablesOnFakes: doctor's full reads give the same chains, rule
// counts and jumps from either backend for the same payload, and say when
// a family has no x_tables.
func TestReadTablesOnFakes(t *testing.T) {
	t.Setenv("XTABLES_LOCKFILE", filepath.Join(t.TempDir(), "xtables.lock"))
	s := &scenario{t: t, nft: nftfake.New(), legacy: xtfake.New()}
	payload := "*nat\n:KUBE-MARK-DROP - [0:0]\n:KUBE-SERVICES - [0:0]\n-A OUTPUT -j KUBE-SERVICES\n-A KUBE-SERVICES -j KUBE-MARK-DROP\n-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000\nCOMMIT\n"
	s.load("iptables-nft-restore", payload)
	s.load("iptables-legacy-restore", payload)
	nft, err := NFTProber{Open: s.nft.Opener()}.ReadTables(context.Background(), netfilter.IPv4)
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := LegacyProber{Kernel: s.legacy}.ReadTables(context.Background(), netfilter.IPv4)
	if err != nil {
		t.Fatal(err)
	}
	// iptables-nft makes only the base chains a call uses; x_tables has
	// every built-in chain of the table.
	if len(nft) != 1 || len(legacy) != 1 || len(nft[0].Chains) != 3 {
		t.Fatalf("nf_tables %+v, legacy %+v", nft, legacy)
	}
	for _, c := range nft[0].Chains {
		if lc, ok := legacy[0].Chain(c.Name); !ok || !reflect.DeepEqual(lc, c) {
			t.Errorf("chain %+v in nf_tables, %+v in legacy", c, lc)
		}
	}
	s.legacy.Unload(netfilter.IPv6)
	if err := (LegacyProber{Kernel: s.legacy}).Loaded(netfilter.IPv6); !IsUnavailable(err) {
		t.Errorf("an unloaded family: %v", err)
	}
	if err := (LegacyProber{Kernel: s.legacy}).Loaded(netfilter.IPv4); err != nil {
		t.Errorf("a loaded family: %v", err)
	}
}
