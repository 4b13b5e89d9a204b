package native_test

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// stressFor is how long the writers run; IPTABLES_SHIM_STRESS_SECONDS
// overrides it.
func stressFor() time.Duration {
	if s := os.Getenv("IPTABLES_SHIM_STRESS_SECONDS"); s != "" {
		if d, err := time.ParseDuration(s + "s"); err == nil {
			return d
		}
	}
	return 8 * time.Second
}

// TestStressBesideIptablesNft has our shim and the real iptables-nft
// append, insert (at the head and at positions), delete and restore into
// one chain of one namespace at the same time. Afterwards every rule each
// writer left must be there exactly once and nothing else, and
// iptables-nft-save must read the result.
func TestStressBesideIptablesNft(t *testing.T) {
	netnstest.Require(t, "xtables-nft-multi", "iptables-nft-save")
	ns := netnstest.New(t)
	real := tool{ns: ns, dir: realDir(t)}
	shim := tool{ns: ns, dir: netnstest.ShimDir(t), env: shimEnv(t)}
	if r := shim.run("", "iptables", "-N", "STRESS"); r.Code != 0 {
		t.Fatal(r)
	}
	deadline := time.Now().Add(stressFor())
	type writer struct {
		name string
		tl   tool
		// op is -A, -I (head), -I2 (position 2) or restore.
		op string
	}
	writers := []writer{
		{"shim-A", shim, "-A"}, {"shim-I", shim, "-I2"}, {"shim-R", shim, "restore"},
		{"real-A", real, "-A"}, {"real-I", real, "-I"}, {"real-R", real, "restore"},
	}
	var mu sync.Mutex
	want := map[string]int{}
	var wg sync.WaitGroup
	ops := make([]int, len(writers))
	for wi, w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var live []string
			for n := 0; time.Now().Before(deadline); n++ {
				spec := func(k int) string { return fmt.Sprintf("-s 10.%d.%d.%d/32 -j ACCEPT", wi+1, k>>8&255, k&255) }
				var r netnstest.Result
				var added []string
				switch {
				case n%4 == 3 && len(live) > 0:
					// Delete the oldest rule this writer added.
					r = w.tl.run("", "iptables", append([]string{"-D", "STRESS"}, strings.Fields(live[0])...)...)
					if r.Code == 0 {
						mu.Lock()
						want[live[0]]--
						mu.Unlock()
						live = live[1:]
					}
				case w.op == "restore":
					in := "*filter\n"
					for k := 0; k < 3; k++ {
						s := spec(3*n + k)
						in += "-A STRESS " + s + "\n"
						added = append(added, s)
					}
					r = w.tl.run(in+"COMMIT\n", "iptables-restore", "--noflush")
				default:
					s := spec(n)
					args := []string{w.op, "STRESS"}
					if w.op == "-I2" {
						// Position 2 exists whenever the chain has a
						// rule; iptables also accepts count+1.
						args = []string{"-I", "STRESS", "1"}
						if n%2 == 1 {
							args = []string{"-I", "STRESS", "2"}
						}
					}
					r = w.tl.run("", "iptables", append(args, strings.Fields(s)...)...)
					added = []string{s}
				}
				if r.Code != 0 && !strings.Contains(r.Stderr, "Index of insertion too big") {
					t.Errorf("%s: %s", w.name, r)
					return
				}
				if r.Code == 0 {
					mu.Lock()
					for _, s := range added {
						want[s]++
					}
					mu.Unlock()
					live = append(live, added...)
				}
				ops[wi]++
			}
		}()
	}
	wg.Wait()
	save := ns.Run("iptables-nft-save", "-t", "filter")
	if save.Code != 0 {
		t.Fatalf("iptables-nft-save after the stress: %s", save)
	}
	got := map[string]int{}
	for _, l := range strings.Split(save.Stdout, "\n") {
		if s, ok := strings.CutPrefix(l, "-A STRESS "); ok {
			got[s]++
		}
	}
	var bad []string
	for s, n := range want {
		if got[s] != n {
			bad = append(bad, fmt.Sprintf("%s: want %d, have %d", s, n, got[s]))
		}
	}
	for s, n := range got {
		if _, ok := want[s]; !ok {
			bad = append(bad, fmt.Sprintf("%s: want 0, have %d", s, n))
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Errorf("%d rules lost, duplicated or unexpected, e.g.:\n%s", len(bad), strings.Join(bad[:min(len(bad), 10)], "\n"))
	}
	t.Logf("operations per writer %v; %d rules at the end", ops, len(got))
}
