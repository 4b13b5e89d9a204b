package native

import (
	"testing"
	"time"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// memDialects is a DialectCache in memory that counts its stores.
type memDialects struct {
	m      map[syntax.Family]dialect.Cached
	stores int
}

func (c *memDialects) LoadDialect(fam syntax.Family) (dialect.Cached, bool) {
	v, ok := c.m[fam]
	return v, ok
}

func (c *memDialects) StoreDialect(fam syntax.Family, v dialect.Cached) {
	if c.m == nil {
		c.m = map[syntax.Family]dialect.Cached{}
	}
	c.m[fam] = v
	c.stores++
}

// TestDialectCacheInvalidation walks a cached dialect finding through what
// keeps it and what drops it, in a fresh namespace written by the real
// iptables-nft (1.8.9): an empty host's fallback finding holds while the
// ruleset's generation stands and goes when rules appear; a finding from
// rules survives unrelated writes and goes when its rule is replaced or
// deleted, when its trust time is over, and when the host's package files
// it rests on change.
func TestDialectCacheInvalidation(t *testing.T) {
	netnstest.Require(t, "iptables-nft")
	ns := netnstest.New(t)
	cache := &memDialects{}
	fallbacks := 0
	stamp := "pkg-1"
	backendWith := func() *Backend {
		return New(Options{
			DetectDialect: true,
			Fallback: func() dialect.Finding {
				fallbacks++
				return dialect.Finding{Dialect: dialect.V1811, Source: "package database", Why: "test: 1.8.11"}
			},
			FallbackStamp: func() string { return stamp },
			DialectCache:  cache,
		})
	}
	// resolve is one call's dialect; cached says it came from the cache.
	resolve := func(step string) (dialect.Finding, bool) {
		t.Helper()
		var f dialect.Finding
		var hit bool
		if err := inNetns(ns.Name, func() error {
			b := backendWith()
			_, hit = b.cachedDialect(syntax.IPv4)
			f = b.HostDialect(syntax.IPv4)
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		return f, hit
	}
	nft := func(args ...string) { ns.MustRun("iptables-nft", args...) }

	// An empty host: the fallback decides, and is cached on the generation.
	if f, hit := resolve("empty"); hit || f.Dialect != dialect.V1811 || fallbacks != 1 {
		t.Fatalf("empty host: %+v, cached %v, %d fallbacks", f, hit, fallbacks)
	}
	if f, hit := resolve("empty again"); !hit || f.Dialect != dialect.V1811 || fallbacks != 1 {
		t.Fatalf("empty host, second call: %+v, cached %v, %d fallbacks", f, hit, fallbacks)
	}
	// The host's package is upgraded: the stamp changes, the fallback is
	// asked again.
	stamp = "pkg-2"
	if _, hit := resolve("package changed"); hit || fallbacks != 2 {
		t.Fatalf("package files changed: cached %v, %d fallbacks", hit, fallbacks)
	}
	// Rules appear: an empty host's finding may change, so it goes; the
	// rules (1.8.9: meta mark, IPv4 -p as meta l4proto) decide now.
	nft("-N", "KUBE-FIREWALL")
	nft("-A", "KUBE-FIREWALL", "-m", "mark", "--mark", "0x8000/0x8000", "-j", "DROP")
	nft("-A", "KUBE-FIREWALL", "-p", "tcp", "--dport", "10", "-j", "DROP")
	f, hit := resolve("rules appeared")
	if hit || f.Dialect != dialect.V189 || f.Source != "rules" {
		t.Fatalf("rules appeared: %+v, cached %v", f, hit)
	}
	// Unrelated writes move the generation; the rules seen still say so.
	nft("-A", "INPUT", "-j", "ACCEPT")
	nft("-N", "OTHER")
	if f, hit := resolve("unrelated writes"); !hit || f.Dialect != dialect.V189 {
		t.Fatalf("after unrelated writes: %+v, cached %v", f, hit)
	}
	// The mark rule replaced in place (same handle) by one without a
	// native match: the clue is gone, the finding with it.
	nft("-R", "KUBE-FIREWALL", "1", "-j", "DROP")
	if _, hit := resolve("rule replaced"); hit {
		t.Fatal("a finding whose rule was replaced still held")
	}
	// Found again from the port rule (native ports, -p as meta
	// l4proto), the finding rests on it now: the mark rule coming back
	// does not matter, the port rule going does.
	nft("-R", "KUBE-FIREWALL", "1", "-m", "mark", "--mark", "0x8000/0x8000", "-j", "DROP")
	if f, hit := resolve("rule back"); !hit || f.Dialect != dialect.V189 {
		t.Fatalf("a finding whose rule stayed did not hold: %+v, cached %v", f, hit)
	}
	nft("-F", "KUBE-FIREWALL")
	if _, hit := resolve("rules deleted"); hit {
		t.Fatal("a finding whose rules were deleted still held")
	}
	// Past the trust time a finding is found again even when nothing
	// changed.
	defer func(d time.Duration) { dialect.Trust = d }(dialect.Trust)
	resolve("settle")
	dialect.Trust = 0
	if _, hit := resolve("trust over"); hit {
		t.Fatal("a finding past its trust time held")
	}
}
