// Command callcost measures what one single iptables call costs through the
// shim, next to the real binary, on a host that holds a kube-proxy ruleset
// (1,000 and 10,000 services by default), for the calls kube-proxy makes on
// every full sync (-N of an existing chain, -C of a jump rule, -I of a
// missing one) and -S CHAIN; in nf_tables and legacy; through a real
// binary (exec) and, for nf_tables, natively.
//
// It prints two tables from one run:
//
//   - wall time (median): the real binary, the Go exec floor (a Go program
//     that only execs the real binary), the shim exec and native, with
//     ratios to the real binary and the shim's added time over the floor's;
//   - where the shim's time goes (median per phase), from the call log's
//     phases field (shim/calllog): "outside" is the wall time the phases do
//     not cover (starting the process, the Go runtime and package init,
//     exit). With the log on, an exec call runs the real binary as a child
//     instead of becoming it, so "backend" there is the real binary's whole
//     run.
//
// With -instructions it also counts user-space instructions (valgrind), a
// figure that does not move with the machine's load: the real binary's
// whole call, the shim's whole call with the log on (an exec call's child
// not counted), and, for the floor and the shim's exec path with the log
// off, what each runs before it replaces itself with the real binary (so
// their ratio is the instruction side of the "added time over the floor"
// target). Kernel work (netlink dumps, x_tables copies) is not in it.
//
// Every measurement runs inside a fresh network namespace, in a copy of this
// program re-run there, which alternates the sides so drift hits all alike.
//
// Usage (root, from the module root):
//
//	go run ./bench/callcost [-services 1000,10000] [-runs 11] [-modes nft,legacy] [-exec-nft exec|auto] [-instructions]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/iptables-shim/iptables-shim/internal/benchrig"
	"github.com/iptables-shim/iptables-shim/internal/kubepayload"
	"github.com/iptables-shim/iptables-shim/shim/calllog"
)

// helperEnv names the job file for the copy of this program that runs inside
// the namespace.
const helperEnv = "CALLCOST_BENCH_JOB"

// call is one single command kube-proxy makes, with what undoes it.
type call struct {
	Name string
	Args []string
	// Reset runs (real tool, untimed) after each run of the call.
	Reset [][]string
}

// The calls: kube-proxy's per-sync ensureChain / ensureRule pairs (the
// chains and jumps exist after the first sync, so -N fails with exit 1 and
// -C succeeds), one -I of a jump that is missing, and a listing of one
// chain.
var calls = []call{
	{Name: "-N existing (exit 1)", Args: []string{"-w", "5", "-W", "100000", "-N", "KUBE-EXTERNAL-SERVICES", "-t", "filter"}},
	{Name: "-C jump (filter)", Args: []string{"-w", "5", "-W", "100000", "-C", "INPUT", "-t", "filter", "-m", "conntrack", "--ctstate", "NEW",
		"-m", "comment", "--comment", "kubernetes externally-visible service portals", "-j", "KUBE-EXTERNAL-SERVICES"}},
	{Name: "-C jump (nat, catalog target)", Args: []string{"-w", "5", "-W", "100000", "-C", "POSTROUTING", "-t", "nat",
		"-m", "comment", "--comment", "kubernetes postrouting rules", "-j", "KUBE-POSTROUTING"}},
	{Name: "-I jump (nat)", Args: []string{"-w", "5", "-W", "100000", "-I", "OUTPUT", "-t", "nat",
		"-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"},
		Reset: [][]string{{"iptables", "-t", "nat", "-D", "OUTPUT", "-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"}}},
	{Name: "-S CHAIN (nat)", Args: []string{"-w", "5", "-t", "nat", "-S", "KUBE-MARK-MASQ"}},
}

// setupRules are what kubelet 1.13 and an earlier kube-proxy sync leave:
// kubelet's chains (detection decides on them) and kube-proxy's jumps.
const setupRules = `*nat
:KUBE-MARK-DROP - [0:0]
-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
COMMIT
*filter
:KUBE-FIREWALL - [0:0]
-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP
-A INPUT -j KUBE-FIREWALL
-A OUTPUT -j KUBE-FIREWALL
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
COMMIT
`

// side is one way of making the call.
type side struct {
	Name string
	// Dir holds the program names; Env is added to the environment.
	Dir string
	Env []string
	// Log: the shim logs to a file, whose phases are read back.
	Log bool
}

// job is one namespace's work.
type job struct {
	Mode     string
	Services int
	Runs     int
	Sides    []side
	RealDir  string
	ShimDir  string
	CacheDir string
	Payload  string
	Count    bool // count instructions instead of timing
}

// sample is one side's measurements of one call.
type sample struct {
	Wall    []int64
	Phases  map[string][]int64
	Outside []int64
	Instr   int64
}

type result map[string]map[string]*sample // call -> side -> sample

func main() {
	if f := os.Getenv(helperEnv); f != "" {
		os.Exit(helper(f))
	}
	services := flag.String("services", "1000,10000", "comma-separated service counts (8 rules each)")
	runs := flag.Int("runs", 11, "runs per call and side (the median is printed)")
	modes := flag.String("modes", "nft,legacy", "comma-separated backends")
	instr := flag.Bool("instructions", false, "also count user-space instructions of one call (valgrind cachegrind)")
	execNFT := flag.String("exec-nft", "exec", "the nft setting of the shim's exec sides: exec, or auto (as in the kube-proxy image: the real binary, after the dialect check)")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "callcost bench: needs root (it creates network namespaces)")
		os.Exit(1)
	}
	if *execNFT != "exec" && *execNFT != "auto" {
		fmt.Fprintln(os.Stderr, "callcost bench: -exec-nft is exec or auto")
		os.Exit(2)
	}
	if err := run(*services, *modes, *runs, *instr, *execNFT); err != nil {
		fmt.Fprintln(os.Stderr, "callcost bench:", err)
		os.Exit(1)
	}
}

func run(services, modes string, runs int, instr bool, execNFT string) error {
	tmp, err := os.MkdirTemp("", "callcost-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	shimDir, err := benchrig.BuildLinked(tmp, "shim", "./cmd/iptables-shim")
	if err != nil {
		return err
	}
	floorDir, err := benchrig.BuildLinked(tmp, "floor", "./bench/overhead/execfloor")
	if err != nil {
		return err
	}
	fmt.Printf("load average at start: %s\n", loadavg())
	for _, mode := range split(modes) {
		realDir, err := benchrig.LinkReal(tmp, mode)
		if err != nil {
			return err
		}
		for _, s := range split(services) {
			n, err := strconv.Atoi(s)
			if err != nil {
				return fmt.Errorf("-services: %w", err)
			}
			p := kubepayload.Generate(kubepayload.Options{Services: n})
			base := []string{"IPTABLES_SHIM_CONFIG=/nonexistent/iptables-shim.conf", "IPTABLES_SHIM_MODE=auto",
				"IPTABLES_SHIM_CACHE_DIR=" + filepath.Join(tmp, "cache-"+mode+s)}
			sides := []side{
				{Name: "real", Dir: realDir},
				{Name: "floor", Dir: floorDir, Env: []string{"EXECFLOOR_TARGET=" + filepath.Join(realDir, "multi")}},
				{Name: "exec", Dir: shimDir, Env: append(slices.Clone(base), "IPTABLES_SHIM_NFT="+execNFT)},
				{Name: "exec+log", Dir: shimDir, Env: append(slices.Clone(base), "IPTABLES_SHIM_NFT="+execNFT), Log: true},
			}
			if mode == "nft" {
				sides = append(sides,
					side{Name: "native", Dir: shimDir, Env: append(slices.Clone(base), "IPTABLES_SHIM_NFT=native")},
					side{Name: "native+log", Dir: shimDir, Env: append(slices.Clone(base), "IPTABLES_SHIM_NFT=native"), Log: true})
			}
			j := job{Mode: mode, Services: n, Runs: runs, Sides: sides, RealDir: realDir, ShimDir: shimDir, CacheDir: tmp, Payload: p.Text}
			res, err := inNamespace(tmp, j)
			if err != nil {
				return fmt.Errorf("%s %d services: %w", mode, n, err)
			}
			var counts result
			if instr {
				j.Count = true
				if counts, err = inNamespace(tmp, j); err != nil {
					return fmt.Errorf("%s %d services, instructions: %w", mode, n, err)
				}
			}
			report(mode, n, p.Rules, sides, res, counts)
		}
	}
	fmt.Printf("load average at end: %s\n", loadavg())
	return nil
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ") + fmt.Sprintf(" (%d CPUs)", runtime.NumCPU())
}

// report prints the two tables of one mode and size.
func report(mode string, services, rules int, sides []side, res, counts result) {
	fmt.Printf("\n== %s, %d services (%d rules), median of the runs\n", mode, services, rules)
	has := func(name string) bool {
		for _, s := range sides {
			if s.Name == name {
				return true
			}
		}
		return false
	}
	fmt.Printf("%-31s %9s %9s %9s %7s %9s", "call", "real", "floor", "exec", "ratio", "added/fl")
	if has("native") {
		fmt.Printf(" %9s %7s", "native", "ratio")
	}
	fmt.Println()
	for _, c := range calls {
		r := res[c.Name]
		real, floor, ex := median(r["real"].Wall), median(r["floor"].Wall), median(r["exec"].Wall)
		fmt.Printf("%-31s %9s %9s %9s %7.2f %9s", c.Name, ms(real), ms(floor), ms(ex), ratio(ex, real), addedRatio(ex, floor, real))
		if has("native") {
			nat := median(r["native"].Wall)
			fmt.Printf(" %9s %7.2f", ms(nat), ratio(nat, real))
		}
		fmt.Println()
	}
	for _, sn := range []string{"exec+log", "native+log"} {
		if !has(sn) {
			continue
		}
		fmt.Printf("\n-- where the shim's time goes (%s; median per phase, ms)\n", sn)
		for _, c := range calls {
			s := res[c.Name][sn]
			names := make([]string, 0, len(s.Phases))
			for k := range s.Phases {
				names = append(names, k)
			}
			sort.Slice(names, func(a, b int) bool { return phaseOrder(names[a]) < phaseOrder(names[b]) })
			var parts []string
			parts = append(parts, "wall="+msShort(median(s.Wall)), "outside="+msShort(median(s.Outside)))
			for _, k := range names {
				if m := median(s.Phases[k]); m >= 5000 { // 5 µs: below is noise
					parts = append(parts, k+"="+msShort(m))
				}
			}
			fmt.Printf("%-31s %s\n", c.Name, strings.Join(parts, " "))
		}
	}
	if counts != nil {
		fmt.Printf("\n-- user-space instructions of one call (millions; real, exec+log and native+log: the whole call;\n" +
			"   floor and exec: before they exec the real binary, the log off; pre/fl: exec's over the floor's)\n")
		fmt.Printf("%-31s %9s %9s %9s %7s %9s", "call", "real", "floor", "exec", "pre/fl", "exec+log")
		if has("native") {
			fmt.Printf(" %9s", "native")
		}
		fmt.Println()
		for _, c := range calls {
			r := counts[c.Name]
			mi := func(s string) string {
				if r[s] == nil || r[s].Instr == 0 {
					return "-"
				}
				return fmt.Sprintf("%.2f", float64(r[s].Instr)/1e6)
			}
			pre := "-"
			if r["exec"] != nil && r["floor"] != nil && r["floor"].Instr > 0 {
				pre = fmt.Sprintf("%.2f", float64(r["exec"].Instr)/float64(r["floor"].Instr))
			}
			fmt.Printf("%-31s %9s %9s %9s %7s %9s", c.Name, mi("real"), mi("floor"), mi("exec"), pre, mi("exec+log"))
			if has("native") {
				fmt.Printf(" %9s", mi("native+log"))
			}
			fmt.Println()
		}
	}
}

// phaseOrder sorts phases in the order a call goes through them.
func phaseOrder(name string) int {
	order := []string{"config", "log-open", "detect:created", "detect:netns", "detect:cache", "detect:revalidate",
		"detect:lock", "detect:probe", "detect:write", "decide", "pick", "guard", "guard-pre",
		"native:lock", "native:state", "native:run", "native:commit", "backend", "finish"}
	if i := slices.Index(order, name); i >= 0 {
		return i
	}
	return len(order)
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// addedRatio is the shim's time over the real binary's, divided by the
// floor's: 1.0 means the shim adds no more than a Go program that only
// execs the real binary.
func addedRatio(ours, floor, real int64) string {
	if floor <= real {
		return "-"
	}
	return fmt.Sprintf("%.2f", float64(ours-real)/float64(floor-real))
}

func median(v []int64) int64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(ns int64) string      { return fmt.Sprintf("%.2fms", float64(ns)/1e6) }
func msShort(ns int64) string { return fmt.Sprintf("%.3f", float64(ns)/1e6) }

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// inNamespace runs j in a fresh network namespace and returns its result.
func inNamespace(tmp string, j job) (result, error) {
	ns, err := benchrig.NewNS()
	if err != nil {
		return nil, err
	}
	defer func() { _ = exec.Command("ip", "netns", "del", ns).Run() }()
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	enc, err := json.Marshal(j)
	if err != nil {
		return nil, err
	}
	jobFile := filepath.Join(tmp, "job.json")
	if err := os.WriteFile(jobFile, enc, 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command("ip", "netns", "exec", ns, self)
	cmd.Env = append(os.Environ(), helperEnv+"="+jobFile)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, stderr.String())
	}
	var res result
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("helper output: %w", err)
	}
	return res, nil
}

// helper runs inside the namespace: loads the ruleset with the real tool,
// then runs every call on every side, alternating, resetting after each.
func helper(jobFile string) int {
	var j job
	enc, err := os.ReadFile(jobFile)
	if err == nil {
		err = json.Unmarshal(enc, &j)
	}
	if err == nil {
		err = j.setup()
	}
	var res result
	if err == nil {
		if j.Count {
			res, err = j.count()
		} else {
			res, err = j.measure()
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func (j job) setup() error {
	// iptables-legacy's lock file is machine-wide whatever the namespace: a
	// private one keeps other work on the machine out of the figures.
	os.Setenv("XTABLES_LOCKFILE", filepath.Join(j.CacheDir, "xtables.lock"))
	for _, text := range []string{j.Payload, setupRules} {
		cmd := exec.Command(filepath.Join(j.RealDir, "iptables-restore"), "--noflush")
		cmd.Args[0] = "iptables-restore"
		if j.Mode == "nft" {
			// The shim's native restore writes what iptables-nft-restore
			// writes, in a fraction of the time (minutes at 80k rules on
			// a loaded machine otherwise).
			cmd = exec.Command(filepath.Join(j.ShimDir, "iptables-restore"), "--noflush")
			cmd.Env = append(os.Environ(), "IPTABLES_SHIM_MODE=nft", "IPTABLES_SHIM_NFT=native", "IPTABLES_SHIM_GUARD=false",
				"IPTABLES_SHIM_CONFIG=/nonexistent/iptables-shim.conf", "IPTABLES_SHIM_LOG=")
		}
		cmd.Stdin = strings.NewReader(text)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("loading the ruleset: %w: %s", err, out)
		}
	}
	return nil
}

// logFile is where a logging side's call record goes (one run at a time).
func (j job) logFile() string { return filepath.Join(j.CacheDir, "call.log") }

func (j job) measure() (result, error) {
	res := result{}
	for _, c := range calls {
		res[c.Name] = map[string]*sample{}
		for _, s := range j.Sides {
			res[c.Name][s.Name] = &sample{Phases: map[string][]int64{}}
		}
		// One untimed call per shim side first: the decision cache is
		// then warm, as on a host where kube-proxy has run before.
		for _, s := range j.Sides {
			if _, _, err := j.once(c, s); err != nil {
				return nil, err
			}
		}
		for i := range j.Runs {
			order := slices.Clone(j.Sides)
			// Rotate which side goes first, so none always runs warmest.
			k := i % len(order)
			order = append(order[k:], order[:k]...)
			for _, s := range order {
				d, rec, err := j.once(c, s)
				if err != nil {
					return nil, err
				}
				smp := res[c.Name][s.Name]
				smp.Wall = append(smp.Wall, d.Nanoseconds())
				if s.Log {
					if rec.inproc == 0 {
						return nil, fmt.Errorf("%s (%s): no call record with phases in the log", c.Name, s.Name)
					}
					smp.Outside = append(smp.Outside, d.Nanoseconds()-rec.inproc.Nanoseconds())
					for k, v := range rec.phases {
						smp.Phases[k] = append(smp.Phases[k], v.Nanoseconds())
					}
				}
			}
		}
	}
	return res, nil
}

// record is what a logging run's call record says.
type record struct {
	phases map[string]time.Duration
	inproc time.Duration
}

var (
	phasesField = regexp.MustCompile(`phases="([^"]*)"`)
	inprocField = regexp.MustCompile(`inproc=([0-9.]+[µmn]?s)`)
)

// once runs a call on a side, timed, then the call's reset.
func (j job) once(c call, s side) (time.Duration, record, error) {
	var rec record
	cmd := exec.Command(filepath.Join(s.Dir, "iptables"), c.Args...)
	cmd.Args[0] = "iptables" // as a caller running it through PATH
	cmd.Env = append(os.Environ(), s.Env...)
	if s.Log {
		os.Remove(j.logFile())
		cmd.Env = append(cmd.Env, "IPTABLES_SHIM_LOG="+j.logFile())
	} else {
		cmd.Env = append(cmd.Env, "IPTABLES_SHIM_LOG=")
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil && !(strings.HasPrefix(c.Name, "-N") && cmd.ProcessState != nil && cmd.ProcessState.ExitCode() == 1) {
		return 0, rec, fmt.Errorf("%s (%s): %w: %s", c.Name, s.Name, err, stderr.String())
	}
	if s.Log {
		data, _ := os.ReadFile(j.logFile())
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.Contains(line, "event=call ") {
				continue
			}
			if m := phasesField.FindStringSubmatch(line); m != nil {
				rec.phases = calllog.ParsePhases(m[1])
			}
			if m := inprocField.FindStringSubmatch(line); m != nil {
				rec.inproc, _ = time.ParseDuration(m[1])
			}
		}
	}
	return d, rec, j.reset(c)
}

func (j job) reset(c call) error {
	for _, r := range c.Reset {
		cmd := exec.Command(filepath.Join(j.RealDir, r[0]), r[1:]...)
		cmd.Args[0] = r[0]
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("reset %v: %w: %s", r, err, out)
		}
	}
	return nil
}

var irefs = regexp.MustCompile(`I\s+refs:\s+([0-9,]+)`)

// countBeforeExec counts the user-space instructions a side runs before
// it replaces itself with the real binary (the floor, and the shim's exec
// path with the log off): callgrind dumps its counts when syscall.Exec is
// entered. The real binary's own run is the same on both sides, so the
// two counts compare what each adds in front of it.
func (j job) countBeforeExec(c call, s side) (int64, error) {
	dir, err := os.MkdirTemp(j.CacheDir, "callgrind-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	args := append([]string{"--tool=callgrind", "--callgrind-out-file=" + filepath.Join(dir, "cg"), "--dump-before=syscall.Exec",
		filepath.Join(s.Dir, "iptables")}, c.Args...)
	cmd := exec.Command("valgrind", args...)
	cmd.Env = append(os.Environ(), s.Env...)
	cmd.Env = append(cmd.Env, "GODEBUG=asyncpreemptoff=1", "IPTABLES_SHIM_LOG=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	_ = cmd.Run()
	data, err := os.ReadFile(filepath.Join(dir, "cg.1"))
	if err != nil {
		// It never replaced itself with the real binary (-exec-nft auto:
		// the native backend carried the call out): no figure.
		return 0, nil
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "summary: "); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("%s (%s): no summary in callgrind's dump", c.Name, s.Name)
}

// count runs each call once per side under cachegrind and reads the
// instruction count. Shim sides run with the log on: a process that
// replaces itself with the real binary leaves valgrind no count.
func (j job) count() (result, error) {
	res := result{}
	for _, c := range calls {
		res[c.Name] = map[string]*sample{}
		for _, s := range j.Sides {
			if s.Name == "exec" || s.Name == "floor" {
				// These replace themselves with the real binary:
				// counted up to that exec, warmed as the logging sides
				// are (twice: once to decide, once for the first full
				// re-check), so the counted call is a warm one.
				for range 2 {
					if _, _, err := j.once(c, s); err != nil {
						return nil, err
					}
				}
				n, err := j.countBeforeExec(c, s)
				if err != nil {
					return nil, err
				}
				res[c.Name][s.Name] = &sample{Instr: n}
				if err := j.reset(c); err != nil {
					return nil, err
				}
				continue
			}
			if s.Name == "native" {
				continue // its +log twin is counted
			}
			// Warm the cache twice: the first call decides, the second
			// makes the first full re-check (and records a legacy proof).
			for range 2 {
				if _, _, err := j.once(c, s); err != nil {
					return nil, err
				}
			}
			args := append([]string{"--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
				filepath.Join(s.Dir, "iptables")}, c.Args...)
			cmd := exec.Command("valgrind", args...)
			cmd.Env = append(os.Environ(), s.Env...)
			// Go's asynchronous preemption signals upset valgrind.
			cmd.Env = append(cmd.Env, "GODEBUG=asyncpreemptoff=1")
			if s.Log {
				cmd.Env = append(cmd.Env, "IPTABLES_SHIM_LOG="+j.logFile())
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			_ = cmd.Run() // -N exits 1; the count is what matters
			m := irefs.FindStringSubmatch(stderr.String())
			if m == nil {
				return nil, fmt.Errorf("%s (%s): no instruction count from valgrind: %s", c.Name, s.Name, lastLines(stderr.String(), 5))
			}
			n, _ := strconv.ParseInt(strings.ReplaceAll(m[1], ",", ""), 10, 64)
			res[c.Name][s.Name] = &sample{Instr: n}
			if err := j.reset(c); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}
