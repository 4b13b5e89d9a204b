package doctor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/iptables-shim/iptables-shim/detect"
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/execbackend"
)

// Options configure a doctor run.
type Options struct {
	// Detect are the detection options the shim runs with; the doctor shows
	// the decision they give. Its Probers (the kernel's when nil) are also
	// what the doctor reads the tables and the host's dialect through.
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
	r := Report{Problems: []Finding{}, Warnings: []string{}, Created: []CreatedChain{}, Routes: []Route{}, Unchecked: []Unchecked{}}
	d, err := detect.Resolve(ctx, o.Detect)
	if err != nil {
		r.Warnings = append(r.Warnings, fmt.Sprintf("detection: %v", err))
	}
	if d.Reason == detect.ReasonOverride || d.Cached {
		probers := o.Detect.Probers
		if probers == nil {
			probers = detect.KernelProbers()
		}
		d.Evidence = detect.Gather(ctx, probers, hostRoot(o), detect.Query{Count: true})
	}
	r.Decision = d
	r.Warnings = append(r.Warnings, d.Warnings...)

	inv := ReadInventory(ctx, o.readers())
	calls, err := scanLog(o.CallLog)
	if err != nil {
		r.Unchecked = append(r.Unchecked, unchecked("call log", err))
	}
	if r.Created, err = createdChains(o.cacheDir(), calls.createdWhy); err != nil {
		r.noteRecordError("created chains", err)
	}
	if rec, ok, err := detect.LoadGuardOff(o.cacheDir()); err != nil {
		r.noteRecordError("guard record", err)
	} else if ok {
		r.GuardOff = &rec
	}
	image := o.locate()
	r.Binaries = Binaries{Image: findBinaries(image), Host: []Binary{}}
	// The host's binaries only from a root that is the host's: under an
	// image's own / they would be the image's again.
	if h := d.Evidence.Hints; h.Trusted && h.ReadFrom != "" && filepath.Clean(h.ReadFrom) != filepath.Clean("/"+image.Root) {
		r.Binaries.Host = findBinaries(execbackend.LocateOptions{Root: h.ReadFrom, Dirs: hostDirs(), Self: o.Self})
	}
	r.Binaries.HostUses = hostUses(d)
	r.Routes = findRoutes(image, routePolicy{nft: o.NFT, native: o.Native})
	r.searched = image.Dirs
	if r.searched == nil {
		r.searched = execbackend.DefaultDirs
	}
	r.Kernel = readKernel(inv, o.legacy())
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
	if g := r.GuardOff; g != nil {
		r.Problems = append(r.Problems, Finding{Kind: KindGuardOff, Summary: fmt.Sprintf(
			"the missing-chain guard could not look up chains for %d call(s) here and let them through unguarded (last %s, %s in %s: %s)",
			g.Count, g.Last.At.Format(time.RFC3339), g.Last.Program, Label(g.Last.Mode), g.Last.Error)})
	}
	if r.Unchecked == nil {
		r.Unchecked = []Unchecked{}
	}
	for _, b := range inv.Backends {
		for _, f := range b.Families {
			// A backend that could not be read at all, or not for want of
			// privileges, was not checked; one unreadable table of many is
			// the table's error, shown with its family.
			if f.Err != nil && !f.Unavailable && (len(f.Tables) == 0 || errors.Is(f.Err, os.ErrPermission)) {
				r.Unchecked = append(r.Unchecked, unchecked(Label(b.Mode)+" "+f.Family, f.Err))
			}
		}
	}
	if !r.Kernel.NFTables.Available && !r.Kernel.XTablesIPv4.Available && r.Kernel.Release != "" {
		r.Problems = append(r.Problems, Finding{Kind: KindNoNetfilter, Summary: "neither nf_tables nor x_tables is usable here"})
	}
	if img, host := newestNFT(r.Binaries.Image), newestNFT(r.Binaries.Host); img != "" && host != "" && versionLess(img, host) {
		r.Warnings = append(r.Warnings, fmt.Sprintf(
			"this image's iptables-nft %s is older than the host's %s: it can misread rules the host wrote (kubernetes #112477)", img, host))
	}

	dialectFindings(r, r.nft, r.native)
	switch {
	case len(r.Problems) > 0:
		r.Verdict, r.Action = Problem, problemAction(r)
	case len(r.Unchecked) > 0:
		r.Verdict, r.Action = Unknown, unknownAction(r.Unchecked)
	default:
		r.Verdict, r.Action = Healthy, healthyAction(r.Decision)
	}
}

// unchecked names a check that could not run and why; missing privileges
// say so first, since that is the usual cause and the fix.
func unchecked(check string, err error) Unchecked {
	if errors.Is(err, os.ErrPermission) {
		return Unchecked{Check: check, Reason: "run as root: " + err.Error()}
	}
	return Unchecked{Check: check, Reason: err.Error()}
}

// noteRecordError reports a per-namespace record that could not be read:
// a namespace the shim keeps no records for (an old kernel) is a warning,
// anything else a check that could not run.
func (r *Report) noteRecordError(check string, err error) {
	if errors.Is(err, detect.ErrNoNetNSIdentity) {
		r.Warnings = append(r.Warnings, check+": "+err.Error())
		return
	}
	r.Unchecked = append(r.Unchecked, unchecked(check, err))
}

func unknownAction(us []Unchecked) string {
	var names []string
	root := false
	for _, u := range us {
		names = append(names, u.Check)
		root = root || strings.HasPrefix(u.Reason, "run as root")
	}
	s := fmt.Sprintf("nothing can be said: %d check(s) could not run (%s)", len(us), strings.Join(names, ", "))
	if root {
		s += "; run the doctor as root (it reads both netfilter backends, which needs CAP_NET_ADMIN and CAP_NET_RAW)"
	}
	return s + "."
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
	if r.GuardOff != nil {
		steps = append(steps, "Find out why the guard's chain lookups failed (the call log's event=guard-disabled lines give the error) and fix it; "+
			"the record of unguarded calls stays until this network namespace is gone")
	}
	if len(steps) == 0 {
		for _, p := range r.Problems {
			steps = append(steps, p.Summary)
		}
	}
	return strings.Join(steps, ". ") + "."
}
