// Command commands benchmarks single iptables commands carried out by the
// shim's native nf_tables backend against the real iptables-nft 1.8.9: a
// -C of the last rule and an -A, on a chain of 10, 1,000 and 10,000 rules,
// next to an unrelated chain of 10,000 rules and 2,000 unrelated chains of
// one rule each (a -C must not pay for them).
// Each figure is the median wall time of several runs of the process,
// inside a private network namespace, from one run of this program.
//
// Usage (root): go run ./bench/commands [-sizes 10,1000,10000] [-runs 7]
package main

import (
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/iptables-shim/iptables-shim/internal/shimbuild"
)

func main() {
	sizes := flag.String("sizes", "10,1000,10000", "comma-separated chain sizes")
	runs := flag.Int("runs", 7, "runs per figure (the median is printed)")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "commands bench: needs root (it creates network namespaces)")
		os.Exit(1)
	}
	if err := run(*sizes, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "commands bench:", err)
		os.Exit(1)
	}
}

func run(sizes string, runs int) error {
	dir, err := os.MkdirTemp("", "iptables-shim-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	shim := filepath.Join(dir, "iptables")
	build := shimbuild.Command("./cmd/iptables-shim", shim)
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v: %s", err, out)
	}
	real, err := exec.LookPath("/usr/sbin/iptables-nft")
	if err != nil {
		return err
	}
	env := append(os.Environ(), "IPTABLES_SHIM_MODE=nft", "IPTABLES_SHIM_NFT=native", "IPTABLES_SHIM_GUARD=false",
		"IPTABLES_SHIM_CONFIG=/nonexistent", "IPTABLES_SHIM_CACHE_DIR="+dir, "IPTABLES_SHIM_LOG=",
		"XTABLES_LOCKFILE="+filepath.Join(dir, "xtables.lock"))
	fmt.Printf("%-8s %-4s %12s %12s %7s\n", "rules", "cmd", "iptables-nft", "shim", "ratio")
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		ns, err := newNS(n)
		if err != nil {
			return err
		}
		for _, c := range []struct {
			name string
			args []string
		}{
			{"-C", ruleArgs("-C", n-1)},
			{"-A", ruleArgs("-A", n+1)},
		} {
			ref := median(runs, func() error { return ns.exec(env, real, c.args...) })
			mine := median(runs, func() error { return ns.exec(env, shim, c.args...) })
			if ref.err != nil || mine.err != nil {
				ns.close()
				return fmt.Errorf("%s on %d rules: real %v, shim %v", c.name, n, ref.err, mine.err)
			}
			fmt.Printf("%-8d %-4s %10.2fms %10.2fms %6.2fx\n", n, c.name, ms(ref.d), ms(mine.d), float64(mine.d)/float64(ref.d))
		}
		ns.close()
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// ruleArgs is a kube-proxy-shaped rule of the bench chain, numbered i.
func ruleArgs(op string, i int) []string {
	return []string{op, "BENCH", "-d", fmt.Sprintf("10.%d.%d.%d/32", i>>16&255, i>>8&255, i&255),
		"-p", "tcp", "-m", "comment", "--comment", fmt.Sprintf("svc %d", i), "-m", "tcp", "--dport", "80", "-j", "ACCEPT"}
}

type timing struct {
	d   time.Duration
	err error
}

func median(runs int, f func() error) timing {
	var ds []time.Duration
	for i := 0; i < runs; i++ {
		t0 := time.Now()
		if err := f(); err != nil {
			return timing{err: err}
		}
		ds = append(ds, time.Since(t0))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return timing{d: ds[len(ds)/2]}
}

// netns is a private network namespace holding the bench chain of n rules,
// an unrelated chain of 10,000 and 2,000 unrelated one-rule chains.
type netns struct{ name string }

func newNS(n int) (*netns, error) {
	var b [4]byte
	rand.Read(b[:])
	ns := &netns{name: "shimbench-" + hex.EncodeToString(b[:])}
	if out, err := exec.Command("ip", "netns", "add", ns.name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ip netns add: %v: %s", err, out)
	}
	var p strings.Builder
	p.WriteString("*filter\n:BENCH - [0:0]\n:OTHER - [0:0]\n")
	for i := 0; i < n; i++ {
		p.WriteString(strings.Join(quote(ruleArgs("-A", i)), " ") + "\n")
	}
	for i := 0; i < 10000; i++ {
		fmt.Fprintf(&p, "-A OTHER -s 172.16.%d.%d/32 -j DROP\n", i>>8&255, i&255)
	}
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&p, ":OTHER-%d - [0:0]\n-A OTHER-%d -j RETURN\n", i, i)
	}
	p.WriteString("COMMIT\n")
	cmd := exec.Command("ip", "netns", "exec", ns.name, "iptables-nft-restore")
	cmd.Stdin = strings.NewReader(p.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		ns.close()
		return nil, fmt.Errorf("iptables-nft-restore: %v: %s", err, out)
	}
	return ns, nil
}

func quote(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.Contains(a, " ") {
			a = `"` + a + `"`
		}
		out[i] = a
	}
	return out
}

func (ns *netns) exec(env []string, prog string, args ...string) error {
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns.name, prog}, args...)...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %v: %v: %s", prog, args, err, out)
	}
	return nil
}

func (ns *netns) close() { exec.Command("ip", "netns", "del", ns.name).Run() }
