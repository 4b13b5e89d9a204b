package detect

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/iptables-shim/iptables-shim/shim/backend"
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
	Override       backend.Mode
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
	// Wait bounds the wait for evidence on an empty host: 0 means
	// DefaultWait, negative means do not wait.
	Wait time.Duration
	// Default is the last resort (nft when empty).
	Default backend.Mode
	// ProbeTimeout bounds one round of probes (DefaultProbeTimeout when 0).
	ProbeTimeout time.Duration
	// Probers replaces the kernel probers (tests).
	Probers []Prober
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
	created, cerr := LoadCreated(o.CacheDir)
	if cerr != nil {
		created = CreatedSet{}
	}
	ns, nserr := CurrentNetNS()
	useCache := !o.NoCache && nserr == nil
	var path string
	var warnings []string
	if nserr != nil && !o.NoCache {
		warnings = append(warnings, fmt.Sprintf("decision not cached: %v", nserr))
	}
	if useCache {
		path = cachePath(o.CacheDir, ns)
		if !o.Fresh {
			if d, ok := o.cached(ctx, path, ns, created); ok {
				return d, nil
			}
		}
		if err := os.MkdirAll(o.CacheDir, 0o755); err != nil {
			useCache = false
		}
	}
	if useCache {
		unlock, err := lockFile(path + ".lock")
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("decision not cached: %v", err))
			useCache = false
		} else {
			defer unlock()
			if !o.Fresh {
				// Another first call may have decided while this one waited.
				if d, ok := o.cached(ctx, path, ns, created); ok {
					return d, nil
				}
			}
		}
	}
	d, err := o.decide(ctx, pol, created)
	if err != nil {
		return d, err
	}
	if cerr != nil && !errors.Is(cerr, ErrNoNetNSIdentity) {
		d.Warnings = append(d.Warnings, fmt.Sprintf("created-chains file unreadable, shim-created chains may count as evidence: %v", cerr))
	}
	d.Warnings = append(d.Warnings, warnings...)
	if useCache {
		if err := writeCache(path, ns, o.fingerprint(), d); err != nil {
			d.Warnings = append(d.Warnings, fmt.Sprintf("decision not cached: %v", err))
		}
		// A fresh decision is slow anyway: the moment to clear out the
		// records of namespaces that are gone (at most every few minutes).
		maybeSweep(o.CacheDir, ns)
	}
	return d, nil
}

func (o Options) cached(ctx context.Context, path string, ns NetNS, created CreatedSet) (Decision, bool) {
	d, ok := readCache(path, ns, o.fingerprint())
	if !ok || !o.Revalidate(ctx, d, created) {
		return Decision{}, false
	}
	d.Cached = true
	return d, true
}

// Revalidate says whether a cached decision still holds:
//
//   - marker and kubelet-chains decisions hold while their basis chain still
//     exists in the backend that decided (one netlink lookup for nf_tables;
//     for legacy, one read of the basis chain's table);
//   - rule-count, host-hint and default decisions hold while no Kubernetes
//     marker or kubelet chain has appeared in either backend (chain lookups
//     only, no counting; legacy tables over 256 KiB are skipped), so a host
//     where kubelet starts late is re-decided as soon as kubelet's chains
//     show up.
//
// Anything else — a different network namespace, changed options, a missing
// or unreadable cache file — also re-decides.
func (o Options) Revalidate(ctx context.Context, d Decision, created CreatedSet) bool {
	o = o.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, o.ProbeTimeout)
	defer cancel()
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
