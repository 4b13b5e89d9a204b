package doctor

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/iptables-shim/iptables-shim/detect"
	"github.com/iptables-shim/iptables-shim/shim/backend"
)

// Options configure a doctor run.
type Options struct {
	// Detect are the detection options the shim runs with; the doctor shows
	// the decision they give.
	Detect detect.Options
	// ImageRoot is where this image's binaries are looked for ("/" when
	// empty). The host's are looked for under Detect.HostRoot.
	ImageRoot string
	// CallLog is the shim's call log file (config "log"); failed restores in
	// it are reported.
	CallLog string
}

// Run examines the host and returns the report.
func Run(ctx context.Context, o Options) Report {
	r := Report{Problems: []Finding{}, Warnings: []string{}}
	d, err := detect.Resolve(ctx, o.Detect)
	if err != nil {
		r.Warnings = append(r.Warnings, fmt.Sprintf("detection: %v", err))
	}
	if d.Reason == detect.ReasonOverride || d.Cached {
		d.Evidence = detect.Gather(ctx, detect.KernelProbers(), hostRoot(o), detect.Query{Count: true})
	}
	r.Decision = d
	r.Warnings = append(r.Warnings, d.Warnings...)

	inv := ReadInventory(ctx)
	logFindings, err := scanLog(o.CallLog)
	if err != nil {
		r.Warnings = append(r.Warnings, err.Error())
	}
	imageRoot := o.ImageRoot
	if imageRoot == "" {
		imageRoot = "/"
	}
	r.Binaries = Binaries{Image: findBinaries(imageRoot), Host: []Binary{}}
	if hr := hostRoot(o); hr != "" && filepath.Clean(hr) != filepath.Clean(imageRoot) {
		r.Binaries.Host = findBinaries(hr)
	}
	r.Binaries.HostUses = hostUses(d)
	r.Kernel = readKernel(inv)
	analyze(&r, inv, logFindings)
	return r
}

func hostRoot(o Options) string {
	if o.Detect.NoHostHints {
		return ""
	}
	if o.Detect.HostRoot == "" {
		return detect.DefaultHostRoot
	}
	return o.Detect.HostRoot
}

// analyze fills in the findings, the verdict and the action from what was
// read. It is pure, so tests drive it with made-up inventories.
func analyze(r *Report, inv Inventory, logFindings []LogFinding) {
	r.Backends = summarize(inv)
	r.Dangling = findDangling(inv)
	r.Split = findSplit(inv)
	r.FailedRestores = logFindings

	for _, dg := range r.Dangling {
		r.Problems = append(r.Problems, Finding{Kind: KindDangling, Summary: fmt.Sprintf(
			"%s %s: %s/%s needed by %s exists only in %s", Label(dg.Backend), dg.Family, dg.Table, dg.Chain,
			strings.Join(dg.ReferencedBy, ", "), Label(dg.ExistsIn))})
	}
	if s := r.Split; s != nil {
		r.Problems = append(r.Problems, Finding{Kind: KindSplitBrain, Summary: fmt.Sprintf(
			"Kubernetes chains in both backends (nf_tables: %d, legacy: %d); kubelet appears to use %s, kube-proxy %s",
			len(s.NFT), len(s.Legacy), modes(s.Kubelet), modes(s.KubeProxy))})
	}
	for _, lf := range logFindings {
		r.Problems = append(r.Problems, Finding{Kind: KindFailedRestore, Summary: fmt.Sprintf(
			"the call log shows a restore that failed on missing chain %s", lf.Chain)})
	}
	if !r.Kernel.NFTables.Available && !r.Kernel.XTablesIPv4.Available && r.Kernel.Release != "" {
		r.Problems = append(r.Problems, Finding{Kind: KindNoNetfilter, Summary: "neither nf_tables nor x_tables is usable here"})
	}
	if img, host := newestNFT(r.Binaries.Image), newestNFT(r.Binaries.Host); img != "" && host != "" && versionLess(img, host) {
		r.Warnings = append(r.Warnings, fmt.Sprintf(
			"this image's iptables-nft %s is older than the host's %s: it can misread rules the host wrote (kubernetes #112477)", img, host))
	}

	r.Verdict, r.Action = Healthy, healthyAction(r.Decision)
	if len(r.Problems) > 0 {
		r.Verdict, r.Action = Problem, problemAction(r)
	}
}

func modes(ms []backend.Mode) string {
	if len(ms) == 0 {
		return "neither"
	}
	var parts []string
	for _, m := range ms {
		parts = append(parts, Label(m))
	}
	return strings.Join(parts, " and ")
}

func hostUses(d detect.Decision) string {
	h := d.Evidence.Hints
	switch {
	case d.Mode == "":
		return "unknown"
	case h.Alternatives != "":
		return fmt.Sprintf("%s (decided by %s; host alternatives link -> %s)", Label(d.Mode), d.Reason, h.Alternatives)
	}
	return fmt.Sprintf("%s (decided by %s: %s)", Label(d.Mode), d.Reason, d.Detail)
}

func healthyAction(d detect.Decision) string {
	if d.Mode == "" {
		return "nothing to do"
	}
	return fmt.Sprintf("nothing to do: every iptables call through the shim goes to %s", Label(d.Mode))
}

// problemAction says what to do, in plain words, for the worst finding.
func problemAction(r *Report) string {
	right := r.Decision.Mode
	var steps []string
	if len(r.Dangling) > 0 || len(r.FailedRestores) > 0 {
		if right == "" {
			right = r.Dangling[0].ExistsIn
		}
		steps = append(steps, fmt.Sprintf(
			"Run kube-proxy (and anything else that calls iptables) through iptables-shim so its rules go to %s, where kubelet's chains are; "+
				"with the shim's guard on, chains such as KUBE-MARK-DROP are created when missing", Label(right)))
	}
	if r.Split != nil && right != "" {
		wrong := otherMode(right)
		steps = append(steps, fmt.Sprintf(
			"Then remove the stale Kubernetes chains from %s (iptables-%s-save shows them; flush and delete them with iptables-%s -t TABLE -F CHAIN and -X CHAIN), "+
				"so nothing can pick the wrong backend again", Label(wrong), wrong, wrong))
	}
	if len(steps) == 0 {
		for _, p := range r.Problems {
			steps = append(steps, p.Summary)
		}
	}
	return strings.Join(steps, ". ") + "."
}
