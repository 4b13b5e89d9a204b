package doctor

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/iptables-shim/iptables-shim/detect"
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/execbackend"
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
	// it are reported, and the guard's reasons for the chains it created.
	CallLog string
	// BackendDirs are the directories the shim searches for real iptables
	// binaries (config "backend-dirs"); nil means execbackend.DefaultDirs.
	BackendDirs []string
	// NFT is the config "nft" setting: how nf_tables calls run ("auto"
	// when empty).
	NFT string
	// Native says whether this shim has its native nf_tables backend built
	// in.
	Native bool
	// Self is the shim's own executable, never taken for a backend (""
	// means /proc/self/exe).
	Self string
	// NFTDialect is the config "nft-dialect" setting ("auto" when empty).
	NFTDialect string
}

// locate is where the shim looks for this image's binaries.
func (o Options) locate() execbackend.LocateOptions {
	root := o.ImageRoot
	if root == "/" {
		root = ""
	}
	return execbackend.LocateOptions{Root: root, Dirs: o.BackendDirs, Self: o.Self}
}

func (o Options) cacheDir() string {
	if o.Detect.CacheDir == "" {
		return detect.DefaultCacheDir
	}
	return o.Detect.CacheDir
}

// Run examines the host and returns the report.
func Run(ctx context.Context, o Options) Report {
	r := Report{Problems: []Finding{}, Warnings: []string{}, Created: []CreatedChain{}, Routes: []Route{}}
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
	calls, err := scanLog(o.CallLog)
	if err != nil {
		r.Warnings = append(r.Warnings, err.Error())
	}
	if r.Created, err = createdChains(o.cacheDir(), calls.createdWhy); err != nil {
		r.Warnings = append(r.Warnings, err.Error())
	}
	image := o.locate()
	r.Binaries = Binaries{Image: findBinaries(image), Host: []Binary{}}
	if hr := hostRoot(o); hr != "" && filepath.Clean(hr) != filepath.Clean("/"+image.Root) {
		r.Binaries.Host = findBinaries(execbackend.LocateOptions{Root: hr, Dirs: hostDirs(), Self: o.Self})
	}
	r.Binaries.HostUses = hostUses(d)
	r.Routes = findRoutes(image, routePolicy{nft: o.NFT, native: o.Native})
	r.searched = image.Dirs
	if r.searched == nil {
		r.searched = execbackend.DefaultDirs
	}
	r.Kernel = readKernel(inv)
	r.Dialect = hostDialect(o, r.Binaries.Image)
	r.nft, r.native = o.NFT, o.Native
	analyze(&r, inv, calls.failed)
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
	markExisting(r.Created, inv)
	r.Split = findSplit(inv, createdSet(r.Created))
	r.FailedRestores = logFindings

	// Without a backend nothing else can be fixed through the shim, so
	// this problem comes first.
	if f := noBackendFinding(r.Decision.Mode, r.Routes); f != nil {
		r.Problems = append(r.Problems, *f)
	}

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

	dialectFindings(r, r.nft, r.native)
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
	if noBackendFinding(right, r.Routes) != nil {
		steps = append(steps, noBackendAction(right, r.searched))
	}
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
