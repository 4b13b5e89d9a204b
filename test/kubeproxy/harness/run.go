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
	// ReadDiffs lists the read commands (save, -S, -L) whose output
	// through the shim differs from the real binary's on the final ruleset
	// (shim candidates only), and ReadsCompared counts the commands run.
	ReadDiffs     []string
	ReadsCompared int
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
	if c.env != nil {
		// The reads are the harness's, not kube-proxy's: keep them out
		// of the call log.
		quiet := append(append([]string(nil), env...), "IPTABLES_SHIM_LOG=")
		out.ReadsCompared, out.ReadDiffs = compareReads(ns, Real.path(e, h), c.path(e, h), quiet)
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

// readCommands are the reads an administrator or a monitoring agent runs
// on a node: whole-table saves, -S and numeric -L of every table.
func readCommands() [][]string {
	var out [][]string
	for _, prog := range []string{"iptables", "ip6tables"} {
		out = append(out, []string{prog + "-save"}, []string{prog + "-save", "-c"})
		for _, t := range []string{"filter", "nat", "mangle"} {
			out = append(out,
				[]string{prog, "-w", "5", "-t", t, "-S"},
				[]string{prog, "-w", "5", "-t", t, "-L", "-n"},
				[]string{prog, "-w", "5", "-t", t, "-L", "-n", "-v", "-x", "--line-numbers"})
		}
	}
	return out
}

// compareReads runs every read command with the real binaries and through
// the shim on the same kernel state and lists those whose exit status,
// stdout or stderr differ (save's time-stamped comments aside).
func compareReads(ns *Netns, realDir, shimDir string, shimEnv []string) (int, []string) {
	var diffs []string
	cmds := readCommands()
	for _, cmd := range cmds {
		want := ns.status(nil, realDir+"/"+cmd[0], cmd[1:]...)
		got := ns.status(shimEnv, shimDir+"/"+cmd[0], cmd[1:]...)
		if want != got {
			diffs = append(diffs, fmt.Sprintf("%s: real %s; shim %s", strings.Join(cmd, " "), want, got))
		}
	}
	return len(cmds), diffs
}

// status runs a command in the namespace and renders its outcome for
// comparison.
func (ns *Netns) status(env []string, prog string, args ...string) string {
	stdout, stderr, code, err := ns.exec("", env, prog, args...)
	if err != nil {
		return "cannot run: " + err.Error()
	}
	var b strings.Builder
	for _, l := range strings.SplitAfter(stdout, "\n") {
		if !strings.HasPrefix(l, "# ") {
			b.WriteString(l)
		}
	}
	return fmt.Sprintf("exit %d, stdout %q, stderr %q", code, b.String(), stderr)
}
