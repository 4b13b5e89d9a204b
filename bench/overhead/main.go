// Command overhead measures what the shim adds in exec mode: the wall time
// of a trivial call (iptables -t nat -S CHAIN) and of a kube-proxy-sized
// iptables-restore, each through the shim and through the real binary
// directly, in both backends, and prints ours, real and the ratio (reported,
// never asserted; the README says what to expect).
//
// Every measurement runs in a fresh network namespace: the program re-runs
// itself there (under ip netns exec) as a helper that times its children,
// so neither side pays for entering the namespace. Calls through the shim
// and direct calls alternate, so drift hits both alike.
//
// Usage (root, from the module root):
//
//	go run ./bench/overhead [-calls 200] [-restores 5] [-services 2000] [-families 4] [-shapes iptables]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/iptables-shim/iptables-shim/internal/benchrig"
	"github.com/iptables-shim/iptables-shim/internal/kubepayload"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// helperEnv names the job file (JSON) for the copy of this program that
// runs inside the namespace.
const helperEnv = "OVERHEAD_BENCH_JOB"

// modes are the backends measured.
var modes = []string{"nft", "legacy"}

// job is one measurement, done by the helper inside a fresh namespace.
type job struct {
	Mode    string
	Prog    string // plain program name, e.g. "iptables-restore"
	Args    []string
	Stdin   string
	Runs    int
	ShimDir string
	RealDir string
	// Setup runs (as the real tool, untimed) before the first run; Reset
	// after every run, so each restore starts from the same state.
	Setup [][]string
	Reset [][]string
	// ShimEnv is added to the shim's environment (a configuration variant).
	ShimEnv []string
}

// The "go exec floor" rows time bench/overhead/execfloor, which only starts
// and execs the real binary: ours minus floor is the shim's own work.

// result is what the helper reports: per-run wall times in nanoseconds.
type result struct {
	Ours, Real []int64
}

func main() {
	if f := os.Getenv(helperEnv); f != "" {
		os.Exit(helper(f))
	}
	calls := flag.Int("calls", 200, "runs of the trivial call per side")
	restores := flag.Int("restores", 5, "runs of each restore per side")
	services := flag.String("services", "2000", "comma-separated service counts for the restore payload")
	families := flag.String("families", "4", "comma-separated families (4, 6)")
	shapes := flag.String("shapes", "iptables", "comma-separated payload shapes (iptables, ipvs)")
	guard := flag.String("guard", "on,off", "comma-separated shim guard settings to measure (on, off)")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "overhead bench: needs root (it creates network namespaces)")
		os.Exit(1)
	}
	if err := run(*calls, *restores, *services, *families, *shapes, *guard); err != nil {
		fmt.Fprintln(os.Stderr, "overhead bench:", err)
		os.Exit(1)
	}
}

func run(calls, restores int, services, families, shapes, guards string) error {
	rn := runner{guards: splitList(guards)}
	for _, g := range rn.guards {
		if g != "on" && g != "off" {
			return fmt.Errorf("-guard: %q is neither on nor off", g)
		}
	}
	tmp, err := os.MkdirTemp("", "overhead-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	rn.tmp = tmp
	shimDir, err := benchrig.BuildLinked(tmp, "shim", "./cmd/iptables-shim")
	if err != nil {
		return err
	}
	floorDir, err := benchrig.BuildLinked(tmp, "floor", "./bench/overhead/execfloor")
	if err != nil {
		return err
	}
	fmt.Printf("%-62s %-21s %10s %10s %7s %10s\n", "case", "mode", "ours", "real", "ratio", "added")
	for _, fam := range splitList(families) {
		f := syntax.IPv4
		prefix := "iptables"
		if fam == "6" {
			f, prefix = syntax.IPv6, "ip6tables"
		}
		for _, mode := range modes {
			realDir, err := benchrig.LinkReal(tmp, mode)
			if err != nil {
				return err
			}
			trivial := job{
				Mode: mode, Prog: prefix, Args: []string{"-t", "nat", "-S", "KUBE-SERVICES"}, Runs: calls,
				ShimDir: shimDir, RealDir: realDir,
				Setup: [][]string{{prefix, "-t", "nat", "-N", "KUBE-SERVICES"}, {prefix, "-t", "nat", "-A", "KUBE-SERVICES", "-j", "RETURN"}},
			}
			trivialName := fmt.Sprintf("%s -t nat -S KUBE-SERVICES (median of %d)", prefix, calls)
			if err := rn.measure(trivialName, trivial); err != nil {
				return err
			}
			floor := trivial
			floor.ShimDir = floorDir
			floor.ShimEnv = []string{"EXECFLOOR_TARGET=" + filepath.Join(realDir, "multi")}
			if err := rn.measureOne(trivialName, mode+" go exec floor", floor); err != nil {
				return err
			}
			for _, shape := range splitList(shapes) {
				for _, s := range splitList(services) {
					n, err := strconv.Atoi(s)
					if err != nil {
						return fmt.Errorf("-services: %w", err)
					}
					o := kubepayload.Options{Services: n, Family: f, Shape: kubepayload.IptablesMode}
					if shape == "ipvs" {
						o.Shape = kubepayload.IPVSMode
					}
					p := kubepayload.Generate(o)
					restore := job{
						Mode: mode, Prog: prefix + "-restore", Args: []string{"-w", "5", "-W", "100000", "--noflush", "--counters"},
						Stdin: p.Text, Runs: restores, ShimDir: shimDir, RealDir: realDir,
						Setup: ipsetSetup(o), Reset: resetCommands(prefix),
					}
					name := fmt.Sprintf("%s-restore %s %d svc, %d rules (median of %d)", prefix, o.Shape, n, p.Rules, restores)
					if err := rn.measure(name, restore); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// ipsetSetup creates the ipsets an IPVS-shaped payload matches on.
func ipsetSetup(o kubepayload.Options) [][]string {
	var out [][]string
	for _, s := range kubepayload.IPSets(o) {
		c := []string{"ipset", "create", s.Name, s.Type}
		if o.Family == syntax.IPv6 {
			c = append(c, "family", "inet6")
		}
		out = append(out, c)
	}
	return out
}

// resetCommands empty the nat and filter tables between restores.
func resetCommands(prefix string) [][]string {
	var out [][]string
	for _, t := range []string{"nat", "filter"} {
		out = append(out, []string{prefix, "-t", t, "-F"}, []string{prefix, "-t", t, "-X"})
	}
	return out
}

// runner holds what every measurement shares.
type runner struct {
	tmp string
	// guards are the shim guard settings measured ("on", "off").
	guards []string
}

// measure runs j in a fresh namespace once per guard setting and prints a
// table row for each.
func (r runner) measure(name string, j job) error {
	for _, g := range r.guards {
		v := j
		v.ShimEnv = []string{"IPTABLES_SHIM_GUARD=" + map[string]string{"on": "true", "off": "false"}[g]}
		if err := r.measureOne(name, fmt.Sprintf("%s guard %s", j.Mode, g), v); err != nil {
			return err
		}
	}
	return nil
}

// measureOne runs j in a fresh namespace and prints one table row.
func (r runner) measureOne(name, label string, j job) error {
	ns, err := benchrig.NewNS()
	if err != nil {
		return err
	}
	defer func() { _ = exec.Command("ip", "netns", "del", ns).Run() }()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	enc, err := json.Marshal(j)
	if err != nil {
		return err
	}
	jobFile := filepath.Join(r.tmp, "job.json")
	if err := os.WriteFile(jobFile, enc, 0o600); err != nil {
		return err
	}
	cmd := exec.Command("ip", "netns", "exec", ns, self)
	cmd.Env = append(os.Environ(), helperEnv+"="+jobFile)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%s (%s): %w: %s", name, j.Mode, err, stderr.String())
	}
	var res result
	if err := json.Unmarshal(out, &res); err != nil {
		return fmt.Errorf("%s: helper output: %w", name, err)
	}
	ours, real := median(res.Ours), median(res.Real)
	fmt.Printf("%-62s %-21s %10s %10s %7.3f %10s\n", name, label, ms(ours), ms(real), float64(ours)/float64(real), ms(ours-real))
	return nil
}

func median(v []int64) int64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(ns int64) string { return fmt.Sprintf("%.3fms", float64(ns)/1e6) }

// helper runs inside the namespace: setup, then the runs, alternating the
// shim and the real tool, resetting state after each.
func helper(jobFile string) int {
	var j job
	enc, err := os.ReadFile(jobFile)
	if err == nil {
		err = json.Unmarshal(enc, &j)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// iptables-legacy's lock file is machine-wide whatever the namespace:
	// a private one keeps other work on the machine out of the figures.
	os.Setenv("XTABLES_LOCKFILE", jobFile+".lock")
	for _, c := range j.Setup {
		if err := j.untimed(c); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	var r result
	shimEnv := append(os.Environ(),
		"IPTABLES_SHIM_MODE="+j.Mode, "IPTABLES_SHIM_NFT=exec",
		"IPTABLES_SHIM_CONFIG=/nonexistent/iptables-shim.conf", "IPTABLES_SHIM_LOG=")
	shimEnv = append(shimEnv, j.ShimEnv...)
	for i := range j.Runs {
		// Alternate which side goes first, so neither always runs on a
		// warmer cache.
		sides := []struct {
			dir string
			env []string
			out *[]int64
		}{{j.ShimDir, shimEnv, &r.Ours}, {j.RealDir, os.Environ(), &r.Real}}
		if i%2 == 1 {
			sides[0], sides[1] = sides[1], sides[0]
		}
		for _, s := range sides {
			d, err := j.timed(s.dir, s.env)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			*s.out = append(*s.out, d.Nanoseconds())
			for _, c := range j.Reset {
				if err := j.untimed(c); err != nil {
					fmt.Fprintln(os.Stderr, err)
					return 1
				}
			}
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// timed runs the job's call from dir and returns its wall time.
func (j job) timed(dir string, env []string) (time.Duration, error) {
	cmd := exec.Command(filepath.Join(dir, j.Prog), j.Args...)
	cmd.Args[0] = j.Prog // as a caller running it through PATH
	cmd.Env = env
	if j.Stdin != "" {
		cmd.Stdin = strings.NewReader(j.Stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w: %s", filepath.Join(dir, j.Prog), strings.Join(j.Args, " "), err, stderr.String())
	}
	return d, nil
}

// untimed runs a setup or reset command; iptables programs run as the real
// tool of the job's mode.
func (j job) untimed(c []string) error {
	prog := c[0]
	if strings.HasPrefix(prog, "ip") && strings.Contains(prog, "tables") {
		prog = filepath.Join(j.RealDir, prog)
	}
	out, err := exec.Command(prog, c[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(c, " "), err, out)
	}
	return nil
}
