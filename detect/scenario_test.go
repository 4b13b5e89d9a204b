package detect

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iptables-shim/iptables-shim/detect/helperproc"
	xtfake "github.com/iptables-shim/iptables-shim/detect/xtables/fake"
	"github.com/iptables-shim/iptables-shim/internal/kubefixture"
	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	nftfake "github.com/iptables-shim/iptables-shim/internal/nfnl/fake"
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/native"
	"github.com/iptables-shim/iptables-shim/shim/netfilter"
)

// Payloads that reproduce what kubelet and kube-proxy leave on hosts.
const (
	hint = `*mangle
:KUBE-IPTABLES-HINT - [0:0]
:KUBE-KUBELET-CANARY - [0:0]
COMMIT
`
	stray = `*filter
:STRAY - [0:0]
-A INPUT -i eth9 -j STRAY
-A STRAY -p tcp --dport 22 -j ACCEPT
-A STRAY -p tcp --dport 80 -j ACCEPT
-A FORWARD -j DROP
COMMIT
`
)

// scenario is a host for one test: a network namespace's kernel (the
// kernel half, root only) or in-memory nf_tables and x_tables (the fake
// half: the same story told to detection's probers over
// internal/nfnl/fake and detect/xtables/fake, in this process).
type scenario struct {
	t     *testing.T
	cache string
	// kernel half
	ns *netnstest.NS
	// fake half
	nft    *nftfake.Kernel
	legacy *xtfake.Kernel
}

// scenarios runs body as a "kernel" and a "fake" subtest. tools are the
// real binaries the kernel half needs.
func scenarios(t *testing.T, tools []string, body func(t *testing.T, s *scenario)) {
	t.Run("kernel", func(t *testing.T) {
		netnstest.Require(t, tools...)
		body(t, &scenario{t: t, ns: netnstest.New(t), cache: t.TempDir()})
	})
	t.Run("fake", func(t *testing.T) {
		// The native backend, which loads the fake nf_tables, takes the
		// xtables lock as iptables-nft does.
		t.Setenv("XTABLES_LOCKFILE", filepath.Join(t.TempDir(), "xtables.lock"))
		body(t, &scenario{t: t, nft: nftfake.New(), legacy: xtfake.New(), cache: t.TempDir()})
	})
}

// restoreTools are what the scenarios load rules with.
var restoreTools = []string{"iptables-nft-restore", "iptables-legacy-restore", "ip6tables-legacy-restore"}

// run runs an iptables tool (iptables-nft, ip6tables-legacy-restore, ...)
// with stdin; in the fake half the nft tools are the native backend on the
// fake nf_tables, the legacy ones the fake x_tables.
func (s *scenario) run(stdin, tool string, args ...string) {
	s.t.Helper()
	if s.ns != nil {
		s.ns.MustRunStdin(stdin, tool, args...)
		return
	}
	fam := netfilter.IPv4
	if strings.HasPrefix(tool, "ip6") {
		fam = netfilter.IPv6
	}
	restore := strings.HasSuffix(tool, "-restore")
	var err error
	switch {
	case strings.Contains(tool, "-legacy") && restore:
		err = s.legacy.Restore(fam, stdin)
	case strings.Contains(tool, "-legacy"):
		err = s.legacy.Run(fam, args...)
	case strings.Contains(tool, "-nft"):
		var out, errb bytes.Buffer
		c := &backend.Call{Tool: backend.Iptables, Family: fam, Argv0: tool, Args: args, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb}
		if restore {
			c.Tool = backend.Restore
		}
		if err = native.New(native.Options{Open: s.nft.Opener()}).Run(context.Background(), c); err != nil {
			err = fmt.Errorf("%w: %s", err, errb.String())
		}
	default:
		err = fmt.Errorf("no fake for %s", tool)
	}
	if err != nil {
		s.t.Fatalf("%s %v: %v", tool, args, err)
	}
}

func (s *scenario) load(tool, payload string) {
	s.t.Helper()
	s.run(payload, tool, "--noflush")
}

// probers are the fake half's probers: detection's own, on the fakes.
func (s *scenario) probers() []Prober {
	return []Prober{NFTProber{Open: s.nft.Opener()}, LegacyProber{Kernel: s.legacy}}
}

// resolve runs Resolve with the options of env (see resolveOptions): in
// the namespace through the resolve helper, or here on the fakes.
func (s *scenario) resolve(env ...string) Decision {
	s.t.Helper()
	env = append([]string{"T_CACHE=" + s.cache}, env...)
	if s.ns == nil {
		vars := map[string]string{}
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			vars[k] = v
		}
		o, err := resolveOptions(func(k string) string { return vars[k] })
		if err != nil {
			s.t.Fatal(err)
		}
		o.Probers = s.probers()
		d, err := Resolve(context.Background(), o)
		if err != nil {
			s.t.Fatalf("resolve: %v", err)
		}
		return d
	}
	return s.decision(helperproc.Run(s.t, s.ns, "resolve", env...))
}

// decision is what the resolve helper printed.
func (s *scenario) decision(r netnstest.Result) Decision {
	s.t.Helper()
	if r.Code != 0 {
		s.t.Fatalf("resolve helper: %s", r)
	}
	var d Decision
	if err := json.Unmarshal([]byte(r.Stdout), &d); err != nil {
		s.t.Fatalf("decoding %q: %v", r.Stdout, err)
	}
	return d
}

// recordCreated records a chain ("mode family table chain") as the
// shim's, in the scenario's namespace.
func (s *scenario) recordCreated(created string) {
	s.t.Helper()
	if s.ns == nil {
		if err := recordCreatedFrom(s.cache, created); err != nil {
			s.t.Fatal(err)
		}
		return
	}
	if r := helperproc.Run(s.t, s.ns, "record-created", "T_CACHE="+s.cache, "T_CREATED="+created); r.Code != 0 {
		s.t.Fatalf("record-created: %s", r)
	}
}

// newScenario is a scenario in a network namespace only, for what the
// fakes cannot stand in for (mount and PID namespaces).
func newScenario(t *testing.T) *scenario {
	t.Helper()
	netnstest.Require(t, restoreTools...)
	return &scenario{t: t, ns: netnstest.New(t), cache: t.TempDir()}
}

func expect(t *testing.T, d Decision, mode netfilter.Mode, reason Reason) {
	t.Helper()
	if d.Mode != mode || d.Reason != reason {
		t.Fatalf("decided %s/%s (%s), want %s/%s; evidence %+v", d.Mode, d.Reason, d.Detail, mode, reason, d.Evidence.Backends)
	}
}

func TestScenarioHintInNFTOnly(t *testing.T) {
	scenarios(t, restoreTools, func(t *testing.T, s *scenario) {
		s.load("iptables-nft-restore", hint)
		d := s.resolve()
		expect(t, d, netfilter.NFT, ReasonMarker)
		if d.Basis == nil || d.Basis.Chain != HintChain {
			t.Errorf("basis %+v, want the hint chain", d.Basis)
		}
	})
}

func TestScenarioIncidentHost(t *testing.T) {
	scenarios(t, restoreTools, func(t *testing.T, s *scenario) {
		// Kubelet 1.13 wrote its chains with the host's iptables-nft; nothing in
		// legacy at all.
		s.load("iptables-nft-restore", kubefixture.Kubelet113)
		d := s.resolve()
		expect(t, d, netfilter.NFT, ReasonKubeletChains)
		if len(d.Warnings) != 0 {
			t.Errorf("warnings: %v", d.Warnings)
		}
	})
}

func TestScenarioKubeletChainsInLegacyOnly(t *testing.T) {
	scenarios(t, restoreTools, func(t *testing.T, s *scenario) {
		// CentOS 7: kubelet used iptables-legacy.
		s.load("iptables-legacy-restore", kubefixture.Kubelet113)
		expect(t, s.resolve(), netfilter.Legacy, ReasonKubeletChains)
	})
}

func TestScenarioBothBackends(t *testing.T) {
	scenarios(t, restoreTools, func(t *testing.T, s *scenario) {
		// kubelet in nft; a legacy kube-proxy ran -N for its own chains.
		s.load("iptables-nft-restore", kubefixture.Kubelet113)
		s.load("iptables-legacy-restore", "*nat\n:KUBE-MARK-MASQ - [0:0]\n:KUBE-POSTROUTING - [0:0]\n:KUBE-SERVICES - [0:0]\nCOMMIT\n")
		d := s.resolve()
		expect(t, d, netfilter.NFT, ReasonKubeletChains)
		if !d.Split || len(d.Warnings) == 0 || !strings.Contains(d.Warnings[0], "both backends") {
			t.Errorf("split %v, warnings %v", d.Split, d.Warnings)
		}
	})
}

func TestScenarioEmptyHostWaitsThenDefaults(t *testing.T) {
	scenarios(t, restoreTools, func(t *testing.T, s *scenario) {
		d := s.resolve("T_WAIT=400ms")
		expect(t, d, netfilter.NFT, ReasonDefault)
		if d.Evidence.Waited < 400*time.Millisecond {
			t.Errorf("waited %s, want >= 400ms", d.Evidence.Waited)
		}
	})
}

func TestScenarioEvidenceAppearsDuringWait(t *testing.T) {
	scenarios(t, restoreTools, func(t *testing.T, s *scenario) {
		done := make(chan Decision)
		go func() { done <- s.resolve("T_WAIT=20s") }()
		time.Sleep(300 * time.Millisecond)
		s.load("iptables-legacy-restore", kubefixture.Kubelet113)
		d := <-done
		expect(t, d, netfilter.Legacy, ReasonKubeletChains)
	})
}

func TestScenarioV6OnlyRules(t *testing.T) {
	scenarios(t, restoreTools, func(t *testing.T, s *scenario) {
		s.load("ip6tables-legacy-restore", stray)
		d := s.resolve()
		expect(t, d, netfilter.Legacy, ReasonRuleCount)
		leg := d.Evidence.Backend(netfilter.Legacy)
		if leg.Families[1].Rules != 4 || leg.Families[0].Rules != 0 {
			t.Errorf("legacy counts %+v, want v4 0, v6 4", leg.Families)
		}
	})
}

func TestScenarioStrayRulesInOtherBackend(t *testing.T) {
	scenarios(t, restoreTools, func(t *testing.T, s *scenario) {
		// A debug pod left rules in nft; kubelet's hint is in legacy.
		s.load("iptables-nft-restore", stray)
		s.load("iptables-legacy-restore", hint)
		expect(t, s.resolve(), netfilter.Legacy, ReasonMarker)
	})
}

func TestScenarioOverride(t *testing.T) {
	scenarios(t, restoreTools, func(t *testing.T, s *scenario) {
		s.load("iptables-nft-restore", hint)
		d := s.resolve("T_MODE=legacy")
		expect(t, d, netfilter.Legacy, ReasonOverride)
	})
}

func TestScenarioShimCreatedChainsAreNotEvidence(t *testing.T) {
	scenarios(t, restoreTools, func(t *testing.T, s *scenario) {
		// The guard created KUBE-MARK-DROP in legacy after a default decision;
		// that must not make legacy look like kubelet's backend.
		s.load("iptables-legacy-restore", "*nat\n:KUBE-MARK-DROP - [0:0]\n-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000\nCOMMIT\n")
		s.recordCreated("legacy ipv4 nat KUBE-MARK-DROP")
		d := s.resolve()
		expect(t, d, netfilter.NFT, ReasonDefault)
		if n := d.Evidence.Backend(netfilter.Legacy).Families[0].Rules; n != 0 {
			t.Errorf("legacy counted %d rules, want 0 (only the shim's chain)", n)
		}
	})
}

func TestScenarioFlipAfterCache(t *testing.T) {
	scenarios(t, restoreTools, func(t *testing.T, s *scenario) {
		s.load("iptables-nft-restore", hint)
		first := s.resolve()
		expect(t, first, netfilter.NFT, ReasonMarker)
		again := s.resolve()
		if !again.Cached || !again.DecidedAt.Equal(first.DecidedAt) {
			t.Errorf("second call not served from the cache: cached %v, decided %s vs %s", again.Cached, again.DecidedAt, first.DecidedAt)
		}
		// The host flips: the hint moves to legacy.
		s.run("", "iptables-nft", "-t", "mangle", "-X", HintChain)
		s.run("", "iptables-nft", "-t", "mangle", "-X", KubeletCanary)
		s.load("iptables-legacy-restore", hint)
		flipped := s.resolve()
		expect(t, flipped, netfilter.Legacy, ReasonMarker)
		if flipped.Cached {
			t.Error("flipped decision claims to come from the cache")
		}
	})
}

func TestScenarioWeakDecisionRedecidesWhenKubeletArrives(t *testing.T) {
	scenarios(t, restoreTools, func(t *testing.T, s *scenario) {
		expect(t, s.resolve(), netfilter.NFT, ReasonDefault)
		s.load("iptables-legacy-restore", kubefixture.Kubelet113)
		expect(t, s.resolve(), netfilter.Legacy, ReasonKubeletChains)
	})
}

func TestScenarioConcurrentFirstCalls(t *testing.T) {
	scenarios(t, restoreTools, func(t *testing.T, s *scenario) {
		s.load("iptables-legacy-restore", kubefixture.Kubelet113)
		const n = 20
		decisions := make([]Decision, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				decisions[i] = s.resolve()
			}()
		}
		wg.Wait()
		fresh := 0
		for i, d := range decisions {
			expect(t, d, netfilter.Legacy, ReasonKubeletChains)
			if !d.DecidedAt.Equal(decisions[0].DecidedAt) {
				t.Errorf("call %d: decided at %s, call 0 at %s: more than one decision", i, d.DecidedAt, decisions[0].DecidedAt)
			}
			if !d.Cached {
				fresh++
			}
		}
		if fresh != 1 {
			t.Errorf("%d calls decided afresh, want 1", fresh)
		}
		matches, _ := filepath.Glob(filepath.Join(s.cache, "netns-*.json"))
		if len(matches) != 1 {
			t.Fatalf("cache files %v, want one", matches)
		}
		data, err := os.ReadFile(matches[0])
		if err != nil {
			t.Fatal(err)
		}
		var e cacheEntry
		if err := json.Unmarshal(data, &e); err != nil {
			t.Fatalf("torn cache file: %v\n%s", err, data)
		}
		if e.Decision.Mode != netfilter.Legacy {
			t.Errorf("cached mode %s", e.Decision.Mode)
		}
	})
}

// TestRulesetStampsMove: the probers' ruleset stamps, which let a weak
// decision skip its full re-check, move when a chain is added in either
// backend, and only in that backend; a read moves neither.
func TestRulesetStampsMove(t *testing.T) {
	scenarios(t, []string{"iptables-nft", "iptables-legacy"}, func(t *testing.T, s *scenario) {
		stamps := func() map[netfilter.Mode]string {
			t.Helper()
			if s.ns == nil {
				m, err := rulesetStamps(s.probers())
				if err != nil {
					t.Fatal(err)
				}
				return m
			}
			var m map[netfilter.Mode]string
			helperproc.RunJSON(t, s.ns, "ruleset-stamps", &m)
			return m
		}
		// A legacy table comes to be when first used, even by a read.
		for _, tool := range []string{"iptables-legacy", "ip6tables-legacy"} {
			for _, table := range []string{"filter", "mangle"} {
				s.run("", tool, "-t", table, "-S")
			}
		}
		first := stamps()
		s.run("", "iptables-nft", "-S")
		s.run("", "iptables-legacy", "-S")
		if again := stamps(); again[netfilter.NFT] != first[netfilter.NFT] || again[netfilter.Legacy] != first[netfilter.Legacy] {
			t.Fatalf("reads moved the stamps: %v, then %v", first, again)
		}
		s.run("", "iptables-nft", "-t", "mangle", "-N", "KUBE-KUBELET-CANARY")
		afterNFT := stamps()
		if afterNFT[netfilter.NFT] == first[netfilter.NFT] || afterNFT[netfilter.Legacy] != first[netfilter.Legacy] {
			t.Fatalf("an nf_tables chain added: %v, then %v", first, afterNFT)
		}
		s.run("", "iptables-legacy", "-t", "mangle", "-N", "KUBE-KUBELET-CANARY")
		afterLegacy := stamps()
		if afterLegacy[netfilter.Legacy] == afterNFT[netfilter.Legacy] {
			t.Fatalf("a legacy chain added: %v, then %v", afterNFT, afterLegacy)
		}
		s.run("", "ip6tables-legacy", "-N", "KUBE-FIREWALL")
		if last := stamps(); last[netfilter.Legacy] == afterLegacy[netfilter.Legacy] {
			t.Fatalf("an IPv6 legacy chain added: %v, then %v", afterLegacy, last)
		}
	})
}
