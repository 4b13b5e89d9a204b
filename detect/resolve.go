package detect

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/iptables-shim/iptables-shim/shim/netfilter"
)

// Defaults for Options.
const (
	DefaultWait         = 3 * time.Second
	DefaultProbeTimeout = 2 * time.Second
	DefaultHostRoot     = "/"
	// waitStep is how often the wait layer probes again.
	waitStep = 200 * time.Millisecond
	// revalidateTableBytes bounds the legacy tables re-validation reads
	// (about a thousand rules): past it a table is not re-read on every call.
	revalidateTableBytes = 256 << 10
)

// Options configure Resolve. The zero value is the documented default:
// host root "/", cache under /run/iptables-shim, wait 3 s, default nft.
type Options struct {
	// Override decides outright when set ("nft" or "legacy"); OverrideSource
	// names where it came from ("env IPTABLES_SHIM_MODE", "flag --mode").
	Override       netfilter.Mode
	OverrideSource string
	// HostRoot is where the host's root file system is mounted ("/" when
	// empty). NoHostHints turns layer 5 off.
	HostRoot    string
	NoHostHints bool
	// CacheDir holds the decision cache and the created-chains files
	// (DefaultCacheDir when empty). NoCache turns caching off.
	CacheDir string
	NoCache  bool
	// Fresh ignores a cached decision (it still writes the new one).
	Fresh bool
	// Lean returns a cached decision without its evidence (Decision.Evidence
	// empty), for callers that never show it (the router): reading the
	// evidence is most of what a warm call's cache read costs.
	Lean bool
	// Wait bounds the wait for evidence on an empty host: 0 means
	// DefaultWait, negative means do not wait.
	Wait time.Duration
	// Default is the last resort (nft when empty).
	Default netfilter.Mode
	// ProbeTimeout bounds one round of probes (DefaultProbeTimeout when 0).
	ProbeTimeout time.Duration
	// Probers replaces the kernel probers (tests).
	Probers []Prober
	// Trace, when set, is called at the end of each step of Resolve
	// ("netns", "created", "cache", "revalidate", "lock", "probe",
	// "write"), for the call log's per-phase timings.
	Trace func(step string)
}

func (o Options) trace(step string) {
	if o.Trace != nil {
		o.Trace(step)
	}
}

func (o Options) withDefaults() Options {
	if o.HostRoot == "" {
		o.HostRoot = DefaultHostRoot
	}
	if o.NoHostHints {
		o.HostRoot = ""
	}
	if o.CacheDir == "" {
		o.CacheDir = DefaultCacheDir
	}
	// A negative Wait (do not wait) stays negative, so that applying the
	// defaults twice (Policy does) never turns it into the default wait.
	if o.Wait == 0 {
		o.Wait = DefaultWait
	}
	if o.ProbeTimeout == 0 {
		o.ProbeTimeout = DefaultProbeTimeout
	}
	if o.Probers == nil {
		o.Probers = KernelProbers()
	}
	return o
}

// Policy is the decision policy the options describe.
func (o Options) Policy() Policy {
	o = o.withDefaults()
	return Policy{Override: o.Override, OverrideSource: o.OverrideSource, Wait: max(o.Wait, 0), Default: o.Default}
}

func (o Options) fingerprint() string {
	return fmt.Sprintf("default=%s wait=%s root=%q", o.Policy().DefaultMode(), max(o.Wait, 0), o.HostRoot)
}

// Resolve returns the backend to use for the calling network namespace. The
// router calls it on every iptables call, so the common path is short:
//
//  1. An override answers at once, without probing or caching.
//  2. A cached decision for this namespace (keyed by its identity, NetNS) is re-checked
//     and returned; see Revalidate for exactly what is re-checked.
//  3. Otherwise, under an exclusive lock on the namespace's cache file (so
//     many first calls make one decision), the cache is read again, and if
//     still absent or stale the backends are probed, Decide runs (waiting up
//     to Options.Wait on an empty host), and the decision is written
//     atomically.
//
// Cache trouble (read-only /run) is not an error: the decision is still
// returned, with a warning. The error is non-nil only when ctx ends.
func Resolve(ctx context.Context, opts Options) (Decision, error) {
	o := opts.withDefaults()
	pol := o.Policy()
	if pol.Override != "" {
		d := Decide(Evidence{}, pol)
		d.DecidedAt = time.Now().UTC()
		return d, nil
	}
	// The created chains matter only to probes and weak re-validation: a
	// strong cached decision never reads them.
	loadCreated := sync.OnceValues(func() (CreatedSet, error) {
		created, err := LoadCreated(o.CacheDir)
		if err != nil {
			created = CreatedSet{}
		}
		o.trace("created")
		return created, err
	})
	ns, nserr := CurrentNetNS()
	o.trace("netns")
	useCache := !o.NoCache && nserr == nil
	var path string
	var warnings []string
	if nserr != nil && !o.NoCache {
		warnings = append(warnings, fmt.Sprintf("decision not cached: %v", nserr))
	}
	if useCache {
		path = cachePath(o.CacheDir, ns)
		if !o.Fresh {
			if d, ok := o.cached(ctx, path, ns, loadCreated); ok {
				return d, nil
			}
		}
		if err := os.MkdirAll(o.CacheDir, 0o755); err != nil {
			useCache = false
		}
	}
	if useCache {
		unlock, err := lockFile(path + ".lock")
		o.trace("lock")
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("decision not cached: %v", err))
			useCache = false
		} else {
			defer unlock()
			if !o.Fresh {
				// Another first call may have decided while this one waited.
				if d, ok := o.cached(ctx, path, ns, loadCreated); ok {
					return d, nil
				}
			}
		}
	}
	created, cerr := loadCreated()
	d, err := o.decide(ctx, pol, created)
	o.trace("probe")
	if err != nil {
		return d, err
	}
	if cerr != nil && !errors.Is(cerr, ErrNoNetNSIdentity) {
		d.Warnings = append(d.Warnings, fmt.Sprintf("created-chains file unreadable, shim-created chains may count as evidence: %v", cerr))
	}
	d.Warnings = append(d.Warnings, warnings...)
	if useCache {
		if err := writeCache(path, ns, o.fingerprint(), d, nil); err != nil {
			d.Warnings = append(d.Warnings, fmt.Sprintf("decision not cached: %v", err))
		}
		// A fresh decision is slow anyway: the moment to clear out the
		// records of namespaces that are gone (at most every few minutes).
		maybeSweep(o.CacheDir, ns)
		o.trace("write")
	}
	return d, nil
}

// proofTrust bounds how long an unchanged stamp stands in for re-reading a
// legacy basis table: a change the stamp cannot see (the basis chain renamed
// to a name of the same length) is noticed within this time. A variable
// only so tests can shorten it.
var proofTrust = 15 * time.Second

// cached returns the namespace's cached decision if it still holds,
// without the full re-check (Revalidate) when a stamp shows that what it
// rests on has not changed since the last full check:
//
//   - a strong decision whose basis backend can stamp its tables (legacy:
//     the kernel copies a whole table to look a chain up, a cost that
//     grows with the table; bench/callcost measures it) holds while the
//     basis table's stamp is unchanged;
//   - a weak decision (rule count, host hint, default) holds while no
//     backend's ruleset stamp moved (nf_tables' generation id, legacy's
//     IPT_SO_GET_INFO of every table: a handful of small reads, where the
//     full re-check looks up every Kubernetes chain in every backend and
//     family and copies legacy tables).
//
// Either way for at most proofTrust since that check; otherwise it is
// re-checked in full and, when it holds, the new stamp recorded. The stamp
// is taken before the check, so a change in between differs from it next
// time.
func (o Options) cached(ctx context.Context, path string, ns NetNS, created func() (CreatedSet, error)) (Decision, bool) {
	d, pr, ok := readCache(path, ns, o.fingerprint(), o.Lean)
	o.trace("cache")
	if !ok {
		return Decision{}, false
	}
	stamp := o.stamp(ctx, d)
	if stamp != "" {
		now := time.Now()
		if pr != nil && pr.Stamp == stamp && !pr.CheckedAt.After(now) && now.Sub(pr.CheckedAt) < proofTrust {
			o.trace("revalidate")
			d.Cached = true
			return d, true
		}
	}
	var valid bool
	if d.Strong() {
		valid = o.Revalidate(ctx, d, nil) // strong decisions never read created
	} else {
		set, _ := created()
		valid = o.Revalidate(ctx, d, set)
	}
	o.trace("revalidate")
	if !valid {
		return Decision{}, false
	}
	if stamp != "" {
		// Best effort: a read-only cache only costs the next call the
		// full check again. A lean read has no evidence to write back:
		// the entry is read in full for it.
		full, ok := d, true
		if o.Lean {
			full, _, ok = readCache(path, ns, o.fingerprint(), false)
			ok = ok && full.DecidedAt.Equal(d.DecidedAt)
		}
		if ok {
			_ = writeCache(path, ns, o.fingerprint(), full, &proof{Stamp: stamp, CheckedAt: time.Now()})
		}
		o.trace("write")
	}
	d.Cached = true
	return d, true
}

// stamp summarises what a cached decision rests on (see cached); "" when
// it cannot be stamped, and is then re-checked in full.
func (o Options) stamp(ctx context.Context, d Decision) string {
	if d.Strong() {
		stamper := o.basisStamper(d)
		if stamper == nil {
			return ""
		}
		st, err := stamper.Stamp(ctx, familyOf(d.Basis.Family), d.Basis.Table)
		if err != nil {
			return ""
		}
		return st
	}
	ctx = probeContext(ctx, o.ProbeTimeout)
	var b strings.Builder
	b.WriteString("ruleset")
	for _, p := range o.Probers {
		rs, ok := p.(RulesetStamper)
		if !ok {
			return ""
		}
		st, err := rs.RulesetStamp(ctx)
		if err != nil {
			return ""
		}
		fmt.Fprintf(&b, " %s{%s}", p.Mode(), st)
	}
	return b.String()
}

// basisStamper is the prober that can stamp a strong decision's basis
// table, nil when there is none (nf_tables looks a chain up in one
// netlink round trip, as cheap as any stamp).
func (o Options) basisStamper(d Decision) Stamper {
	if !d.Strong() || d.Basis == nil {
		return nil
	}
	for _, p := range o.Probers {
		if p.Mode() == d.Basis.Mode {
			s, _ := p.(Stamper)
			return s
		}
	}
	return nil
}

// Revalidate says whether a cached decision still holds:
//
//   - marker and kubelet-chains decisions hold while their basis chain still
//     exists in the backend that decided (one netlink lookup for nf_tables;
//     for legacy, one copy of the basis chain's table, walked for chain
//     heads only; Resolve skips even that copy while the table's
//     IPT_SO_GET_INFO stamp is unchanged since the last full check, for at
//     most 15 s: see Options.cached);
//   - rule-count, host-hint and default decisions hold while no Kubernetes
//     marker or kubelet chain has appeared in either backend (chain lookups
//     only, no counting; legacy tables over 256 KiB are skipped), so a host
//     where kubelet starts late is re-decided as soon as kubelet's chains
//     show up; Resolve skips the lookups while no backend's ruleset stamp
//     (nf_tables' generation id, legacy's IPT_SO_GET_INFO of each table)
//     moved since the last full check, for at most 15 s.
//
// Anything else — a different network namespace, changed options, a missing
// or unreadable cache file — also re-decides.
func (o Options) Revalidate(ctx context.Context, d Decision, created CreatedSet) bool {
	o = o.withDefaults()
	ctx = probeContext(ctx, o.ProbeTimeout)
	if d.Strong() {
		if d.Basis == nil {
			return false
		}
		for _, p := range o.Probers {
			if p.Mode() != d.Basis.Mode {
				continue
			}
			ok, err := p.HasChain(ctx, familyOf(d.Basis.Family), d.Basis.Table, d.Basis.Chain)
			return err == nil && ok
		}
		return false
	}
	ev := Gather(ctx, o.Probers, "", Query{Created: created, Kubelet: true, MaxTableBytes: revalidateTableBytes})
	for _, b := range ev.Backends {
		if b.hasKubernetes() {
			return false
		}
	}
	return true
}

func (o Options) decide(ctx context.Context, pol Policy, created CreatedSet) (Decision, error) {
	start := time.Now()
	var waited time.Duration
	for {
		pctx, cancel := context.WithTimeout(ctx, o.ProbeTimeout)
		// Cheapest evidence first: markers, then kubelet's chains, then
		// counts, each asked for only when the previous found nothing.
		q := Query{Created: created}
		ev := Gather(pctx, o.Probers, o.HostRoot, q)
		for _, next := range []func(*Query){
			func(q *Query) { q.Kubelet = true },
			func(q *Query) { q.Count = true },
		} {
			if anyKubernetes(ev) {
				break
			}
			next(&q)
			hints := ev.Hints
			ev = Gather(pctx, o.Probers, "", q)
			ev.Hints = hints
		}
		cancel()
		ev.Waited = waited
		d := Decide(ev, pol)
		if d.Reason != ReasonWait {
			d.DecidedAt = time.Now().UTC()
			return d, nil
		}
		step := min(waitStep, pol.Wait-waited)
		select {
		case <-ctx.Done():
			return d, fmt.Errorf("waiting for iptables evidence: %w", ctx.Err())
		case <-time.After(step):
		}
		waited = time.Since(start)
	}
}

func anyKubernetes(ev Evidence) bool {
	for _, b := range ev.Backends {
		if b.hasKubernetes() {
			return true
		}
	}
	return false
}
