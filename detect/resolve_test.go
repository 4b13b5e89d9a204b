package detect

import (
	"context"
	"testing"
	"time"

	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// fakeProber holds chains as "family table/CHAIN" and counts lookups.
type fakeProber struct {
	mode    backend.Mode
	chains  map[string]bool
	lookups int
}

func (p *fakeProber) Mode() backend.Mode { return p.mode }

func (p *fakeProber) Probe(_ context.Context, f syntax.Family, q Query) FamilyEvidence {
	fe := FamilyEvidence{Family: FamilyName(f), Markers: []ChainRef{}, KubeletChains: []ChainRef{}, Counted: q.Count}
	has := func(r ChainRef) bool {
		return p.chains[fe.Family+" "+r.String()] && !q.Created.Has(p.mode, fe.Family, r)
	}
	fe.Markers = collect(MarkerChains(), has)
	fe.KubeletChains = collect(KubeletChains(), has)
	return fe
}

func (p *fakeProber) HasChain(_ context.Context, f syntax.Family, table, chain string) (bool, error) {
	p.lookups++
	return p.chains[FamilyName(f)+" "+table+"/"+chain], nil
}

func TestResolveCachesAndRevalidates(t *testing.T) {
	nft := &fakeProber{mode: backend.NFT, chains: map[string]bool{"ipv4 mangle/KUBE-IPTABLES-HINT": true}}
	legacy := &fakeProber{mode: backend.Legacy, chains: map[string]bool{}}
	o := Options{CacheDir: t.TempDir(), NoHostHints: true, Wait: -1, Probers: []Prober{nft, legacy}}
	ctx := context.Background()

	first, err := Resolve(ctx, o)
	if err != nil || first.Mode != backend.NFT || first.Cached {
		t.Fatalf("first: %+v, %v", first, err)
	}
	second, _ := Resolve(ctx, o)
	if !second.Cached || !second.DecidedAt.Equal(first.DecidedAt) || nft.lookups == 0 {
		t.Fatalf("second call not a revalidated cache hit: %+v (lookups %d)", second, nft.lookups)
	}

	delete(nft.chains, "ipv4 mangle/KUBE-IPTABLES-HINT")
	legacy.chains["ipv6 nat/KUBE-KUBELET-CANARY"] = true
	third, _ := Resolve(ctx, o)
	if third.Cached || third.Mode != backend.Legacy || third.Reason != ReasonMarker {
		t.Fatalf("after the flip: %+v", third)
	}

	o.Default = backend.Legacy // a different policy re-decides
	if d, _ := Resolve(ctx, o); d.Cached {
		t.Error("changed policy served from the cache")
	}
}

func TestResolveOverrideSkipsProbes(t *testing.T) {
	nft := &fakeProber{mode: backend.NFT}
	d, err := Resolve(context.Background(), Options{Override: backend.Legacy, CacheDir: t.TempDir(), Probers: []Prober{nft}})
	if err != nil || d.Mode != backend.Legacy || d.Reason != ReasonOverride || nft.lookups != 0 {
		t.Fatalf("%+v %v", d, err)
	}
}

func TestResolveWeakDecisionRedecides(t *testing.T) {
	nft := &fakeProber{mode: backend.NFT, chains: map[string]bool{}}
	legacy := &fakeProber{mode: backend.Legacy, chains: map[string]bool{}}
	o := Options{CacheDir: t.TempDir(), NoHostHints: true, Wait: -1, Probers: []Prober{nft, legacy}}
	if d, _ := Resolve(context.Background(), o); d.Reason != ReasonDefault {
		t.Fatalf("empty host: %+v", d)
	}
	if d, _ := Resolve(context.Background(), o); !d.Cached {
		t.Fatal("default decision not cached")
	}
	legacy.chains["ipv4 nat/KUBE-MARK-DROP"] = true
	if d, _ := Resolve(context.Background(), o); d.Cached || d.Mode != backend.Legacy {
		t.Fatalf("kubelet's chains appeared but decision stayed: %+v", d)
	}
}

func TestCreatedChainsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	c := CreatedChain{Mode: backend.NFT, Family: FamilyIPv4, Table: "nat", Chain: "KUBE-MARK-DROP"}
	if err := RecordCreated(dir, c); err != nil {
		t.Fatal(err)
	}
	if err := RecordCreated(dir, c, CreatedChain{Mode: backend.NFT, Family: FamilyIPv6, Table: "nat", Chain: "KUBE-MARK-DROP"}); err != nil {
		t.Fatal(err)
	}
	set, err := LoadCreated(dir)
	if err != nil || len(set) != 2 || !set.Has(backend.NFT, FamilyIPv4, ChainRef{"nat", "KUBE-MARK-DROP"}) {
		t.Fatalf("%v %v", set, err)
	}
}

// stampingProber is a fakeProber whose tables have a stamp the test sets.
type stampingProber struct {
	fakeProber
	stamp  string
	stamps int
}

func (p *stampingProber) Stamp(_ context.Context, f syntax.Family, table string) (string, error) {
	p.stamps++
	return p.stamp, nil
}

// TestResolveLegacyProof checks the stamp rule: a strong legacy decision is
// re-checked in full the first time, then holds on an unchanged stamp
// without a lookup, is re-checked as soon as the stamp changes, and, with
// an unchanged stamp, again once the proof is older than proofTrust (so a
// change the stamp cannot see is noticed within that time).
func TestResolveLegacyProof(t *testing.T) {
	nft := &fakeProber{mode: backend.NFT, chains: map[string]bool{}}
	legacy := &stampingProber{fakeProber: fakeProber{mode: backend.Legacy, chains: map[string]bool{"ipv4 nat/KUBE-MARK-DROP": true}}, stamp: "entries=10"}
	o := Options{CacheDir: t.TempDir(), NoHostHints: true, Wait: -1, Probers: []Prober{nft, legacy}}
	ctx := context.Background()
	resolve := func(step string, wantCached bool, wantLookups int) Decision {
		t.Helper()
		before := legacy.lookups
		d, err := Resolve(ctx, o)
		if err != nil || d.Cached != wantCached {
			t.Fatalf("%s: %+v, %v; want cached=%v", step, d, err, wantCached)
		}
		if got := legacy.lookups - before; got != wantLookups {
			t.Fatalf("%s: %d basis lookups, want %d", step, got, wantLookups)
		}
		return d
	}
	if d := resolve("fresh", false, 0); d.Mode != backend.Legacy || d.Reason != ReasonKubeletChains {
		t.Fatalf("fresh decision: %+v", d)
	}
	resolve("first cached call: full check, proof recorded", true, 1)
	resolve("unchanged stamp", true, 0)
	resolve("unchanged stamp again", true, 0)

	legacy.stamp = "entries=13"
	resolve("changed stamp: full check", true, 1)
	resolve("new stamp recorded", true, 0)

	// A change the stamp cannot see: trusted only until the proof ages.
	delete(legacy.chains, "ipv4 nat/KUBE-MARK-DROP")
	resolve("invisible change, fresh proof", true, 0)
	defer func(old time.Duration) { proofTrust = old }(proofTrust)
	proofTrust = 0
	if d, _ := Resolve(ctx, o); d.Cached || d.Reason == ReasonKubeletChains {
		t.Fatalf("aged proof did not re-check: %+v", d)
	}
	if legacy.stamps == 0 {
		t.Error("the legacy basis was never stamped")
	}
}

// TestResolveNFTBasisNotStamped checks an nf_tables basis is looked up on
// every call (one netlink round trip), never trusted on a stamp.
func TestResolveNFTBasisNotStamped(t *testing.T) {
	nft := &fakeProber{mode: backend.NFT, chains: map[string]bool{"ipv4 nat/KUBE-MARK-DROP": true}}
	legacy := &stampingProber{fakeProber: fakeProber{mode: backend.Legacy, chains: map[string]bool{}}, stamp: "x"}
	o := Options{CacheDir: t.TempDir(), NoHostHints: true, Wait: -1, Probers: []Prober{nft, legacy}}
	for range 3 {
		if _, err := Resolve(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
	if nft.lookups != 2 || legacy.stamps != 0 {
		t.Errorf("nft lookups %d (want 2), legacy stamps %d (want 0)", nft.lookups, legacy.stamps)
	}
}

// BenchmarkResolveWarm is the warm path of every iptables call with a strong
// cached decision: the namespace's identity, the cache file, the basis
// lookup (a fake here, so only the shim's own work is timed).
func BenchmarkResolveWarm(b *testing.B) {
	nft := &fakeProber{mode: backend.NFT, chains: map[string]bool{"ipv4 nat/KUBE-MARK-DROP": true}}
	legacy := &fakeProber{mode: backend.Legacy, chains: map[string]bool{}}
	o := Options{CacheDir: b.TempDir(), NoHostHints: true, Wait: -1, Probers: []Prober{nft, legacy}}
	if _, err := Resolve(context.Background(), o); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if d, _ := Resolve(context.Background(), o); !d.Cached {
			b.Fatal("not cached")
		}
	}
}
