// Command native benchmarks the native nf_tables backend against
// iptables-nft-restore/-save (and iptables-legacy-restore/-save for
// reference) on kube-proxy-shaped payloads: a restore into a fresh network
// namespace, the same restore again (replacing the tables), and a save.
// Every run happens as a child process in a private namespace, so wall
// time and peak RSS (from wait4) are measured the same way for each tool.
//
// The tool "shim" is the whole iptables-shim binary (built from this
// tree), called as iptables-restore and iptables-save with iptables-nft
// reachable, as a node or the kube-proxy image runs it; "native" is the
// native backend alone.
//
// Usage (root, from the module root): go run ./bench/native [-services 2000,10000,20000]
// [-tools iptables-nft,native,shim,iptables-legacy] [-profile DIR] [-keep]
//
// -profile writes a CPU and an allocation profile of each native step to
// DIR (e.g. save-20000.cpu.prof) for go tool pprof. -keep leaves each
// tool's namespace (with the payload applied) in place and prints its name,
// for looking at or profiling a loaded ruleset by hand; delete them with
// ip netns del.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/iptables-shim/iptables-shim/internal/benchrig"
	"github.com/iptables-shim/iptables-shim/internal/kubepayload"
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/native"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// helperEnv makes the binary act as one native restore/save call, printing
// its phase timings as JSON on fd 3.
const helperEnv = "NATIVE_BENCH_HELPER"

func main() {
	if os.Getenv(launchEnv) != "" {
		os.Exit(launch(os.Args[1:]))
	}
	if tool := os.Getenv(helperEnv); tool != "" {
		os.Exit(helper(tool))
	}
	services := flag.String("services", "2000,10000,20000", "comma-separated service counts")
	only := flag.String("tools", "iptables-nft,native,shim,iptables-legacy", "comma-separated tools to run")
	profDir := flag.String("profile", "", "directory for CPU and allocation profiles of the native steps")
	keep := flag.Bool("keep", false, "keep the namespaces (printing their names) instead of deleting them")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "native bench: needs root (it creates network namespaces)")
		os.Exit(1)
	}
	tools := strings.Split(*only, ",")
	shimDir := ""
	if slices.Contains(tools, "shim") {
		tmp, err := os.MkdirTemp("", "native-bench-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "native bench:", err)
			os.Exit(1)
		}
		defer os.RemoveAll(tmp)
		if shimDir, err = benchrig.BuildLinked(tmp, "shim", "./cmd/iptables-shim"); err != nil {
			fmt.Fprintln(os.Stderr, "native bench:", err)
			os.Exit(1)
		}
	}
	for _, s := range strings.Split(*services, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := benchSize(n, strings.Split(*only, ","), shimDir, *profDir, *keep); err != nil {
			fmt.Fprintln(os.Stderr, "native bench:", err)
			os.Exit(1)
		}
	}
}

// helper runs one call of the native backend in the current namespace.
func helper(tool string) int {
	if path := os.Getenv(helperEnv + "_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			_ = pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	if path := os.Getenv(helperEnv + "_MEMPROFILE"); path != "" {
		defer func() {
			if f, err := os.Create(path); err == nil {
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	tm := &native.Timings{}
	b := native.New(native.Options{Timings: tm})
	c := &backend.Call{Family: syntax.IPv4, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	if tool == "save" {
		c.Tool = backend.Save
	} else {
		c.Tool = backend.Restore
	}
	err := b.Run(context.Background(), c)
	if f := os.NewFile(3, "timings"); f != nil && os.Getenv(helperEnv+"_NOFD3") == "" {
		_ = json.NewEncoder(f).Encode(tm)
		f.Close()
	}
	if err != nil {
		fmt.Fprint(os.Stderr, syntax.FormatError(c.Name(), "", err))
		return int(ipterr.ClassOf(err))
	}
	return 0
}

// measurement is one child run.
type measurement struct {
	wall   time.Duration
	cpu    time.Duration // user + system
	maxRSS int64         // KiB
	phases *native.Timings
}

type netns string

func newNS() (netns, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	name := netns(fmt.Sprintf("shimbench-%d-%s", os.Getpid(), hex.EncodeToString(b[:])))
	if out, err := exec.Command("/usr/sbin/ip", "netns", "add", string(name)).CombinedOutput(); err != nil {
		return "", fmt.Errorf("ip netns add: %v: %s", err, out)
	}
	return name, nil
}

func (ns netns) del() { _ = exec.Command("/usr/sbin/ip", "netns", "del", string(ns)).Run() }

// run runs prog inside ns with stdin and returns its wall time and peak
// RSS; output is discarded (save) but must exit 0.
func (ns netns) run(stdin []byte, env []string, prog string, args ...string) (measurement, error) {
	m, _, err := ns.runOut(stdin, env, prog, args...)
	return m, err
}

// runOut is run that also returns stdout.
func (ns netns) runOut(stdin []byte, env []string, prog string, args ...string) (measurement, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	self, err := os.Executable()
	if err != nil {
		return measurement{}, nil, err
	}
	cmd := exec.CommandContext(ctx, self, append([]string{"/usr/sbin/ip", "netns", "exec", string(ns), prog}, args...)...)
	cmd.Env = append(append(os.Environ(), launchEnv+"=1"), env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pr, pw, err := os.Pipe()
	if err != nil {
		return measurement{}, nil, err
	}
	rr, rw, err := os.Pipe()
	if err != nil {
		pr.Close()
		pw.Close()
		return measurement{}, nil, err
	}
	cmd.ExtraFiles = []*os.File{pw, rw}
	err = cmd.Start()
	pw.Close()
	rw.Close()
	if err != nil {
		pr.Close()
		rr.Close()
		return measurement{}, nil, err
	}
	timings, _ := io.ReadAll(pr)
	pr.Close()
	report, _ := io.ReadAll(rr)
	rr.Close()
	err = cmd.Wait()
	var lr launchReport
	_ = json.Unmarshal(report, &lr)
	m := measurement{wall: lr.Wall, cpu: lr.CPU, maxRSS: lr.MaxRSS}
	if err != nil {
		return m, nil, fmt.Errorf("%s %v: %v: %s", prog, args, err, stderr.String())
	}
	if len(timings) > 0 {
		m.phases = &native.Timings{}
		_ = json.Unmarshal(timings, m.phases)
	}
	return m, stdout.Bytes(), nil
}

// withoutComments drops save's "# Generated"/"# Completed" lines.
func withoutComments(b []byte) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// tool is one implementation under test.
type tool struct {
	name          string
	restore, save []string // argv
	env           []string
}

func benchSize(services int, only []string, shimDir, profDir string, keep bool) error {
	p := kubepayload.Generate(kubepayload.Options{Services: services})
	payload := []byte(p.Text)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var tools []tool
	for _, t := range []tool{
		{name: "iptables-nft", restore: []string{"/usr/sbin/iptables-nft-restore"}, save: []string{"/usr/sbin/iptables-nft-save"}},
		{name: "native", restore: []string{self}, save: []string{self}, env: []string{helperEnv + "=restore"}},
		// The whole shim, as a node or the kube-proxy image runs it: the
		// router checks the payload first (iptables-nft is reachable to
		// take what the native backend cannot do), then the native backend
		// writes it. The mode is given: a fresh namespace holds no evidence
		// to detect from.
		{name: "shim", restore: []string{filepath.Join(shimDir, "iptables-restore")}, save: []string{filepath.Join(shimDir, "iptables-save")},
			env: []string{"IPTABLES_SHIM_MODE=nft", "IPTABLES_SHIM_NFT=auto", "IPTABLES_SHIM_CONFIG=/nonexistent/iptables-shim.conf",
				"IPTABLES_SHIM_CACHE_DIR=" + filepath.Join(filepath.Dir(shimDir), "cache"), "IPTABLES_SHIM_LOG="}},
		{name: "iptables-legacy", restore: []string{"/usr/sbin/iptables-legacy-restore"}, save: []string{"/usr/sbin/iptables-legacy-save"}},
	} {
		if slices.Contains(only, t.name) {
			tools = append(tools, t)
		}
	}
	fmt.Printf("\n== %d services: %d rules, %d chains, payload %.1f MiB\n", services, p.Rules, p.Chains, float64(len(payload))/(1<<20))
	fmt.Printf("%-16s %-8s %10s %10s %10s  %s\n", "tool", "step", "wall", "cpu", "peak RSS", "phases (native)")
	results := map[string][3]measurement{}
	for _, t := range tools {
		ns, err := newNS()
		if err != nil {
			return err
		}
		var ms [3]measurement
		for i, step := range []string{"fresh", "replace", "save"} {
			argv := t.restore
			env := t.env
			in := payload
			if step == "save" {
				argv, in = t.save, nil
				if t.name == "native" {
					env = []string{helperEnv + "=save"}
				}
			}
			if t.name == "native" && profDir != "" {
				base := filepath.Join(profDir, fmt.Sprintf("%s-%d", step, services))
				env = append(slices.Clip(env), helperEnv+"_CPUPROFILE="+base+".cpu.prof", helperEnv+"_MEMPROFILE="+base+".alloc.prof")
			}
			m, out, err := ns.runOut(in, env, argv[0], argv[1:]...)
			if err != nil {
				ns.del()
				return err
			}
			if step == "save" && (t.name == "native" || t.name == "shim") {
				// The native save must equal iptables-nft-save of the
				// same namespace.
				_, ref, err := ns.runOut(nil, nil, "/usr/sbin/iptables-nft-save")
				if err != nil {
					ns.del()
					return err
				}
				same := withoutComments(ref) == withoutComments(out)
				fmt.Printf("%s save identical to iptables-nft-save of the %s namespace: %v\n", t.name, t.name, same)
			}
			ms[i] = m
			phases := ""
			if ph := m.phases; ph != nil && step != "save" {
				phases = fmt.Sprintf("parse %v, state %v, encode %v, commit %v (%d msgs, %.1f MiB)",
					ph.Parse.Round(time.Millisecond), ph.State.Round(time.Millisecond), ph.Plan.Round(time.Millisecond),
					ph.Commit.Round(time.Millisecond), ph.Messages, float64(ph.Bytes)/(1<<20))
			}
			fmt.Printf("%-16s %-8s %9.3fs %9.3fs %8.1fMiB  %s\n", t.name, step, m.wall.Seconds(), m.cpu.Seconds(), float64(m.maxRSS)/1024, phases)
		}
		results[t.name] = ms
		if keep {
			fmt.Printf("%s namespace kept: %s\n", t.name, ns)
		} else {
			ns.del()
		}
	}
	ref, ok := results["iptables-nft"]
	if !ok {
		return nil
	}
	budget := float64(len(payload))*2/(1<<20) + 30
	for _, name := range []string{"native", "shim"} {
		mine, ok := results[name]
		if !ok {
			continue
		}
		for i, step := range []string{"fresh", "replace", "save"} {
			fmt.Printf("ratio %s/iptables-nft %-8s wall %.2fx  cpu %.2fx  peak RSS %.1f MiB (iptables-nft %.1f MiB; budget 2x payload + 30 MiB = %.1f MiB)\n",
				name, step, mine[i].wall.Seconds()/ref[i].wall.Seconds(), mine[i].cpu.Seconds()/ref[i].cpu.Seconds(),
				float64(mine[i].maxRSS)/1024, float64(ref[i].maxRSS)/1024, budget)
		}
	}
	return nil
}
