package detect

import (
	"strings"
	"testing"
	"time"

	"github.com/iptables-shim/iptables-shim/shim/backend"
)

// fam builds one family's evidence: chains are "table/CHAIN" strings, sorted
// into markers and kubelet chains by the lists detection uses.
func fam(family string, rules int, chains ...string) FamilyEvidence {
	fe := FamilyEvidence{Family: family, Rules: rules, Counted: true, KubeletChecked: true, Markers: []ChainRef{}, KubeletChains: []ChainRef{}}
	for _, c := range chains {
		t, n, _ := strings.Cut(c, "/")
		ref := ChainRef{t, n}
		if containsRef(MarkerChains(), ref) {
			fe.Markers = append(fe.Markers, ref)
		} else {
			fe.KubeletChains = append(fe.KubeletChains, ref)
		}
	}
	return fe
}

func containsRef(refs []ChainRef, r ChainRef) bool {
	for _, x := range refs {
		if x == r {
			return true
		}
	}
	return false
}

func ev(nft4, nft6, leg4, leg6 FamilyEvidence) Evidence {
	return Evidence{Backends: []BackendEvidence{
		{Mode: backend.NFT, Families: []FamilyEvidence{nft4, nft6}},
		{Mode: backend.Legacy, Families: []FamilyEvidence{leg4, leg6}},
	}}
}

func empty(family string) FamilyEvidence { return fam(family, 0) }

var (
	e4 = empty(FamilyIPv4)
	e6 = empty(FamilyIPv6)
)

func TestDecide(t *testing.T) {
	withHints := func(e Evidence, h HostHints) Evidence { e.Hints = h; return e }
	waited := func(e Evidence, d time.Duration) Evidence { e.Waited = d; return e }
	unavailable := FamilyEvidence{Family: FamilyIPv4, Unavailable: true, Error: "nf_tables unavailable: protocol not supported"}
	unavailable6 := unavailable
	unavailable6.Family = FamilyIPv6
	wait := Policy{Wait: 3 * time.Second}

	cases := []struct {
		name       string
		ev         Evidence
		pol        Policy
		mode       backend.Mode
		reason     Reason
		basis      string // "table/CHAIN" or ""
		split      bool
		warnSubstr string
	}{
		{"override wins over evidence", ev(fam(FamilyIPv4, 0, "mangle/KUBE-IPTABLES-HINT"), e6, e4, e6),
			Policy{Override: backend.Legacy, OverrideSource: "env IPTABLES_SHIM_MODE"}, backend.Legacy, ReasonOverride, "", false, "override says legacy"},
		{"hint in nft only", ev(fam(FamilyIPv4, 3, "mangle/KUBE-IPTABLES-HINT"), e6, fam(FamilyIPv4, 50), e6),
			Policy{}, backend.NFT, ReasonMarker, "mangle/KUBE-IPTABLES-HINT", false, ""},
		{"hint in legacy only", ev(fam(FamilyIPv4, 90), e6, fam(FamilyIPv4, 1, "mangle/KUBE-IPTABLES-HINT"), e6),
			Policy{}, backend.Legacy, ReasonMarker, "mangle/KUBE-IPTABLES-HINT", false, ""},
		{"kubelet canary v6 only", ev(e4, e6, e4, fam(FamilyIPv6, 0, "nat/KUBE-KUBELET-CANARY")),
			Policy{}, backend.Legacy, ReasonMarker, "nat/KUBE-KUBELET-CANARY", false, ""},
		{"proxy canary", ev(e4, fam(FamilyIPv6, 0, "filter/KUBE-PROXY-CANARY"), e4, e6),
			Policy{}, backend.NFT, ReasonMarker, "filter/KUBE-PROXY-CANARY", false, ""},
		{"kubelet 1.13 chains in nft only (incident host)", ev(fam(FamilyIPv4, 6, "nat/KUBE-MARK-DROP", "filter/KUBE-FIREWALL", "nat/KUBE-MARK-MASQ", "nat/KUBE-POSTROUTING"), e6, e4, e6),
			Policy{}, backend.NFT, ReasonKubeletChains, "nat/KUBE-MARK-DROP", false, ""},
		{"kubelet chains in legacy only (CentOS 7)", ev(e4, e6, fam(FamilyIPv4, 6, "nat/KUBE-MARK-DROP", "filter/KUBE-FIREWALL"), e6),
			Policy{}, backend.Legacy, ReasonKubeletChains, "nat/KUBE-MARK-DROP", false, ""},
		{"split: incident after kube-proxy -N in legacy", ev(fam(FamilyIPv4, 6, "nat/KUBE-MARK-DROP", "filter/KUBE-FIREWALL", "nat/KUBE-MARK-MASQ", "nat/KUBE-POSTROUTING"), e6,
			fam(FamilyIPv4, 5, "nat/KUBE-MARK-MASQ", "nat/KUBE-POSTROUTING"), e6),
			Policy{}, backend.NFT, ReasonKubeletChains, "nat/KUBE-MARK-DROP", true, "both backends"},
		{"split: kubelet hint in legacy, proxy canary in nft", ev(fam(FamilyIPv4, 0, "mangle/KUBE-PROXY-CANARY"), e6, fam(FamilyIPv4, 0, "mangle/KUBE-IPTABLES-HINT"), e6),
			Policy{}, backend.Legacy, ReasonMarker, "mangle/KUBE-IPTABLES-HINT", true, "kubelet's chains outrank"},
		{"split: identical chains, nft preferred", ev(fam(FamilyIPv4, 0, "mangle/KUBE-IPTABLES-HINT"), e6, fam(FamilyIPv4, 0, "mangle/KUBE-IPTABLES-HINT"), e6),
			Policy{}, backend.NFT, ReasonMarker, "mangle/KUBE-IPTABLES-HINT", true, "no chain tells them apart"},
		{"rule counts: legacy more", ev(fam(FamilyIPv4, 3), fam(FamilyIPv6, 1), fam(FamilyIPv4, 2), fam(FamilyIPv6, 5)),
			Policy{}, backend.Legacy, ReasonRuleCount, "", false, ""},
		{"rule counts: v6-only rules in nft", ev(e4, fam(FamilyIPv6, 4), e4, e6),
			Policy{}, backend.NFT, ReasonRuleCount, "", false, ""},
		{"rule counts tie goes to hints", withHints(ev(fam(FamilyIPv4, 2), e6, fam(FamilyIPv4, 2), e6), HostHints{Root: "/host", Trusted: true, Alternatives: "/usr/sbin/iptables-legacy"}),
			Policy{}, backend.Legacy, ReasonHostHint, "", false, ""},
		{"alternatives link", withHints(ev(e4, e6, e4, e6), HostHints{Root: "/", Trusted: true, Alternatives: "/usr/sbin/iptables-nft"}),
			wait, backend.NFT, ReasonHostHint, "", false, ""},
		{"iptables link", withHints(ev(e4, e6, e4, e6), HostHints{Root: "/", Trusted: true, IptablesLink: "xtables-legacy-multi"}),
			wait, backend.Legacy, ReasonHostHint, "", false, ""},
		{"only one xtables binary", withHints(ev(e4, e6, e4, e6), HostHints{Root: "/", Trusted: true, Xtables: []string{"xtables-nft-multi"}}),
			wait, backend.NFT, ReasonHostHint, "", false, ""},
		{"os release centos 7", withHints(ev(e4, e6, e4, e6), HostHints{Root: "/", Trusted: true, OSID: "centos", OSVersionID: "7"}),
			wait, backend.Legacy, ReasonHostHint, "", false, ""},
		{"os release centos 8", withHints(ev(e4, e6, e4, e6), HostHints{Root: "/", Trusted: true, OSID: "centos", OSVersionID: "8"}),
			wait, backend.NFT, ReasonHostHint, "", false, ""},
		{"an image's hints are no evidence (untrusted root)", withHints(waited(ev(e4, e6, e4, e6), 3*time.Second), HostHints{Root: "/", Alternatives: "/usr/sbin/iptables-legacy", OSID: "debian", OSVersionID: "9"}),
			wait, backend.NFT, ReasonDefault, "", false, ""},
		{"hints disabled (no root)", withHints(ev(e4, e6, e4, e6), HostHints{Alternatives: "/usr/sbin/iptables-legacy"}),
			Policy{}, backend.NFT, ReasonDefault, "", false, ""},
		{"empty host asks to wait", ev(e4, e6, e4, e6),
			wait, "", ReasonWait, "", false, ""},
		{"empty host after waiting: default", waited(ev(e4, e6, e4, e6), 3*time.Second),
			wait, backend.NFT, ReasonDefault, "", false, ""},
		{"configured default legacy", ev(e4, e6, e4, e6),
			Policy{Default: backend.Legacy}, backend.Legacy, ReasonDefault, "", false, ""},
		{"default unavailable: the other", ev(unavailable, unavailable6, e4, e6),
			Policy{}, backend.Legacy, ReasonDefault, "", false, ""},
		{"nothing readable: says so", waited(ev(FamilyEvidence{Family: FamilyIPv4, Denied: true}, FamilyEvidence{Family: FamilyIPv6, Denied: true},
			FamilyEvidence{Family: FamilyIPv4, Denied: true}, FamilyEvidence{Family: FamilyIPv6, Denied: true}), 3*time.Second),
			wait, backend.NFT, ReasonDefault, "", false, "run as root"},
		{"capped nft count beats smaller legacy", ev(FamilyEvidence{Family: FamilyIPv4, Rules: 1000, Capped: true}, e6, fam(FamilyIPv4, 999), e6),
			Policy{}, backend.NFT, ReasonRuleCount, "", false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Decide(c.ev, c.pol)
			if d.Mode != c.mode || d.Reason != c.reason {
				t.Fatalf("got %s/%s (%s), want %s/%s", d.Mode, d.Reason, d.Detail, c.mode, c.reason)
			}
			gotBasis := ""
			if d.Basis != nil {
				gotBasis = d.Basis.Table + "/" + d.Basis.Chain
			}
			if gotBasis != c.basis {
				t.Errorf("basis %q, want %q", gotBasis, c.basis)
			}
			if d.Split != c.split {
				t.Errorf("split %v, want %v", d.Split, c.split)
			}
			warnings := strings.Join(d.Warnings, "\n")
			if c.warnSubstr == "" && warnings != "" {
				t.Errorf("unexpected warnings: %s", warnings)
			}
			if !strings.Contains(warnings, c.warnSubstr) {
				t.Errorf("warnings %q lack %q", warnings, c.warnSubstr)
			}
			if d.Detail == "" {
				t.Error("empty detail")
			}
		})
	}
}

func TestParseOSRelease(t *testing.T) {
	id, v := parseOSRelease([]byte("NAME=\"CentOS Linux\"\nID=\"centos\"\nVERSION_ID=\"8.2\"\n"))
	if id != "centos" || v != "8.2" {
		t.Fatalf("got %q %q", id, v)
	}
	for _, c := range []struct {
		id, v string
		want  backend.Mode
		ok    bool
	}{
		{"ubuntu", "20.04", backend.Legacy, true},
		{"ubuntu", "22.04", backend.NFT, true},
		{"debian", "9", backend.Legacy, true},
		{"rhel", "9.4", backend.NFT, true},
		{"arch", "", "", false},
	} {
		m, ok := osReleaseMode(c.id, c.v)
		if m != c.want || ok != c.ok {
			t.Errorf("%s %s: got %s %v", c.id, c.v, m, ok)
		}
	}
}
