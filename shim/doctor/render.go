package doctor

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Render writes the report for people: short, aligned, colour only when
// asked (the caller passes colour=true only for a terminal).
func Render(w io.Writer, r Report, colour bool) {
	paint := func(code, s string) string {
		if !colour {
			return s
		}
		return "\x1b[" + code + "m" + s + "\x1b[0m"
	}
	verdict := paint("32;1", strings.ToUpper(r.Verdict))
	switch r.Verdict {
	case Problem:
		verdict = paint("31;1", strings.ToUpper(r.Verdict))
	case Unknown:
		verdict = paint("33;1", strings.ToUpper(r.Verdict))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "verdict:\t%s\n", verdict)
	fmt.Fprintf(tw, "action:\t%s\n", r.Action)
	d := r.Decision
	fmt.Fprintf(tw, "decision:\t%s (%s): %s\n", d.Mode, d.Reason, d.Detail)
	for _, p := range r.Problems {
		fmt.Fprintf(tw, "%s\t%s\n", paint("31", "problem:"), p.Summary)
	}
	for _, u := range r.Unchecked {
		fmt.Fprintf(tw, "%s\t%s: %s\n", paint("33", "not checked:"), u.Check, u.Reason)
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(tw, "%s\t%s\n", paint("33", "warning:"), warn)
	}
	for _, c := range r.Created {
		fmt.Fprintf(tw, "created by the shim:\t%s\n", createdText(c))
	}
	tw.Flush()

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BACKEND\tFAMILY\tTABLES (rules)\tRULES\tKUBE-* CHAINS\tMARKERS")
	for _, b := range r.Backends {
		for _, f := range b.Families {
			var tables []string
			for _, t := range f.Tables {
				tables = append(tables, fmt.Sprintf("%s(%d)", t.Name, t.Rules))
			}
			tcol := dash(strings.Join(tables, " "))
			switch {
			case !f.Available:
				tcol = "unavailable"
			case f.Error != "" && len(f.Tables) == 0:
				tcol = "(not read)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", Label(b.Mode), f.Family, tcol, f.Rules, len(f.KubeChains), dash(strings.Join(f.Markers, " ")))
		}
	}
	tw.Flush()

	if len(r.Dangling) > 0 {
		fmt.Fprintln(w, "\ndangling references:")
		for _, dg := range r.Dangling {
			fmt.Fprintf(w, "  %s %s %s/%s (needed by %s)\n    %s\n", Label(dg.Backend), dg.Family, dg.Table, dg.Chain,
				strings.Join(dg.ReferencedBy, ", "), dg.Why)
		}
	}
	if s := r.Split; s != nil {
		fmt.Fprintf(w, "\nsplit brain: kubelet appears to use %s, kube-proxy %s\n", modes(s.Kubelet), modes(s.KubeProxy))
		fmt.Fprintf(w, "  nf_tables: %s\n  legacy:    %s\n", abbreviate(s.NFT), abbreviate(s.Legacy))
	}
	for _, lf := range r.FailedRestores {
		fmt.Fprintf(w, "\ncall log: %s\n", lf.Line)
	}

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, set := range []struct {
		label string
		bins  []Binary
	}{{"image", r.Binaries.Image}, {"host", r.Binaries.Host}} {
		for _, g := range groupBinaries(set.bins) {
			fmt.Fprintf(tw, "%s binary:\t%s\t%s\t%s\n", set.label, dash(g.first.Target), binaryText(g.first), aliases(g.names))
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, g := range groupRoutes(r.Routes) {
		fmt.Fprintf(tw, "shim runs %s:\t%s\t%s\n", Label(g.first.Mode), strings.Join(g.programs, " "), routeText(g.first))
	}
	tw.Flush()
	fmt.Fprintln(w)
	k := r.Kernel
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "host uses:\t%s\n", r.Binaries.HostUses)
	fmt.Fprintf(tw, "host hints:\t%s\n", r.Decision.Evidence.Hints.Summary())
	for _, l := range dialectLines(r.Dialect) {
		fmt.Fprintln(tw, l)
	}
	fmt.Fprintf(tw, "kernel:\t%s\n", dash(k.Release))
	fmt.Fprintf(tw, "nf_tables:\t%s\n", facilityText(k.NFTables))
	fmt.Fprintf(tw, "x_tables:\tipv4 %s, ipv6 %s\n", facilityText(k.XTablesIPv4), facilityText(k.XTablesIPv6))
	lock := "absent"
	if k.XtablesLock.Exists {
		lock = "present, free"
		if k.XtablesLock.Held {
			lock = "present, held now"
		}
	}
	fmt.Fprintf(tw, "xtables lock:\t%s %s\n", k.XtablesLock.Path, lock)
	tw.Flush()
}

func facilityText(f Facility) string {
	s := "available"
	if !f.Available {
		s = "unavailable"
	}
	if f.Error != "" {
		s += " (" + f.Error + ")"
	}
	return s
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// abbreviate keeps long chain lists (kube-proxy makes thousands) readable.
func abbreviate(names []string) string {
	const max = 8
	if len(names) <= max {
		return dash(strings.Join(names, ", "))
	}
	return fmt.Sprintf("%s, ... (%d in all)", strings.Join(names[:max], ", "), len(names))
}

func binaryText(b Binary) string {
	switch {
	case b.Shim:
		return "iptables-shim"
	case !b.Usable && b.Why != "":
		return "unusable: " + b.Why
	}
	return dash(b.Version) + " " + dash(Label(b.Backend))
}

func aliases(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return "as " + strings.Join(names, " ")
}

func routeText(r Route) string {
	switch r.Via {
	case ViaBinary:
		return "-> " + r.Binary
	case ViaNative:
		return "-> native nf_tables backend: " + r.Why
	}
	return "-> nothing: " + r.Why
}

// routeGroup is the programs of one mode that go the same way.
type routeGroup struct {
	first    Route
	programs []string
}

func groupRoutes(rs []Route) []routeGroup {
	var out []routeGroup
	for _, r := range rs {
		if n := len(out); n > 0 {
			f := out[n-1].first
			if f.Mode == r.Mode && f.Via == r.Via && f.Binary == r.Binary && f.Why == r.Why {
				out[n-1].programs = append(out[n-1].programs, r.Program)
				continue
			}
		}
		out = append(out, routeGroup{first: r, programs: []string{r.Program}})
	}
	return out
}
