package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// TestDeclinedRestoreIsTheRealBinarys: with iptables-nft reachable (the
// shipped configuration, nft=auto), a restore the native backend declines
// (a line it does not implement, or one its parser rejects, after a
// section it could write) is carried out by the real binary as it would
// be without the shim: the same exit status and messages, and the same
// kernel afterwards (the section before the bad line committed, as
// iptables-nft-restore commits it).
func TestDeclinedRestoreIsTheRealBinarys(t *testing.T) {
	requireAll(t)
	shimDir := netnstest.ShimDir(t)
	multi, err := netnstest.LookBinary("xtables-nft-multi")
	if err != nil {
		t.Fatal(err)
	}
	// The real binary under the name the caller uses, as on a host
	// without the shim.
	realDir := t.TempDir()
	if err := os.Symlink(multi, filepath.Join(realDir, "iptables-restore")); err != nil {
		t.Fatal(err)
	}
	good := "*filter\n:SHIM-OK - [0:0]\n-A SHIM-OK -s 10.0.0.1/32 -j ACCEPT\nCOMMIT\n"
	for _, tc := range []struct{ name, bad string }{
		{"unsupported natively", "*filter\n-A INPUT -d 10.0.0.1/32 -m bpf --object-pinned /sys/fs/bpf/nosuch\nCOMMIT\n"},
		{"rejected by the parser", "*filter\n-A INPUT --no-such-option -j ACCEPT\nCOMMIT\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			payload := good + tc.bad
			real := netnstest.New(t)
			want := real.RunWith(netnstest.RunOpts{Stdin: strings.NewReader(payload)}, filepath.Join(realDir, "iptables-restore"), "--noflush")
			ns := netnstest.New(t)
			logFile := filepath.Join(t.TempDir(), "calls.log")
			env := []string{"IPTABLES_SHIM_MODE=nft", "IPTABLES_SHIM_NFT=auto", "IPTABLES_SHIM_CONFIG=/nonexistent/iptables-shim.conf",
				"IPTABLES_SHIM_CACHE_DIR=" + t.TempDir(), "IPTABLES_SHIM_LOG=" + logFile}
			got := ns.RunWith(netnstest.RunOpts{Env: env, Stdin: strings.NewReader(payload)}, filepath.Join(shimDir, "iptables-restore"), "--noflush")
			if want.Code == 0 {
				t.Fatalf("the real binary accepted the payload: pick another bad line (%s)", want)
			}
			if got.Code != want.Code || got.Stdout != want.Stdout || got.Stderr != want.Stderr {
				t.Errorf("through the shim:\n%s\nthe real binary:\n%s", got, want)
			}
			if g, w := ns.NFTDump(), real.NFTDump(); g != w {
				t.Errorf("kernel after the shim differs from after the real binary:\n%s", netnstest.LineDiff(w, g))
			}
			if !strings.Contains(ns.NFTDump(), "SHIM-OK") {
				t.Error("the section before the bad line was not committed")
			}
			// The native backend tried it first and declined it.
			if log, _ := os.ReadFile(logFile); !strings.Contains(string(log), "(native declined)") {
				t.Errorf("the call log does not show the native backend declining:\n%s", log)
			}
		})
	}
}
