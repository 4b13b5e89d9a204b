// Command kpbench measures kube-proxy 1.37.2's iptables proxier's own sync
// time ("SyncProxyRules complete" elapsed) with the real iptables binaries
// and through the shim in exec and native mode and as shipped (nft=auto,
// the real binaries reachable), on each host kind of the harness, for a
// given number of services, and prints the figures side by side with
// their ratios to the real binaries'. All figures come from one
// invocation: each round runs the four candidates one after the other on
// fresh namespaces, and a cell is the median over the rounds. It needs
// root: every run is in a network namespace it creates and deletes.
//
//	cd test/kubeproxy && go run ./cmd/kpbench [-services 50,1000] [-rounds 3] [-hosts ...]
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	v1 "k8s.io/api/core/v1"

	"github.com/iptables-shim/iptables-shim/test/kubeproxy/harness"
	"github.com/iptables-shim/iptables-shim/test/kubeproxy/proxyrun"
)

func main() {
	harness.Child()
	services := flag.String("services", "50,1000", "comma-separated service counts")
	hosts := flag.String("hosts", "", "comma-separated host kinds (default: all)")
	nfacct := flag.Bool("nfacct", true, "run with nfacct, as kube-proxy does on a kernel that has it")
	rounds := flag.Int("rounds", 3, "runs of each candidate per cell (the median is printed)")
	calls := flag.Bool("calls", false, "after the timed rounds, one more run of each shim candidate with its call log on, summed by command")
	flag.Parse()
	if *rounds < 1 {
		*rounds = 1
	}
	if err := run(*services, *hosts, *nfacct, *rounds, *calls); err != nil {
		fmt.Fprintln(os.Stderr, "kpbench:", err)
		os.Exit(1)
	}
}

func run(servicesFlag, hostsFlag string, nfacct bool, rounds int, calls bool) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root (network namespaces)")
	}
	var sizes []int
	for _, s := range strings.Split(servicesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("bad service count %q", s)
		}
		sizes = append(sizes, n)
	}
	var hosts []harness.Host
	for _, h := range harness.Hosts {
		if hostsFlag == "" || strings.Contains(","+hostsFlag+",", ","+h.Name+",") {
			hosts = append(hosts, h)
		}
	}
	tmp, err := os.MkdirTemp("", "kpbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	env, err := harness.NewEnv(tmp)
	if err != nil {
		return err
	}
	fmt.Printf("kube-proxy v1.37.2 iptables proxier, SyncProxyRules elapsed (IPv4 proxier; the IPv6 one syncs concurrently), nfacct=%v, median of %d rounds\n", nfacct, rounds)
	fmt.Println("real = the host backend's iptables 1.8.9; exec = shim running the real binaries; native = shim writing nf_tables itself (no iptables-nft reachable);")
	fmt.Println("auto = the shim as shipped (nft=auto, the real binaries reachable: single commands checked, then native; restores tried natively first)")
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "host\tservices\tsync\treal\texec\tnative\tauto\texec/real\tnative/real\tauto/real\tsame rules\t")
	var problems []string
	var callReport strings.Builder
	for _, h := range hosts {
		for _, n := range sizes {
			plan := proxyrun.Plan{Services: n, NFAcct: nfacct}
			outs := map[string]*harness.Outcome{}
			times := map[string]map[string][]float64{} // candidate -> step -> seconds
			for r := 0; r < rounds; r++ {
				for _, c := range append(harness.Candidates, harness.ShimAuto) {
					o, err := env.Run(h, c, plan, harness.RunOpts{})
					if err != nil {
						return fmt.Errorf("%s, %d services, %s: %v\n%s", h.Name, n, c.Name, err, o.Stderr)
					}
					for _, f := range o.Result.Failures() {
						problems = append(problems, fmt.Sprintf("%s %d %s: %s", h.Name, n, c.Name, f))
					}
					outs[c.Name] = o
					if times[c.Name] == nil {
						times[c.Name] = map[string][]float64{}
					}
					for _, step := range proxyrun.Steps {
						if s, ok := o.Result.Elapsed(step, v1.IPv4Protocol); ok {
							times[c.Name][step] = append(times[c.Name][step], s)
						}
					}
				}
			}
			same := map[string]string{}
			for _, c := range []string{"shim-exec", "shim-native", "shim-auto"} {
				same[c] = "yes"
				if d := harness.Compare(outs["real"], outs[c]); len(d) > 0 {
					same[c] = fmt.Sprintf("no (%d)", len(d))
					problems = append(problems, fmt.Sprintf("%s %d %s: first difference: %s", h.Name, n, c, d[0]))
				}
			}
			if calls {
				for _, c := range []harness.Candidate{harness.ShimExec, harness.ShimNative, harness.ShimAuto} {
					o, err := env.Run(h, c, plan, harness.RunOpts{CallLog: true})
					if err != nil {
						return fmt.Errorf("%s, %d services, %s with its call log: %v", h.Name, n, c.Name, err)
					}
					fmt.Fprintf(&callReport, "%s, %d services, %s (both families, all four syncs):\n", h.Name, n, c.Name)
					for _, st := range harness.CallStats(o.CallLog) {
						fmt.Fprintf(&callReport, "  %-20s %4d calls  mean %8.2fms  total %8.1fms\n", st.Kind, st.Count,
							float64(st.Total.Microseconds())/1000/float64(st.Count), float64(st.Total.Microseconds())/1000)
					}
				}
			}
			for _, step := range proxyrun.Steps {
				r, x, nv, au := median(times["real"][step]), median(times["shim-exec"][step]), median(times["shim-native"][step]), median(times["shim-auto"][step])
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", h.Name, n, step, secs(r), secs(x), secs(nv), secs(au), ratio(x, r), ratio(nv, r), ratio(au, r),
					"exec "+same["shim-exec"]+", native "+same["shim-native"]+", auto "+same["shim-auto"])
			}
		}
	}
	tw.Flush()
	if callReport.Len() > 0 {
		fmt.Println("\nThe shim's own time per command (its call log's durations, one extra run per cell):")
		fmt.Print(callReport.String())
	}
	for _, p := range problems {
		fmt.Println("problem:", p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d problems", len(problems))
	}
	return nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func secs(s float64) string { return fmt.Sprintf("%.3fs", s) }

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}
