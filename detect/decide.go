package detect

import (
	"fmt"
	"strings"
	"time"

	"github.com/iptables-shim/iptables-shim/shim/backend"
)

// Reason names the layer that made a decision. The values are stable: they
// appear in the JSON output, the log and the cache file.
type Reason string

const (
	// ReasonOverride: an explicit setting (env, config file, flag) decided.
	ReasonOverride Reason = "override"
	// ReasonMarker: a Kubernetes marker chain (KUBE-IPTABLES-HINT,
	// KUBE-KUBELET-CANARY, KUBE-PROXY-CANARY) decided.
	ReasonMarker Reason = "marker"
	// ReasonKubeletChains: chains kubelet 1.13-1.16 creates decided.
	ReasonKubeletChains Reason = "kubelet-chains"
	// ReasonRuleCount: one backend holds more rules.
	ReasonRuleCount Reason = "rule-count"
	// ReasonHostHint: the host's alternatives link, iptables link, installed
	// xtables binaries or OS release decided.
	ReasonHostHint Reason = "host-hint"
	// ReasonWait is not a final reason: Decide returns it (with no Mode)
	// when nothing at all was found and the wait budget is not spent yet, so
	// the caller probes again later.
	ReasonWait Reason = "wait"
	// ReasonDefault: nothing decided, even after waiting; the configured
	// default applies.
	ReasonDefault Reason = "default"
)

// Policy is the configuration the decision applies.
type Policy struct {
	// Override, when set, decides outright (layer 1). The lead's config
	// package resolves env, config file and flag into it.
	Override backend.Mode
	// OverrideSource says where Override came from, for the detail line.
	OverrideSource string
	// Wait is how long to wait for evidence when nothing at all is found.
	Wait time.Duration
	// Default is the final fallback (layer 7); nft when empty.
	Default backend.Mode
}

// DefaultMode is Policy.Default with the documented fallback applied.
func (p Policy) DefaultMode() backend.Mode {
	if p.Default == "" {
		return backend.NFT
	}
	return p.Default
}

// Basis is the chain a decision rests on. Resolve re-checks that it still
// exists before trusting a cached decision.
type Basis struct {
	Mode   backend.Mode `json:"mode"`
	Family string       `json:"family"`
	Table  string       `json:"table"`
	Chain  string       `json:"chain"`
}

func (b Basis) String() string {
	return fmt.Sprintf("%s %s %s/%s", modeLabel(b.Mode), b.Family, b.Table, b.Chain)
}

// Decision is the outcome of detection.
type Decision struct {
	// Mode is "nft" or "legacy" (empty only with ReasonWait).
	Mode   backend.Mode `json:"mode"`
	Reason Reason       `json:"reason"`
	// Detail is one human sentence saying why.
	Detail   string   `json:"detail"`
	Warnings []string `json:"warnings,omitempty"`
	// Basis is the chain that decided, for marker and kubelet-chains
	// decisions.
	Basis *Basis `json:"basis,omitempty"`
	// Split is true when Kubernetes chains exist in both backends.
	Split    bool     `json:"split"`
	Evidence Evidence `json:"evidence"`
	// DecidedAt identifies the decision: calls served from the cache carry
	// the time it was first made.
	DecidedAt time.Time `json:"decided_at"`
	// Cached is true when the decision came from the cache.
	Cached bool `json:"cached"`
}

// Strong reports whether the decision rests on a Kubernetes chain (or an
// override), as opposed to counts, hints or defaults that new evidence
// should overturn.
func (d Decision) Strong() bool {
	return d.Reason == ReasonOverride || d.Reason == ReasonMarker || d.Reason == ReasonKubeletChains
}

func modeLabel(m backend.Mode) string {
	if m == backend.NFT {
		return "nf_tables"
	}
	return string(m)
}

func other(m backend.Mode) backend.Mode {
	if m == backend.NFT {
		return backend.Legacy
	}
	return backend.NFT
}

// modeOrder is the order backends are consulted in: nf_tables first.
var modeOrder = [...]backend.Mode{backend.NFT, backend.Legacy}

// Decide applies the layers in order; the first that decides wins. It is pure:
// everything it needs is in ev and p.
//
// Split brain (Kubernetes chains in both backends): kubelet runs on the host
// with the host's own iptables, while a containerised kube-proxy may be using
// the wrong one, so kubelet's chains outrank kube-proxy's. Candidates are
// taken in this order: KUBE-IPTABLES-HINT, KUBE-KUBELET-CANARY,
// KUBE-MARK-DROP, filter KUBE-FIREWALL, KUBE-MARK-MASQ, KUBE-POSTROUTING,
// KUBE-PROXY-CANARY; the first present in exactly one backend decides. When
// none tells the backends apart, nf_tables wins. Either way a warning is
// recorded.
func Decide(ev Evidence, p Policy) Decision {
	d := decideLayers(ev, p)
	if d.Reason != ReasonOverride && ev.denied() {
		d.Warnings = append(d.Warnings, "no backend could be read (permission denied): run as root; "+
			"this decision rests on no kernel evidence")
	}
	return d
}

func decideLayers(ev Evidence, p Policy) Decision {
	d := Decision{Evidence: ev}
	if p.Override != "" {
		src := p.OverrideSource
		if src == "" {
			src = "explicit setting"
		}
		d.Mode, d.Reason = p.Override, ReasonOverride
		d.Detail = fmt.Sprintf("%s set by %s", modeLabel(p.Override), src)
		if w := overrideDisagrees(ev, p.Override); w != "" {
			d.Warnings = append(d.Warnings, w)
		}
		return d
	}

	nft, legacy := ev.Backend(backend.NFT), ev.Backend(backend.Legacy)
	if nft.hasKubernetes() && legacy.hasKubernetes() {
		d.Split = true
		return decideSplit(d, ev)
	}
	for _, layer := range []struct {
		reason Reason
		refs   []ChainRef
		pick   func(FamilyEvidence) []ChainRef
	}{
		{ReasonMarker, MarkerChains(), func(f FamilyEvidence) []ChainRef { return f.Markers }},
		{ReasonKubeletChains, KubeletChains(), func(f FamilyEvidence) []ChainRef { return f.KubeletChains }},
	} {
		for _, ref := range layer.refs {
			for _, m := range modeOrder {
				if b, ok := find(ev.Backend(m), ref, layer.pick); ok {
					d.Mode, d.Reason, d.Basis = m, layer.reason, &b
					d.Detail = fmt.Sprintf("%s exists in %s", b, modeLabel(m))
					return d
				}
			}
		}
	}

	nRules, nCapped := nft.rules()
	lRules, lCapped := legacy.rules()
	if nRules != lRules || nCapped != lCapped {
		win := backend.NFT
		if lRules > nRules || (lCapped && !nCapped) {
			win = backend.Legacy
		}
		d.Mode, d.Reason = win, ReasonRuleCount
		d.Detail = fmt.Sprintf("no Kubernetes chains; %s holds more rules (nf_tables %s, legacy %s)",
			modeLabel(win), countText(nRules, nCapped), countText(lRules, lCapped))
		return d
	}

	if m, why, ok := decideHints(ev.Hints); ok {
		d.Mode, d.Reason, d.Detail = m, ReasonHostHint, why
		return d
	}

	nothing := nRules == 0 && lRules == 0
	if nothing && ev.Waited < p.Wait {
		d.Reason = ReasonWait
		d.Detail = fmt.Sprintf("nothing found yet; waiting up to %s for evidence", p.Wait)
		return d
	}

	def := p.DefaultMode()
	d.Mode, d.Reason = def, ReasonDefault
	switch {
	case ev.Backend(def).unavailable() && !ev.Backend(other(def)).unavailable():
		d.Mode = other(def)
		d.Detail = fmt.Sprintf("no evidence; default %s is unavailable here, so %s", modeLabel(def), modeLabel(d.Mode))
	case nothing && p.Wait > 0:
		d.Detail = fmt.Sprintf("no evidence after waiting %s; default %s", ev.Waited.Round(time.Millisecond), modeLabel(def))
	case nothing:
		d.Detail = fmt.Sprintf("no evidence; default %s", modeLabel(def))
	default:
		d.Detail = fmt.Sprintf("no Kubernetes chains and equal rule counts (%s); default %s", countText(nRules, nCapped), modeLabel(def))
	}
	return d
}

func decideSplit(d Decision, ev Evidence) Decision {
	ranked := []struct {
		reason Reason
		chain  string
		table  string // empty: any table
		pick   func(FamilyEvidence) []ChainRef
	}{
		{ReasonMarker, HintChain, "mangle", markersOf},
		{ReasonMarker, KubeletCanary, "", markersOf},
		{ReasonKubeletChains, "KUBE-MARK-DROP", "nat", kubeletOf},
		{ReasonKubeletChains, "KUBE-FIREWALL", "filter", kubeletOf},
		{ReasonKubeletChains, "KUBE-MARK-MASQ", "nat", kubeletOf},
		{ReasonKubeletChains, "KUBE-POSTROUTING", "nat", kubeletOf},
		{ReasonMarker, ProxyCanary, "", markersOf},
	}
	summary := fmt.Sprintf("Kubernetes chains exist in both backends (nf_tables: %s; legacy: %s)",
		kubeList(ev.Backend(backend.NFT)), kubeList(ev.Backend(backend.Legacy)))
	for _, r := range ranked {
		var found []Basis
		var in []backend.Mode
		for _, m := range modeOrder {
			if b, ok := findName(ev.Backend(m), r.table, r.chain, r.pick); ok {
				found = append(found, b)
				in = append(in, m)
			}
		}
		if len(found) != 1 {
			continue
		}
		b := found[0]
		d.Mode, d.Reason, d.Basis = in[0], r.reason, &b
		d.Detail = fmt.Sprintf("%s exists only in %s", b, modeLabel(in[0]))
		d.Warnings = append(d.Warnings, fmt.Sprintf("%s; chose %s because %s/%s is only there (kubelet's chains outrank kube-proxy's)",
			summary, modeLabel(in[0]), b.Table, b.Chain))
		return d
	}
	d.Mode, d.Reason = backend.NFT, ReasonMarker
	d.Detail = "the same Kubernetes chains exist in both backends; nf_tables preferred"
	if b, ok := firstKube(ev.Backend(backend.NFT)); ok {
		d.Basis = &b
	}
	d.Warnings = append(d.Warnings, summary+"; no chain tells them apart, chose nf_tables")
	return d
}

func markersOf(f FamilyEvidence) []ChainRef { return f.Markers }
func kubeletOf(f FamilyEvidence) []ChainRef { return f.KubeletChains }

func find(b BackendEvidence, ref ChainRef, pick func(FamilyEvidence) []ChainRef) (Basis, bool) {
	return findName(b, ref.Table, ref.Chain, pick)
}

func findName(b BackendEvidence, table, chain string, pick func(FamilyEvidence) []ChainRef) (Basis, bool) {
	for _, f := range b.Families {
		for _, r := range pick(f) {
			if r.Chain == chain && (table == "" || r.Table == table) {
				return Basis{Mode: b.Mode, Family: f.Family, Table: r.Table, Chain: r.Chain}, true
			}
		}
	}
	return Basis{}, false
}

func firstKube(b BackendEvidence) (Basis, bool) {
	for _, f := range b.Families {
		for _, r := range append(append([]ChainRef{}, f.Markers...), f.KubeletChains...) {
			return Basis{Mode: b.Mode, Family: f.Family, Table: r.Table, Chain: r.Chain}, true
		}
	}
	return Basis{}, false
}

func kubeList(b BackendEvidence) string {
	var parts []string
	for _, f := range b.Families {
		for _, r := range append(append([]ChainRef{}, f.Markers...), f.KubeletChains...) {
			parts = append(parts, f.Family+" "+r.String())
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func countText(n int, capped bool) string {
	if capped {
		return fmt.Sprintf(">=%d", n)
	}
	return fmt.Sprint(n)
}

// overrideDisagrees warns, as calico does, when an explicit setting points
// away from where Kubernetes chains are.
func overrideDisagrees(ev Evidence, m backend.Mode) string {
	if ev.Backend(other(m)).hasKubernetes() && !ev.Backend(m).hasKubernetes() {
		return fmt.Sprintf("override says %s but Kubernetes chains exist only in %s (%s)",
			modeLabel(m), modeLabel(other(m)), kubeList(ev.Backend(other(m))))
	}
	return ""
}
