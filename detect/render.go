package detect

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/iptables-shim/iptables-shim/shim/dialect"
)

// Render writes the decision for people, as `iptables-shim detect` prints
// it: the mode, the layer that decided and why, then the evidence per
// backend and family, then the host hints.
func Render(w io.Writer, d Decision) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "mode:\t%s\n", d.Mode)
	fmt.Fprintf(tw, "reason:\t%s\n", d.Reason)
	fmt.Fprintf(tw, "detail:\t%s\n", d.Detail)
	when := "decided now"
	if d.Cached {
		when = "cached, decided " + d.DecidedAt.Format("2006-01-02 15:04:05 UTC")
	}
	fmt.Fprintf(tw, "source:\t%s\n", when)
	for _, warn := range d.Warnings {
		fmt.Fprintf(tw, "warning:\t%s\n", warn)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BACKEND\tFAMILY\tTABLES\tMARKERS\tKUBELET CHAINS\tRULES")
	for _, b := range d.Evidence.Backends {
		for _, f := range b.Families {
			rules := "(not needed)"
			if f.Counted {
				rules = fmt.Sprint(f.Rules)
				if f.Capped {
					rules = ">=" + rules
				}
			}
			kubelet := "(not needed)"
			if f.KubeletChecked {
				kubelet = refs(f.KubeletChains)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", b.Mode, f.Family, orDash(strings.Join(f.Tables, ",")),
				refs(f.Markers), kubelet, rules)
			if f.Error != "" {
				fmt.Fprintf(tw, "\t\t(%s)\t\t\t\n", f.Error)
			}
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "\nhost hints: %s\n", d.Evidence.Hints.Summary())
}

// RenderDialect writes the host's iptables-nft dialect and its evidence,
// as `iptables-shim detect` prints it under the decision.
func RenderDialect(w io.Writer, f dialect.Finding) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "nft dialect:\tiptables-nft %s\n", f.Dialect)
	fmt.Fprintf(tw, "because:\t%s: %s\n", f.Source, f.Why)
	for _, c := range f.Clues {
		fmt.Fprintf(tw, "evidence:\t%s\n", c.What)
	}
	tw.Flush()
}

func refs(rs []ChainRef) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.String()
	}
	return orDash(strings.Join(parts, ","))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
