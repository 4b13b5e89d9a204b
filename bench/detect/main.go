// Command detect-bench measures what backend detection costs at 0, 16k and
// 160k rules, next to the save-and-grep approach peers use
// (`iptables-nft-save -t mangle` searched for KUBE-IPTABLES-HINT, as
// iptables-wrappers does), and prints the figures side by side with their
// ratio from one run.
//
// It needs root. Everything happens in a network namespace it creates with a
// unique name and deletes at the end; the root namespace's firewall is never
// touched.
//
//	go run ./bench/detect [-sizes 0,16000,160000] [-warm 300] [-cold 30] [-peer 2]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/iptables-shim/iptables-shim/detect"
)

// figures are one size's averages, measured inside the namespace.
type figures struct {
	Warm time.Duration `json:"warm"`
	Cold time.Duration `json:"cold"`
	// Count is a cold probe that also counts rules: what a host without
	// Kubernetes chains costs.
	Count time.Duration `json:"count"`
	Peer  time.Duration `json:"peer"`
	Mode  string        `json:"mode"`
}

func main() {
	sizes := flag.String("sizes", "0,16000,160000", "rule counts to measure at")
	warm := flag.Int("warm", 300, "warm-cache calls to average")
	cold := flag.Int("cold", 30, "cold calls to average")
	peer := flag.Int("peer", 2, "save-and-grep runs to average")
	mode := flag.String("backend", "nft", "where the rules and the hint go: nft or legacy")
	inner := flag.Bool("inner", false, "internal: measure inside the namespace")
	flag.Parse()
	if *mode != "nft" && *mode != "legacy" {
		fmt.Fprintln(os.Stderr, "-backend is nft or legacy")
		os.Exit(2)
	}
	if *inner {
		os.Exit(measure(*mode, *warm, *cold, *peer))
	}
	os.Exit(run(*mode, *sizes, *warm, *cold, *peer))
}

func run(mode, sizeList string, warm, cold, peer int) int {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "detect-bench needs root (it creates a network namespace)")
		return 1
	}
	ns := fmt.Sprintf("shimbench-%d", os.Getpid())
	if out, err := exec.Command("/usr/sbin/ip", "netns", "add", ns).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "ip netns add: %v: %s\n", err, out)
		return 1
	}
	cleanup := func() { _ = exec.Command("/usr/sbin/ip", "netns", "del", ns).Run() }
	defer cleanup()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() { <-sig; cleanup(); os.Exit(130) }()

	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	const row = "%7s  %10s  %10s  %12s  %14s  %10s  %10s\n"
	fmt.Printf(row, "rules", "ours warm", "ours cold", "cold+count", peerLabel(mode), "ratio warm", "ratio cold")
	for _, s := range strings.Split(sizeList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			fmt.Fprintf(os.Stderr, "bad size %q\n", s)
			return 1
		}
		if err := load(ns, mode, n); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		out, err := exec.Command("/usr/sbin/ip", "netns", "exec", ns, self, "-inner", "-backend", mode,
			"-warm", fmt.Sprint(warm), "-cold", fmt.Sprint(cold), "-peer", fmt.Sprint(peer)).Output()
		if err != nil {
			fmt.Fprintf(os.Stderr, "measuring at %d rules: %v\n", n, err)
			return 1
		}
		var f figures
		if err := json.Unmarshal(out, &f); err != nil {
			fmt.Fprintf(os.Stderr, "measuring at %d rules: %v: %s\n", n, err, out)
			return 1
		}
		fmt.Printf(row, fmt.Sprint(n), round(f.Warm), round(f.Cold), round(f.Count), round(f.Peer),
			fmt.Sprintf("%.0fx", float64(f.Peer)/float64(f.Warm)), fmt.Sprintf("%.0fx", float64(f.Peer)/float64(f.Cold)))
	}
	return 0
}

// peerCommand is how peers look for the hint: nft-save of mangle only, but
// a full legacy save, since asking legacy for a table creates it.
func peerCommand(mode string) []string {
	if mode == "legacy" {
		return []string{"/usr/sbin/iptables-legacy-save"}
	}
	return []string{"/usr/sbin/iptables-nft-save", "-t", "mangle"}
}

func peerLabel(mode string) string {
	if mode == "legacy" {
		return "legacy-save|grep"
	}
	return "nft-save|grep"
}

// load replaces the namespace's ruleset in one backend with n nat rules
// (the shape of kube-proxy's service rules) plus kubelet's hint chain.
func load(ns, mode string, n int) error {
	var b bytes.Buffer
	b.WriteString("*mangle\n:KUBE-IPTABLES-HINT - [0:0]\nCOMMIT\n*nat\n:KUBE-SERVICES - [0:0]\n")
	for i := range n {
		fmt.Fprintf(&b, "-A KUBE-SERVICES -d 10.%d.%d.%d/32 -p tcp -m comment --comment \"ns/svc-%d:http\" -m tcp --dport 80 -j ACCEPT\n",
			i>>16&255, i>>8&255, i&255, i)
	}
	b.WriteString("COMMIT\n")
	cmd := exec.Command("/usr/sbin/ip", "netns", "exec", ns, "/usr/sbin/iptables-"+mode+"-restore")
	cmd.Stdin = &b
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("loading %d rules: %v: %s", n, err, out)
	}
	return nil
}

// measure runs inside the namespace and prints figures as JSON.
func measure(mode string, warm, cold, peer int) int {
	dir, err := os.MkdirTemp("", "detect-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	opts := detect.Options{CacheDir: dir, NoHostHints: true, Wait: -1}
	var f figures

	coldOpts := opts
	coldOpts.NoCache = true
	start := time.Now()
	for range cold {
		if _, err := detect.Resolve(ctx, coldOpts); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	f.Cold = time.Since(start) / time.Duration(cold)

	start = time.Now()
	for range cold {
		detect.Gather(ctx, detect.KernelProbers(), "", detect.Query{Count: true})
	}
	f.Count = time.Since(start) / time.Duration(cold)

	d, err := detect.Resolve(ctx, opts) // fills the cache
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	f.Mode = string(d.Mode)
	start = time.Now()
	for range warm {
		if d, err := detect.Resolve(ctx, opts); err != nil || !d.Cached {
			fmt.Fprintf(os.Stderr, "warm call not served from the cache: %v\n", err)
			return 1
		}
	}
	f.Warm = time.Since(start) / time.Duration(warm)

	start = time.Now()
	for range peer {
		argv := peerCommand(mode)
		out, err := exec.Command(argv[0], argv[1:]...).Output()
		if err != nil || !bytes.Contains(out, []byte("KUBE-IPTABLES-HINT")) {
			fmt.Fprintf(os.Stderr, "%s: %v\n", strings.Join(argv, " "), err)
			return 1
		}
	}
	f.Peer = time.Since(start) / time.Duration(peer)
	if err := json.NewEncoder(os.Stdout).Encode(f); err != nil {
		return 1
	}
	return 0
}

func round(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}
