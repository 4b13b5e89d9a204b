// Package doctor automates the split-backend investigation: it reads both
// netfilter backends (legacy x_tables and nf_tables) for both families,
// finds Kubernetes chains, references that cannot be satisfied in the backend
// that makes them, split brain between kubelet and kube-proxy, the iptables
// binaries of the image (searched where the shim searches: config
// backend-dirs) and the host, what the shim would run for each mode and
// program (a real binary, its native nf_tables backend, or nothing), the
// chains the shim's guard created, and the kernel's facilities, and gives a
// verdict with the action to take.
//
// It never runs an iptables binary and never creates a table: x_tables is
// read for listed tables only, nf_tables through read-only netlink requests,
// and binary versions are read from the files, not by running them.
//
// The JSON form (Report) is stable: fields are only ever added. Top level:
//
//	verdict      "healthy", "problem" or "unknown" (no problem found, but a
//	             check could not run: see unchecked); the exit status is 0,
//	             1 or 3 respectively (2: bad arguments)
//	action       what to do, in plain words
//	problems     [{kind, summary}]: kind is "dangling-reference", "split-brain",
//	             "failed-restore", "no-netfilter", "no-backend",
//	             "guard-disabled" or "dialect-skew"
//	unchecked    [{check, reason}]: checks that could not run ("nf_tables
//	             ipv4", "legacy ipv6", "call log", "created chains", "guard
//	             record"); reason starts with "run as root" when privileges
//	             were missing
//	guard_disabled {count, first, last: {program, mode, error, at}}: calls in
//	             this network namespace the guard let through unguarded because
//	             it could not look up chains; absent when none
//	warnings     [string]
//	decision     the detect.Decision the shim would use (see package detect)
//	backends     [{mode, families: [{family, available, error, rules,
//	             tables: [{name, chains, rules}], kube_chains, markers}]}]
//	dangling     [{backend, family, table, chain, exists_in, referenced_by, why}]
//	split        {nft: [...], legacy: [...], kubelet: [modes], kube_proxy: [modes]} or absent
//	binaries     {image: [...], host: [...], host_uses}: each binary is
//	             {path, target, version, backend, shim, kind, usable, why}
//	routes       [{mode, program, via, binary, argv0, found, why, error}]: per
//	             mode ("nft", "legacy") and program (iptables, ...,
//	             ip6tables-restore) what the shim would run; via is "binary"
//	             (a real iptables, binary is its path), "native" (the shim's
//	             own nf_tables backend) or "none" (the call would fail)
//	created_chains [{mode, family, table, chain, why, exists}]: chains the
//	             shim's missing-chain guard created in this network namespace;
//	             why is the guard's reason from the call log ("" when the log
//	             does not say), exists whether the chain is there now. They are
//	             information, never a problem
//	kernel       {release, nf_tables, x_tables_ipv4, x_tables_ipv6, xtables_lock}
//	failed_restores [{line, chain}] from the shim's call log
//	dialect      {host: {dialect, source, why, clues: [{hint, what}]},
//	             image_version, image_dialect, skew, unsafe}: the host's
//	             iptables-nft dialect (shim/dialect) and this image's
package doctor

import (
	"github.com/iptables-shim/iptables-shim/detect"
	"github.com/iptables-shim/iptables-shim/shim/backend"
)

// Verdicts.
const (
	Healthy = "healthy"
	Problem = "problem"
	// Unknown: no problem was found, but a check could not run (most often
	// for want of privileges), so nothing can be said.
	Unknown = "unknown"
)

// Exit statuses of `iptables-shim doctor` (2 is a bad argument).
const (
	ExitHealthy = 0
	ExitProblem = 1
	ExitUnknown = 3
)

// ExitCode is the doctor's exit status for a report: 0 healthy, 1 problem,
// 3 unknown (a check could not run and nothing else was found).
func ExitCode(r Report) int {
	switch r.Verdict {
	case Healthy:
		return ExitHealthy
	case Unknown:
		return ExitUnknown
	}
	return ExitProblem
}

// Problem kinds.
const (
	KindDangling      = "dangling-reference"
	KindSplitBrain    = "split-brain"
	KindFailedRestore = "failed-restore"
	KindNoNetfilter   = "no-netfilter"
	// KindNoBackend is a host backend the shim cannot carry calls to from
	// this image (no real binary, and no native backend for it).
	KindNoBackend = "no-backend"
	// KindGuardOff is calls the missing-chain guard let through unguarded
	// because it could not look up which chains exist.
	KindGuardOff = "guard-disabled"
)

// Report is everything the doctor found.
type Report struct {
	Verdict        string          `json:"verdict"`
	Action         string          `json:"action"`
	Problems       []Finding       `json:"problems"`
	Warnings       []string        `json:"warnings"`
	Decision       detect.Decision `json:"decision"`
	Backends       []BackendReport `json:"backends"`
	Dangling       []Dangling      `json:"dangling"`
	Split          *Split          `json:"split,omitempty"`
	Binaries       Binaries        `json:"binaries"`
	Kernel         Kernel          `json:"kernel"`
	FailedRestores []LogFinding    `json:"failed_restores"`
	Routes         []Route         `json:"routes"`
	Created        []CreatedChain  `json:"created_chains"`
	// Dialect is the host's iptables-nft dialect and the image's skew
	// (dialect.go); absent when not looked at.
	Dialect *DialectReport `json:"dialect,omitempty"`
	// Unchecked are the checks that could not run, and why.
	Unchecked []Unchecked `json:"unchecked"`
	// GuardOff is this network namespace's record of calls the guard let
	// through unguarded; absent when there were none.
	GuardOff *detect.GuardOffRecord `json:"guard_disabled,omitempty"`

	// searched are the directories the routes were looked up in, for the
	// action text.
	searched []string
	// nft and native are the routing policy, for the dialect finding.
	nft    string
	native bool
}

// Unchecked is a check that could not run.
type Unchecked struct {
	// Check names what could not be read ("nf_tables ipv4", "legacy ipv6",
	// "call log", "created chains", "guard record").
	Check string `json:"check"`
	// Reason says why, starting with "run as root" when privileges were
	// missing.
	Reason string `json:"reason"`
}

// Finding is one problem.
type Finding struct {
	Kind    string `json:"kind"`
	Summary string `json:"summary"`
}

// BackendReport summarises one backend.
type BackendReport struct {
	Mode     backend.Mode   `json:"mode"`
	Families []FamilyReport `json:"families"`
}

// FamilyReport summarises one backend and family.
type FamilyReport struct {
	Family    string         `json:"family"`
	Available bool           `json:"available"`
	Error     string         `json:"error,omitempty"`
	Rules     int            `json:"rules"`
	Tables    []TableSummary `json:"tables"`
	// KubeChains are all KUBE-* chains, as "table/CHAIN".
	KubeChains []string `json:"kube_chains"`
	// Markers are the marker chains among them.
	Markers []string `json:"markers"`
}

// TableSummary is one table's size.
type TableSummary struct {
	Name   string `json:"name"`
	Chains int    `json:"chains"`
	Rules  int    `json:"rules"`
}

// Dangling is a reference a backend cannot satisfy by itself: a chain its
// rules (or its writer's restores) need that exists, or is populated, only
// in the other backend.
type Dangling struct {
	Backend backend.Mode `json:"backend"`
	Family  string       `json:"family"`
	Table   string       `json:"table"`
	Chain   string       `json:"chain"`
	// ExistsIn is the backend where the chain does exist (with rules).
	ExistsIn backend.Mode `json:"exists_in,omitempty"`
	// ReferencedBy are the chains (or "call log") that need it.
	ReferencedBy []string `json:"referenced_by"`
	Why          string   `json:"why"`
}

// Split is Kubernetes chains in both backends.
type Split struct {
	NFT    []string `json:"nft"`
	Legacy []string `json:"legacy"`
	// Kubelet and KubeProxy are the backends each appears to write to.
	Kubelet   []backend.Mode `json:"kubelet"`
	KubeProxy []backend.Mode `json:"kube_proxy"`
}

// Binaries are the iptables programs found.
type Binaries struct {
	Image []Binary `json:"image"`
	Host  []Binary `json:"host"`
	// HostUses is the backend the host appears to use, and why.
	HostUses string `json:"host_uses"`
}

// Binary is one iptables program file.
type Binary struct {
	Path string `json:"path"`
	// Target is where the path finally resolves (links followed), relative
	// to the root it was found under.
	Target  string       `json:"target,omitempty"`
	Version string       `json:"version,omitempty"`
	Backend backend.Mode `json:"backend,omitempty"`
	// Shim is true when the path is this iptables-shim.
	Shim bool `json:"shim,omitempty"`
	// Kind is what the file is, told from its resolved name (see
	// execbackend.Kind: "xtables-nft-multi", "iptables-legacy", "unknown",
	// ...).
	Kind string `json:"kind,omitempty"`
	// Usable is set when the shim could run the file as a backend; Why says
	// why not otherwise ("not executable", "is the shim itself", ...).
	Usable bool   `json:"usable"`
	Why    string `json:"why,omitempty"`
}

// Route is what the shim would run for one program in one mode.
type Route struct {
	Mode    backend.Mode `json:"mode"`
	Program string       `json:"program"`
	// Via is ViaBinary, ViaNative or ViaNone.
	Via string `json:"via"`
	// Binary is the real file the shim would run or fall back to, Argv0
	// the name it would be called by, Found the path it was found at
	// (before links were followed); empty when there is none.
	Binary string `json:"binary,omitempty"`
	Argv0  string `json:"argv0,omitempty"`
	Found  string `json:"found,omitempty"`
	// Why says it in plain words.
	Why string `json:"why"`
	// Error is the error the call would fail with (Via is ViaNone).
	Error string `json:"error,omitempty"`
}

// CreatedChain is a chain the shim's missing-chain guard created. Creating
// it is the guard's job, so it is reported as information, never as a
// problem.
type CreatedChain struct {
	Mode   backend.Mode `json:"mode"`
	Family string       `json:"family"`
	Table  string       `json:"table"`
	Chain  string       `json:"chain"`
	// Why is the guard's reason as the call log gives it ("the payload at
	// line 11 jumps to it"); "" when the log is off or does not say.
	Why string `json:"why,omitempty"`
	// Exists is whether the chain is in the ruleset now.
	Exists bool `json:"exists"`
}

// Kernel is what the kernel offers.
type Kernel struct {
	Release     string   `json:"release"`
	NFTables    Facility `json:"nf_tables"`
	XTablesIPv4 Facility `json:"x_tables_ipv4"`
	XTablesIPv6 Facility `json:"x_tables_ipv6"`
	XtablesLock Lock     `json:"xtables_lock"`
}

// Facility says whether a kernel facility works, and why not.
type Facility struct {
	Available bool   `json:"available"`
	Error     string `json:"error,omitempty"`
}

// Lock is the xtables lock file.
type Lock struct {
	Path   string `json:"path"`
	Exists bool   `json:"exists"`
	// Held is true when /proc/locks shows a lock on it right now.
	Held bool `json:"held"`
}

// LogFinding is a failed restore found in the shim's call log.
type LogFinding struct {
	Line  string `json:"line"`
	Chain string `json:"chain,omitempty"`
}
