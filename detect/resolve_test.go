package detect

import (
	"context"
	"testing"
	"time"

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

// stampingProber is a fakeProber whose tables have a stamp the test sets.
type stampingProber struct {
	fakeProber
	stamp  string
	stamps int
}

func (p *stampingProber) Stamp(_ context.Context, f netfilter.Family, table string) (string, error) {
	p.stamps++
	return p.stamp, nil
}

// TestResolveLegacyProof checks the stamp rule: a strong legacy decision is
// re-checked in full the first time, then holds on an unchanged stamp
// without a lookup, is re-checked as soon as the stamp changes, and, with
// an unchanged stamp, again once the proof is older than proofTrust (so a
// change the stamp cannot see is noticed within that time).
func TestResolveLegacyProof(t *testing.T) {
	nft := &fakeProber{mode: netfilter.NFT, chains: map[string]bool{}}
	legacy := &stampingProber{fakeProber: fakeProber{mode: netfilter.Legacy, chains: map[string]bool{"ipv4 nat/KUBE-MARK-DROP": true}}, stamp: "entries=10"}
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
	if d := resolve("fresh", false, 0); d.Mode != netfilter.Legacy || d.Reason != ReasonKubeletChains {
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
	nft := &fakeProber{mode: netfilter.NFT, chains: map[string]bool{"ipv4 nat/KUBE-MARK-DROP": true}}
	legacy := &stampingProber{fakeProber: fakeProber{mode: netfilter.Legacy, chains: map[string]bool{}}, stamp: "x"}
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
	nft := &fakeProber{mode: netfilter.NFT, chains: map[string]bool{"ipv4 nat/KUBE-MARK-DROP": true}}
	legacy := &fakeProber{mode: netfilter.Legacy, chains: map[string]bool{}}
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

// stampingProber is a fakeProber with a ruleset stamp, counting probes.
type rulesetProber struct {
	*fakeProber
	stamp  string
	probes int
}

func (p *rulesetProber) Probe(ctx context.Context, f netfilter.Family, q Query) FamilyEvidence {
	p.probes++
	return p.fakeProber.Probe(ctx, f, q)
}

func (p *rulesetProber) RulesetStamp(context.Context) (string, error) { return p.stamp, nil }

// TestWeakDecisionStamps: a weak decision is re-checked in full (every
// backend probed) only when a backend's ruleset stamp moved or the last
// full check is older than proofTrust; a Kubernetes chain that appears
// with a moved stamp re-decides at once, and a backend without a stamp
// means the full check every time.
func TestWeakDecisionStamps(t *testing.T) {
	nft := &rulesetProber{fakeProber: &fakeProber{mode: netfilter.NFT, chains: map[string]bool{}}, stamp: "gen=1"}
	legacy := &rulesetProber{fakeProber: &fakeProber{mode: netfilter.Legacy, chains: map[string]bool{}}, stamp: "ipv4/filter:x;"}
	o := Options{CacheDir: t.TempDir(), NoHostHints: true, Wait: -1, Probers: []Prober{nft, legacy}}
	ctx := context.Background()
	resolve := func(step string, wantCached bool, wantProbes int) Decision {
		t.Helper()
		nft.probes, legacy.probes = 0, 0
		d, err := Resolve(ctx, o)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if d.Cached != wantCached || nft.probes != wantProbes || legacy.probes != wantProbes {
			t.Fatalf("%s: cached %v (want %v), probes nft %d legacy %d (want %d each): %+v",
				step, d.Cached, wantCached, nft.probes, legacy.probes, wantProbes, d)
		}
		return d
	}
	// Deciding gathers three times (markers, kubelet chains, counts).
	if d := resolve("empty host", false, 3*len(Families())); d.Reason != ReasonDefault {
		t.Fatalf("empty host: %+v", d)
	}
	// The first re-check is in full (no stamp recorded yet), the next
	// ones stand on the stamp.
	resolve("first re-check", true, len(Families()))
	resolve("stamp unchanged", true, 0)
	resolve("stamp unchanged again", true, 0)
	// Something was written (say a guard chain): a full check, which
	// holds, and the stamp is recorded again.
	nft.stamp = "gen=2"
	resolve("nf_tables written", true, len(Families()))
	resolve("stamp unchanged after the write", true, 0)
	legacy.stamp = "ipv4/filter:y;"
	resolve("legacy written", true, len(Families()))
	// Past proofTrust the full check runs even with the stamp unchanged.
	defer func(d time.Duration) { proofTrust = d }(proofTrust)
	proofTrust = 0
	resolve("trust over", true, len(Families()))
	// That check recorded the stamp anew.
	proofTrust = time.Minute
	resolve("trust back", true, 0)
	// Kubelet starts: its chains come with a new stamp, and decide.
	legacy.chains["ipv4 mangle/KUBE-KUBELET-CANARY"] = true
	legacy.stamp = "ipv4/filter:z;"
	nft.probes, legacy.probes = 0, 0
	if d, _ := Resolve(ctx, o); d.Cached || d.Mode != netfilter.Legacy || d.Reason != ReasonMarker {
		t.Fatalf("kubelet's chains appeared: %+v", d)
	}
}

// TestWeakDecisionWithoutStampChecksInFull: one backend that cannot stamp
// its ruleset makes every call re-check in full.
func TestWeakDecisionWithoutStampChecksInFull(t *testing.T) {
	nft := &rulesetProber{fakeProber: &fakeProber{mode: netfilter.NFT, chains: map[string]bool{}}, stamp: "gen=1"}
	legacy := &fakeProber{mode: netfilter.Legacy, chains: map[string]bool{}}
	o := Options{CacheDir: t.TempDir(), NoHostHints: true, Wait: -1, Probers: []Prober{nft, legacy}}
	for i := 0; i < 3; i++ {
		nft.probes = 0
		d, _ := Resolve(context.Background(), o)
		if i > 0 && (!d.Cached || nft.probes != len(Families())) {
			t.Fatalf("call %d: cached %v, %d probes", i, d.Cached, nft.probes)
		}
	}
}

// TestLeanReadKeepsTheEvidence: a lean read returns the cached decision
// without its evidence, and the proof it writes back keeps the evidence
// in the cache for callers that show it.
func TestLeanReadKeepsTheEvidence(t *testing.T) {
	nft := &rulesetProber{fakeProber: &fakeProber{mode: netfilter.NFT, chains: map[string]bool{}}, stamp: "gen=1"}
	legacy := &rulesetProber{fakeProber: &fakeProber{mode: netfilter.Legacy, chains: map[string]bool{}}, stamp: "x"}
	o := Options{CacheDir: t.TempDir(), NoHostHints: true, Wait: -1, Probers: []Prober{nft, legacy}, Lean: true}
	ctx := context.Background()
	first, _ := Resolve(ctx, o)
	if len(first.Evidence.Backends) == 0 {
		t.Fatalf("a fresh decision without evidence: %+v", first)
	}
	lean, _ := Resolve(ctx, o) // the first full re-check: writes the proof
	if !lean.Cached || len(lean.Evidence.Backends) != 0 || lean.Mode != first.Mode || lean.Reason != first.Reason ||
		lean.Detail != first.Detail || !lean.DecidedAt.Equal(first.DecidedAt) {
		t.Fatalf("lean cached read: %+v, first %+v", lean, first)
	}
	o.Lean = false
	full, _ := Resolve(ctx, o)
	if !full.Cached || len(full.Evidence.Backends) != len(first.Evidence.Backends) {
		t.Fatalf("the evidence is gone from the cache after a lean read wrote its proof: %+v", full)
	}
}
