package harness

import (
	"fmt"
	"os"
	"strings"

	"github.com/iptables-shim/iptables-shim/test/kubeproxy/proxyrun"
)

// Outcome is what one run of the proxier left behind.
type Outcome struct {
	Host, Candidate string
	Plan            proxyrun.Plan
	Result          proxyrun.Result
	// Save is the host backend's ruleset per family ("IPv4", "IPv6"), as
	// the real iptables-save of that backend prints it.
	Save map[string]Ruleset
	// NFT is the kernel's nf_tables rules (nf_tables hosts only).
	NFT map[string][]string
	// Leaked lists rules kube-proxy's run left in the backend the host does
	// not use.
	Leaked []string
	// Stderr is the child's standard error; CallLog the shim's call log.
	Stderr, CallLog string
}

// RunOpts adjusts one run.
type RunOpts struct {
	// CallLog turns on the shim's call log (kept in Outcome.CallLog);
	// benchmarks leave it off.
	CallLog bool
}

// Run starts the proxier on a fresh node of kind h with candidate c's
// iptables, performs plan and collects the ruleset.
func (e *Env) Run(h Host, c Candidate, plan proxyrun.Plan, o RunOpts) (*Outcome, error) {
	tmp, err := os.MkdirTemp(e.tmp, "run")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	ns, err := NewNetns(tmp)
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	if err := h.seed(ns); err != nil {
		return nil, fmt.Errorf("seeding %s: %w", h.Name, err)
	}
	var env []string
	if c.env != nil {
		env = c.env(e, h, tmp)
		if !o.CallLog {
			env = append(env, "IPTABLES_SHIM_LOG=")
		}
	}
	out := &Outcome{Host: h.Name, Candidate: c.Name, Plan: plan}
	out.Result, out.Stderr, err = e.child(ns, c.path(e, h), env, plan)
	out.CallLog = callLog(tmp)
	if err != nil {
		return out, err
	}
	out.Save = map[string]Ruleset{}
	for fam, prog := range map[string]string{"IPv4": "iptables", "IPv6": "ip6tables"} {
		text, err := ns.Run("", nil, prog+"-"+h.Backend+"-save")
		if err != nil {
			return out, err
		}
		if out.Save[fam], err = ParseSave(text); err != nil {
			return out, fmt.Errorf("%s-%s-save: %w", prog, h.Backend, err)
		}
		if h.Backend == "nft" {
			other, err := ns.Run("", nil, prog+"-legacy-save")
			if err != nil {
				return out, err
			}
			out.Leaked = append(out.Leaked, kubeLines(other)...)
		}
	}
	if h.Backend == "nft" {
		dump, err := ns.Run("", nil, "nft", "--debug=netlink", "list", "ruleset")
		if err != nil {
			return out, err
		}
		out.NFT = NFTRules(dump)
	} else {
		rules, err := ns.Run("", nil, "nft", "list", "ruleset")
		if err != nil {
			return out, err
		}
		out.Leaked = append(out.Leaked, kubeLines(rules)...)
	}
	return out, nil
}

// kubeLines are the lines of a listing that mention a KUBE- chain.
func kubeLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "KUBE-") {
			out = append(out, l)
		}
	}
	return out
}

// Compare lists how a candidate's outcome differs from the oracle's: the
// saved rulesets (map-ordered chains as multisets) and, on nf_tables
// hosts, the kernel's expressions.
func Compare(want, got *Outcome) []string {
	var out []string
	for _, fam := range []string{"IPv4", "IPv6"} {
		for _, d := range Diff(want.Save[fam], got.Save[fam]) {
			out = append(out, fam+" save: "+d)
		}
	}
	if want.NFT != nil {
		for _, d := range DiffNFT(want.NFT, got.NFT) {
			out = append(out, "nft: "+d)
		}
	}
	for _, l := range got.Leaked {
		out = append(out, "written to the other backend: "+l)
	}
	return out
}
