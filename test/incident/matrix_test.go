package incident

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// cell is one simulated node with one image and one caller.
type cell struct {
	t        *testing.T
	ns       *netnstest.NS
	shimDir  string
	env      []string
	v6       bool
	inserted int // -I calls made by ensureJump
}

// run calls one of the shim's iptables names ("iptables", "iptables-save",
// "iptables-restore"; the ip6tables twin when the cluster is IPv6).
func (c *cell) run(stdin, prog string, args ...string) netnstest.Result {
	if c.v6 {
		prog = "ip6" + strings.TrimPrefix(prog, "ip")
	}
	return c.ns.RunWith(netnstest.RunOpts{Stdin: strings.NewReader(stdin), Env: c.env}, filepath.Join(c.shimDir, prog), args...)
}

// ipsets makes sure the named "NAME:TYPE" sets exist, as kube-proxy's IPVS
// proxier does with the ipset tool before each restore.
func (c *cell) ipsets(specs ...string) error {
	for _, s := range specs {
		name, typ, _ := strings.Cut(s, ":")
		args := []string{"create", name, typ, "-exist"}
		if c.v6 {
			args = append(args, "family", "inet6")
		}
		if r := c.ns.Run("ipset", args...); r.Code != 0 {
			return fmt.Errorf("ipset %v: %s", args, r)
		}
	}
	return nil
}

// hostSave is what the node's own tools see in a backend and family.
func hostSave(ns *netnstest.NS, backend string, v6 bool) string {
	prog := "iptables-" + backend + "-save"
	if v6 {
		prog = "ip6tables-" + backend + "-save"
	}
	r := ns.Run(prog)
	return netnstest.NormalizeSave(r.Stdout + r.Stderr)
}

func other(backend string) string {
	if backend == "nft" {
		return "legacy"
	}
	return "nft"
}

// markDropRule matches KUBE-MARK-DROP's rule as any era's kubelet (or the
// guard) writes it, with the default drop bit.
var markDropRule = regexp.MustCompile(`(?m)^-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000$`)

// outcome of a cell for the summary table.
type outcome struct {
	host, image, caller, result string
}

var (
	summaryMu sync.Mutex
	summary   []outcome
)

func record(h host, img image, cl caller, result string) {
	summaryMu.Lock()
	defer summaryMu.Unlock()
	summary = append(summary, outcome{h.name, img.name, cl.name, result})
}

func TestMain(m *testing.M) {
	code := m.Run()
	if len(summary) > 0 {
		fmt.Println("\nincident matrix:")
		fmt.Printf("%-30s %-28s %-26s %s\n", "HOST", "IMAGE", "CALLER", "RESULT")
		for _, o := range summary {
			fmt.Printf("%-30s %-28s %-26s %s\n", o.host, o.image, o.caller, o.result)
		}
	}
	os.Exit(code)
}

// TestMatrix runs every host x image x caller cell.
func TestMatrix(t *testing.T) {
	netnstest.Require(t, "iptables-nft", "iptables-legacy", "ipset")
	shimDir := netnstest.ShimDir(t)
	for _, h := range hosts {
		for _, img := range images {
			for _, cl := range callers {
				h, img, cl := h, img, cl
				t.Run(h.name+"/"+img.name+"/"+cl.name, func(t *testing.T) {
					result := runCell(t, shimDir, h, img, cl)
					if t.Failed() {
						result = "FAIL"
					}
					record(h, img, cl, result)
				})
			}
		}
	}
}

func runCell(t *testing.T, shimDir string, h host, img image, cl caller) string {
	ns := netnstest.New(t)
	h.seed(t, ns)
	logFile := filepath.Join(t.TempDir(), "shim.log")
	c := &cell{t: t, ns: ns, shimDir: shimDir, v6: h.v6, env: []string{
		"IPTABLES_SHIM_MODE=auto",
		"IPTABLES_SHIM_BACKEND_DIRS=" + strings.Join(img.dirs(t), ":"),
		"IPTABLES_SHIM_CACHE_DIR=" + t.TempDir(),
		"IPTABLES_SHIM_DETECT_WAIT=200ms",
		"IPTABLES_SHIM_LOG=" + logFile,
	}}
	t.Cleanup(func() {
		if t.Failed() {
			if data, err := os.ReadFile(logFile); err == nil {
				t.Logf("shim log:\n%s", data)
			}
		}
	})

	// A legacy host with an image that has no legacy binary cannot be
	// served: nothing but a real binary writes x_tables. The shim must say
	// so and write nowhere.
	if h.backend == "legacy" && !img.hasLegacy {
		r := c.run("", "iptables", "-w", "5", "-N", "KUBE-SERVICES", "-t", "nat")
		if r.Code != 1 || !strings.Contains(r.Stderr, "legacy") {
			t.Errorf("want a clean refusal (exit 1 naming the legacy backend), got %s", r)
		}
		if strings.Contains(hostSave(ns, "nft", h.v6), "KUBE-SERVICES") {
			t.Error("refused call still wrote to nf_tables")
		}
		return "refused: no legacy binary in the image (exit 1)"
	}

	// kubelet 1.13 keeps resyncing its chains beside kube-proxy.
	stop := make(chan struct{})
	var kubeletErr error
	var wg sync.WaitGroup
	if h.kubelet != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				if err := kubelet113Sync(ns, h.kubelet); err != nil && kubeletErr == nil {
					kubeletErr = err
				}
			}
		}()
	}
	stopKubelet := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopKubelet()

	if err := cl.sync(c, 0); err != nil {
		t.Fatalf("first sync: %v", err)
	}
	first := hostSave(ns, h.backend, h.v6)
	if !strings.Contains(first, "KUBE-SERVICES") {
		t.Errorf("kube-proxy's rules are not in the host's %s backend:\n%s", h.backend, first)
	}
	for _, elsewhere := range []string{hostSave(ns, other(h.backend), h.v6), hostSave(ns, "nft", !h.v6), hostSave(ns, "legacy", !h.v6)} {
		if strings.Contains(elsewhere, "KUBE-SERVICES") {
			t.Errorf("kube-proxy's rules landed outside the host's backend and family:\n%s", elsewhere)
		}
	}
	if cl.marksDrop {
		if !strings.Contains(first, ":KUBE-MARK-DROP") || !markDropRule.MatchString(first) {
			t.Errorf("KUBE-MARK-DROP missing or empty in the host's backend:\n%s", first)
		}
		if !regexp.MustCompile(`-j KUBE-MARK-DROP`).MatchString(first) {
			t.Errorf("no rule jumps to KUBE-MARK-DROP:\n%s", first)
		}
		if n := len(markDropRule.FindAllString(first, -1)); n != 1 {
			t.Errorf("KUBE-MARK-DROP holds %d MARK rules, want 1", n)
		}
	}

	c.inserted = 0
	if err := cl.sync(c, 1); err != nil {
		t.Fatalf("second sync: %v", err)
	}
	if c.inserted != 0 {
		t.Errorf("second sync inserted %d jump rules: -C did not find the first sync's", c.inserted)
	}
	if cl.marksDrop {
		second := hostSave(ns, h.backend, h.v6)
		if n := len(markDropRule.FindAllString(second, -1)); n != 1 {
			t.Errorf("after the second sync KUBE-MARK-DROP holds %d MARK rules, want 1", n)
		}
	}
	stopKubelet()
	if kubeletErr != nil {
		t.Errorf("kubelet's resync beside kube-proxy failed: %v", kubeletErr)
	}

	// A DOCKER-style jump, to a chain nobody declared and the guard's
	// catalog does not know, fails as iptables fails (exit 2, naming the
	// chain and the line), and leaves the host's tables as they were.
	before := hostSave(ns, h.backend, h.v6)
	r := c.run("*filter\n:KUBE-TEST-FWD - [0:0]\n-A KUBE-TEST-FWD -j DOCKER\nCOMMIT\n", "iptables-restore", "-w", "5", "--noflush")
	if r.Code != 2 || !strings.Contains(r.Stderr, "DOCKER") || !strings.Contains(r.Stderr, "Error occurred at line: ") {
		t.Errorf("a jump to an undeclared DOCKER chain: want iptables' exit 2 naming it and the line, got %s", r)
	}
	if after := hostSave(ns, h.backend, h.v6); after != before {
		t.Errorf("the failed restore changed the host's tables:\n%s", netnstest.LineDiff(before, after))
	}

	doc := c.ns.RunWith(netnstest.RunOpts{Env: c.env}, filepath.Join(shimDir, "iptables-shim"), "doctor")
	if doc.Code != 0 {
		t.Errorf("doctor does not call the node healthy: %s", doc)
	}
	return "pass"
}

// TestIncidentWithoutShim shows the night itself: the 1.13 image's own
// legacy iptables-restore on a CentOS 8.2 node whose kubelet wrote
// KUBE-MARK-DROP into nf_tables.
func TestIncidentWithoutShim(t *testing.T) {
	netnstest.Require(t, "iptables-nft", "iptables-legacy", "ipset")
	ns := netnstest.New(t)
	kubelet113(t, ns, "iptables-nft")
	sbin := iptables16Layout(t)[0]
	c := &cell{t: t, ns: ns, shimDir: sbin}
	err := ipvs113(c, 0)
	if err == nil {
		t.Fatal("the image's own iptables-restore succeeded: the incident is not reproduced")
	}
	for _, want := range []string{"exit 2", "Couldn't load target `KUBE-MARK-DROP'", "Error occurred at line"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("failure lacks %q: %v", want, err)
		}
	}
	if strings.Contains(hostSave(ns, "legacy", false), "KUBE-SERVICES -m") {
		t.Error("the failed restore wrote rules anyway")
	}
}
