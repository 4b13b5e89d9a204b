package detect

import (
	"context"
	"testing"

	"github.com/iptables-shim/iptables-shim/shim/netfilter"
)

// fakeProber holds chains as "family table/CHAIN" and counts lookups.
type fakeProber struct {
	mode    netfilter.Mode
	chains  map[string]bool
	lookups int
}

func (p *fakeProber) Mode() netfilter.Mode { return p.mode }

func (p *fakeProber) Probe(_ context.Context, f netfilter.Family, q Query) FamilyEvidence {
	fe := FamilyEvidence{Family: FamilyName(f), Markers: []ChainRef{}, KubeletChains: []ChainRef{}, Counted: q.Count}
	has := func(r ChainRef) bool {
		return p.chains[fe.Family+" "+r.String()] && !q.Created.Has(p.mode, fe.Family, r)
	}
	fe.Markers = collect(MarkerChains(), has)
	fe.KubeletChains = collect(KubeletChains(), has)
	return fe
}

func (p *fakeProber) HasChain(_ context.Context, f netfilter.Family, table, chain string) (bool, error) {
	p.lookups++
	return p.chains[FamilyName(f)+" "+table+"/"+chain], nil
}

func TestResolveCachesAndRevalidates(t *testing.T) {
	nft := &fakeProber{mode: netfilter.NFT, chains: map[string]bool{"ipv4 mangle/KUBE-IPTABLES-HINT": true}}
	legacy := &fakeProber{mode: netfilter.Legacy, chains: map[string]bool{}}
	o := Options{CacheDir: t.TempDir(), NoHostHints: true, Wait: -1, Probers: []Prober{nft, legacy}}
	ctx := context.Background()

	first, err := Resolve(ctx, o)
	if err != nil || first.Mode != netfilter.NFT || first.Cached {
		t.Fatalf("first: %+v, %v", first, err)
	}
	second, _ := Resolve(ctx, o)
	if !second.Cached || !second.DecidedAt.Equal(first.DecidedAt) || nft.lookups == 0 {
		t.Fatalf("second call not a revalidated cache hit: %+v (lookups %d)", second, nft.lookups)
	}

	delete(nft.chains, "ipv4 mangle/KUBE-IPTABLES-HINT")
	legacy.chains["ipv6 nat/KUBE-KUBELET-CANARY"] = true
	third, _ := Resolve(ctx, o)
	if third.Cached || third.Mode != netfilter.Legacy || third.Reason != ReasonMarker {
		t.Fatalf("after the flip: %+v", third)
	}

	o.Default = netfilter.Legacy // a different policy re-decides
	if d, _ := Resolve(ctx, o); d.Cached {
		t.Error("changed policy served from the cache")
	}
}

func TestResolveOverrideSkipsProbes(t *testing.T) {
	nft := &fakeProber{mode: netfilter.NFT}
	d, err := Resolve(context.Background(), Options{Override: netfilter.Legacy, CacheDir: t.TempDir(), Probers: []Prober{nft}})
	if err != nil || d.Mode != netfilter.Legacy || d.Reason != ReasonOverride || nft.lookups != 0 {
		t.Fatalf("%+v %v", d, err)
	}
}

func TestResolveWeakDecisionRedecides(t *testing.T) {
	nft := &fakeProber{mode: netfilter.NFT, chains: map[string]bool{}}
	legacy := &fakeProber{mode: netfilter.Legacy, chains: map[string]bool{}}
	o := Options{CacheDir: t.TempDir(), NoHostHints: true, Wait: -1, Probers: []Prober{nft, legacy}}
	if d, _ := Resolve(context.Background(), o); d.Reason != ReasonDefault {
		t.Fatalf("empty host: %+v", d)
	}
	if d, _ := Resolve(context.Background(), o); !d.Cached {
		t.Fatal("default decision not cached")
	}
	legacy.chains["ipv4 nat/KUBE-MARK-DROP"] = true
	if d, _ := Resolve(context.Background(), o); d.Cached || d.Mode != netfilter.Legacy {
		t.Fatalf("kubelet's chains appeared but decision stayed: %+v", d)
	}
}

func TestCreatedChainsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	c := CreatedChain{Mode: netfilter.NFT, Family: FamilyIPv4, Table: "nat", Chain: "KUBE-MARK-DROP"}
	if err := RecordCreated(dir, c); err != nil {
		t.Fatal(err)
	}
	if err := RecordCreated(dir, c, CreatedChain{Mode: netfilter.NFT, Family: FamilyIPv6, Table: "nat", Chain: "KUBE-MARK-DROP"}); err != nil {
		t.Fatal(err)
	}
	set, err := LoadCreated(dir)
	if err != nil || len(set) != 2 || !set.Has(netfilter.NFT, FamilyIPv4, ChainRef{"nat", "KUBE-MARK-DROP"}) {
		t.Fatalf("%v %v", set, err)
	}
}
