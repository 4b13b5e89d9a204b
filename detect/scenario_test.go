package detect

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iptables-shim/iptables-shim/detect/helperproc"
	"github.com/iptables-shim/iptables-shim/internal/kubefixture"
	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/shim/backend"
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

type scenario struct {
	t     *testing.T
	ns    *netnstest.NS
	cache string
}

func newScenario(t *testing.T) *scenario {
	t.Helper()
	netnstest.Require(t, "iptables-nft-restore", "iptables-legacy-restore", "ip6tables-legacy-restore")
	return &scenario{t: t, ns: netnstest.New(t), cache: t.TempDir()}
}

func (s *scenario) load(tool, payload string) {
	s.t.Helper()
	s.ns.MustRunStdin(payload, tool, "--noflush")
}

func (s *scenario) resolve(env ...string) Decision {
	s.t.Helper()
	r := helperproc.Run(s.t, s.ns, "resolve", append([]string{"T_CACHE=" + s.cache}, env...)...)
	if r.Code != 0 {
		s.t.Fatalf("resolve helper: %s", r)
	}
	var d Decision
	if err := json.Unmarshal([]byte(r.Stdout), &d); err != nil {
		s.t.Fatalf("decoding %q: %v", r.Stdout, err)
	}
	return d
}

func expect(t *testing.T, d Decision, mode backend.Mode, reason Reason) {
	t.Helper()
	if d.Mode != mode || d.Reason != reason {
		t.Fatalf("decided %s/%s (%s), want %s/%s; evidence %+v", d.Mode, d.Reason, d.Detail, mode, reason, d.Evidence.Backends)
	}
}

func TestScenarioHintInNFTOnly(t *testing.T) {
	s := newScenario(t)
	s.load("iptables-nft-restore", hint)
	d := s.resolve()
	expect(t, d, backend.NFT, ReasonMarker)
	if d.Basis == nil || d.Basis.Chain != HintChain {
		t.Errorf("basis %+v, want the hint chain", d.Basis)
	}
}

func TestScenarioIncidentHost(t *testing.T) {
	// Kubelet 1.13 wrote its chains with the host's iptables-nft; nothing in
	// legacy at all.
	s := newScenario(t)
	s.load("iptables-nft-restore", kubefixture.Kubelet113)
	d := s.resolve()
	expect(t, d, backend.NFT, ReasonKubeletChains)
	if len(d.Warnings) != 0 {
		t.Errorf("warnings: %v", d.Warnings)
	}
}

func TestScenarioKubeletChainsInLegacyOnly(t *testing.T) {
	// CentOS 7: kubelet used iptables-legacy.
	s := newScenario(t)
	s.load("iptables-legacy-restore", kubefixture.Kubelet113)
	expect(t, s.resolve(), backend.Legacy, ReasonKubeletChains)
}

func TestScenarioBothBackends(t *testing.T) {
	// kubelet in nft; a legacy kube-proxy ran -N for its own chains.
	s := newScenario(t)
	s.load("iptables-nft-restore", kubefixture.Kubelet113)
	s.load("iptables-legacy-restore", "*nat\n:KUBE-MARK-MASQ - [0:0]\n:KUBE-POSTROUTING - [0:0]\n:KUBE-SERVICES - [0:0]\nCOMMIT\n")
	d := s.resolve()
	expect(t, d, backend.NFT, ReasonKubeletChains)
	if !d.Split || len(d.Warnings) == 0 || !strings.Contains(d.Warnings[0], "both backends") {
		t.Errorf("split %v, warnings %v", d.Split, d.Warnings)
	}
}

func TestScenarioEmptyHostWaitsThenDefaults(t *testing.T) {
	s := newScenario(t)
	d := s.resolve("T_WAIT=400ms")
	expect(t, d, backend.NFT, ReasonDefault)
	if d.Evidence.Waited < 400*time.Millisecond {
		t.Errorf("waited %s, want >= 400ms", d.Evidence.Waited)
	}
}

func TestScenarioEvidenceAppearsDuringWait(t *testing.T) {
	s := newScenario(t)
	done := make(chan Decision)
	go func() { done <- s.resolve("T_WAIT=20s") }()
	time.Sleep(300 * time.Millisecond)
	s.load("iptables-legacy-restore", kubefixture.Kubelet113)
	d := <-done
	expect(t, d, backend.Legacy, ReasonKubeletChains)
}

func TestScenarioV6OnlyRules(t *testing.T) {
	s := newScenario(t)
	s.load("ip6tables-legacy-restore", stray)
	d := s.resolve()
	expect(t, d, backend.Legacy, ReasonRuleCount)
	leg := d.Evidence.Backend(backend.Legacy)
	if leg.Families[1].Rules != 4 || leg.Families[0].Rules != 0 {
		t.Errorf("legacy counts %+v, want v4 0, v6 4", leg.Families)
	}
}

func TestScenarioStrayRulesInOtherBackend(t *testing.T) {
	// A debug pod left rules in nft; kubelet's hint is in legacy.
	s := newScenario(t)
	s.load("iptables-nft-restore", stray)
	s.load("iptables-legacy-restore", hint)
	expect(t, s.resolve(), backend.Legacy, ReasonMarker)
}

func TestScenarioOverride(t *testing.T) {
	s := newScenario(t)
	s.load("iptables-nft-restore", hint)
	d := s.resolve("T_MODE=legacy")
	expect(t, d, backend.Legacy, ReasonOverride)
}

func TestScenarioShimCreatedChainsAreNotEvidence(t *testing.T) {
	// The guard created KUBE-MARK-DROP in legacy after a default decision;
	// that must not make legacy look like kubelet's backend.
	s := newScenario(t)
	s.load("iptables-legacy-restore", "*nat\n:KUBE-MARK-DROP - [0:0]\n-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000\nCOMMIT\n")
	if r := helperproc.Run(t, s.ns, "record-created", "T_CACHE="+s.cache, "T_CREATED=legacy ipv4 nat KUBE-MARK-DROP"); r.Code != 0 {
		t.Fatalf("record-created: %s", r)
	}
	d := s.resolve()
	expect(t, d, backend.NFT, ReasonDefault)
	if n := d.Evidence.Backend(backend.Legacy).Families[0].Rules; n != 0 {
		t.Errorf("legacy counted %d rules, want 0 (only the shim's chain)", n)
	}
}

func TestScenarioFlipAfterCache(t *testing.T) {
	s := newScenario(t)
	s.load("iptables-nft-restore", hint)
	first := s.resolve()
	expect(t, first, backend.NFT, ReasonMarker)
	again := s.resolve()
	if !again.Cached || !again.DecidedAt.Equal(first.DecidedAt) {
		t.Errorf("second call not served from the cache: cached %v, decided %s vs %s", again.Cached, again.DecidedAt, first.DecidedAt)
	}
	// The host flips: the hint moves to legacy.
	s.ns.MustRun("iptables-nft", "-t", "mangle", "-X", HintChain)
	s.ns.MustRun("iptables-nft", "-t", "mangle", "-X", KubeletCanary)
	s.load("iptables-legacy-restore", hint)
	flipped := s.resolve()
	expect(t, flipped, backend.Legacy, ReasonMarker)
	if flipped.Cached {
		t.Error("flipped decision claims to come from the cache")
	}
}

func TestScenarioWeakDecisionRedecidesWhenKubeletArrives(t *testing.T) {
	s := newScenario(t)
	expect(t, s.resolve(), backend.NFT, ReasonDefault)
	s.load("iptables-legacy-restore", kubefixture.Kubelet113)
	expect(t, s.resolve(), backend.Legacy, ReasonKubeletChains)
}

func TestScenarioConcurrentFirstCalls(t *testing.T) {
	s := newScenario(t)
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
		expect(t, d, backend.Legacy, ReasonKubeletChains)
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
	if e.Decision.Mode != backend.Legacy {
		t.Errorf("cached mode %s", e.Decision.Mode)
	}
}
