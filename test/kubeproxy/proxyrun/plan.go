// Package proxyrun runs kube-proxy's own iptables proxier (k8s.io/kubernetes
// v1.37.2, pkg/proxy/iptables) in the current network namespace: it feeds
// the IPv4 and IPv6 proxiers services through their event handlers and
// drives a full sync, two partial syncs and a forced full resync, as the
// proxiers' sync loops would, and reports each sync's outcome and the
// elapsed time kube-proxy itself logs ("SyncProxyRules complete").
//
// The proxier finds iptables, iptables-save and iptables-restore (and the
// ip6tables twins) through PATH, as kube-proxy does; the caller decides
// what they are (the real binaries or the shim) by the PATH it gives the
// process. It is meant to run in a child process placed in a private
// network namespace (see package harness).
package proxyrun

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
)

// Plan is what one run does.
type Plan struct {
	// Services is 0 for the feature fixtures (every kind of rule the
	// proxier writes) or the number of generated plain services.
	Services int
	// NFAcct false runs the proxiers as on a kernel without
	// nfnetlink_acct: no nfacct runner, so no "-m nfacct" rules.
	NFAcct bool
}

// Step names, in the order a run performs them.
const (
	StepFull     = "full"
	StepPartial1 = "partial-1"
	StepPartial2 = "partial-2"
	StepResync   = "forced-full"
)

// Steps is the order of the syncs in a run.
var Steps = []string{StepFull, StepPartial1, StepPartial2, StepResync}

// Sync is one syncProxyRules call of one family's proxier.
type Sync struct {
	Step   string
	Family string
	// Full is what the proxier logged as its decision ("fullSync").
	Full bool
	// OK is false when the proxier logged "Sync failed".
	OK bool
	// Seconds is the elapsed time of "SyncProxyRules complete".
	Seconds float64
	// Errors are the errors the proxier logged during this sync.
	Errors []string
}

// Result is what the child reports.
type Result struct {
	Syncs []Sync
	// NFAcct reports, per family, whether the proxier had an nfacct runner
	// and which counters it ensured.
	NFAcct map[string]map[string]bool
	// Other are errors logged outside any sync (at start-up).
	Other []string
}

// Failures lists the failed syncs and the syncs whose decision (full or
// partial) is not the one the step asks for.
func (r Result) Failures() []string {
	var out []string
	for _, s := range r.Syncs {
		if !s.OK {
			out = append(out, fmt.Sprintf("%s sync of %s failed: %v", s.Step, s.Family, s.Errors))
		}
		want := s.Step == StepFull || s.Step == StepResync
		if s.Full != want {
			out = append(out, fmt.Sprintf("%s sync of %s: fullSync=%v, want %v", s.Step, s.Family, s.Full, want))
		}
	}
	if want := len(Steps) * len(families); len(r.Syncs) != want {
		out = append(out, fmt.Sprintf("%d syncs ran, want %d", len(r.Syncs), want))
	}
	return out
}

// Elapsed returns the elapsed seconds of step for family.
func (r Result) Elapsed(step string, family v1.IPFamily) (float64, bool) {
	for _, s := range r.Syncs {
		if s.Step == step && s.Family == string(family) {
			return s.Seconds, true
		}
	}
	return 0, false
}

var families = []v1.IPFamily{v1.IPv4Protocol, v1.IPv6Protocol}
