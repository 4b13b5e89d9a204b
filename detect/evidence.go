package detect

import (
	"time"

	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// Family names used in evidence and JSON: "ipv4", "ipv6".
const (
	FamilyIPv4 = "ipv4"
	FamilyIPv6 = "ipv6"
)

// FamilyName is the evidence name of an iptables family.
func FamilyName(f syntax.Family) string {
	if f == syntax.IPv6 {
		return FamilyIPv6
	}
	return FamilyIPv4
}

// Families are the families every backend is probed for, v4 first.
func Families() []syntax.Family { return []syntax.Family{syntax.IPv4, syntax.IPv6} }

// ChainRef names a chain within a table.
type ChainRef struct {
	Table string `json:"table"`
	Chain string `json:"chain"`
}

func (r ChainRef) String() string { return r.Table + "/" + r.Chain }

// FamilyEvidence is what one backend showed for one family.
type FamilyEvidence struct {
	Family string `json:"family"`
	// Error is why the probe failed or was partial ("nf_tables unavailable:
	// protocol not supported"); a failed probe is evidence, not a crash.
	Error string `json:"error,omitempty"`
	// Unavailable is true when the subsystem cannot be used at all for this
	// family (module not loaded, protocol not supported).
	Unavailable bool `json:"unavailable,omitempty"`
	// Denied is true when the probe failed for want of privileges.
	Denied bool     `json:"denied,omitempty"`
	Tables []string `json:"tables"`
	// Markers are the Kubernetes marker chains found (layer 2).
	Markers []ChainRef `json:"markers"`
	// KubeletChains are the kubelet 1.13-1.16 chains found (layer 3), not
	// counting chains this shim created itself. KubeletChecked says whether
	// they were looked for: they are skipped when a marker already decides.
	KubeletChains  []ChainRef `json:"kubelet_chains"`
	KubeletChecked bool       `json:"kubelet_checked"`
	// Counted says whether rules were counted: counting is skipped when a
	// Kubernetes chain already decides.
	Counted bool `json:"counted"`
	// Rules is the number of rules, not counting those in chains this shim
	// created. When Capped it is a lower bound (counting stops at a limit so
	// it cannot grow with the ruleset).
	Rules  int  `json:"rules"`
	Capped bool `json:"capped,omitempty"`
}

// BackendEvidence is one backend's evidence, per family.
type BackendEvidence struct {
	Mode     backend.Mode     `json:"mode"`
	Families []FamilyEvidence `json:"families"`
}

// HostHints are facts read from the host's root file system (layer 5).
type HostHints struct {
	// Root is where the host's root is mounted ("/" on the host itself, e.g.
	// "/host" in a container); empty when hints are disabled.
	Root string `json:"root"`
	// Trusted says whether Root was found to be the host's root (see
	// CheckHostRoot); only then are the fields below read and used. Trust
	// says why, or why not. ReadFrom is where they were read: Root, or
	// /proc/1/root when this process's / may be an image's.
	Trusted  bool   `json:"trusted"`
	Trust    string `json:"trust,omitempty"`
	ReadFrom string `json:"read_from,omitempty"`
	// Alternatives is the target of etc/alternatives/iptables.
	Alternatives string `json:"alternatives,omitempty"`
	// IptablesLink is the target of usr/sbin/iptables when it is a link.
	IptablesLink string `json:"iptables_link,omitempty"`
	// OSID and OSVersionID come from etc/os-release.
	OSID        string `json:"os_id,omitempty"`
	OSVersionID string `json:"os_version_id,omitempty"`
	// Xtables lists which xtables-*-multi binaries the host has.
	Xtables []string `json:"xtables,omitempty"`
	Errors  []string `json:"errors,omitempty"`
}

// Evidence is everything the decision looks at.
type Evidence struct {
	// Backends holds nf_tables first, then legacy.
	Backends []BackendEvidence `json:"backends"`
	Hints    HostHints         `json:"hints"`
	// Waited is how long detection waited for evidence to appear (layer 6).
	Waited time.Duration `json:"waited_ns"`
}

// Backend returns the evidence of one backend (empty when not probed).
func (e *Evidence) Backend(m backend.Mode) BackendEvidence {
	for _, b := range e.Backends {
		if b.Mode == m {
			return b
		}
	}
	return BackendEvidence{Mode: m}
}

// hasKubernetes reports whether the backend showed any marker or kubelet
// chain, in either family.
func (b BackendEvidence) hasKubernetes() bool {
	for _, f := range b.Families {
		if len(f.Markers)+len(f.KubeletChains) > 0 {
			return true
		}
	}
	return false
}

func (b BackendEvidence) rules() (n int, capped bool) {
	for _, f := range b.Families {
		n += f.Rules
		capped = capped || f.Capped
	}
	return n, capped
}

func (b BackendEvidence) unavailable() bool {
	if len(b.Families) == 0 {
		return false
	}
	for _, f := range b.Families {
		if !f.Unavailable {
			return false
		}
	}
	return true
}

// familyOf is the inverse of FamilyName.
func familyOf(name string) syntax.Family {
	if name == FamilyIPv6 {
		return syntax.IPv6
	}
	return syntax.IPv4
}

// denied reports whether every probe that ran was refused for want of
// privileges: the evidence is then empty because nothing could be read.
func (e *Evidence) denied() bool {
	n := 0
	for _, b := range e.Backends {
		for _, f := range b.Families {
			if !f.Denied {
				return false
			}
			n++
		}
	}
	return n > 0
}
