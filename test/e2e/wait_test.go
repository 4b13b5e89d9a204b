package e2e

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// The test binary doubles as a fake multi-call iptables binary: copied into
// an image directory under a multi-call name, it logs every call (program
// name and arguments) and then becomes the real binary. With
// fakeNoWaitEnv set, its restore behaves as iptables-restore 1.6.0 does:
// no -w (added in 1.6.2), and a usage text without --wait.
const (
	fakeRealEnv   = "IPTABLES_SHIM_TEST_FAKE_REAL"
	fakeLogEnv    = "IPTABLES_SHIM_TEST_FAKE_LOG"
	fakeNoWaitEnv = "IPTABLES_SHIM_TEST_FAKE_NO_WAIT"
)

// fakeMultiMainIfAsked runs the fake when the environment asks for it.
func fakeMultiMainIfAsked() {
	real := os.Getenv(fakeRealEnv)
	if real == "" {
		return
	}
	name := filepath.Base(os.Args[0])
	args := os.Args[1:]
	if f, err := os.OpenFile(os.Getenv(fakeLogEnv), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
		fmt.Fprintln(f, strings.Join(append([]string{name}, args...), " "))
		f.Close()
	}
	if os.Getenv(fakeNoWaitEnv) == "1" && strings.HasSuffix(name, "-restore") {
		for _, a := range args {
			switch {
			case a == "-h" || a == "--help":
				fmt.Printf("Usage: %s [-c] [-v] [-t] [-h] [-n]\n\t   [ --counters ]\n\t   [ --verbose ]\n\t   [ --test ]\n\t   [ --help ]\n\t   [ --noflush ]\n\t   [ --table=<TABLE> ]\n\t   [ --modprobe=<command>]\n", name)
				os.Exit(0)
			case strings.HasPrefix(a, "--wait") || (len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.ContainsRune(a, 'w')):
				fmt.Fprintf(os.Stderr, "%s: invalid option -- 'w'\nTry `%s -h' for more information.\n", name, name)
				os.Exit(1)
			}
		}
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "IPTABLES_SHIM_TEST_FAKE_") {
			env = append(env, kv)
		}
	}
	err := syscall.Exec(real, append([]string{name}, args...), env)
	fmt.Fprintln(os.Stderr, "fake multi-call binary:", err)
	os.Exit(111)
}

// fakeImage makes an image directory whose multi-call binary (named multi)
// is the fake, with the six names linked to it.
func fakeImage(t *testing.T, multi string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "sbin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(filepath.Join(dir, multi), os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	for _, n := range netnstest.ShimNames {
		if err := os.Symlink(multi, filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestGuardPassesWaitOn: a command's -w reaches the guard's restore as the
// caller wrote it (a bare -w stays bare: wait without limit, never "-w 0"),
// and never reaches a restore that has no -w (iptables-restore 1.6.0 in the
// kube-proxy 1.13 image), where the command with its chain still succeeds.
func TestGuardPassesWaitOn(t *testing.T) {
	requireAll(t)
	shimDir := netnstest.ShimDir(t)
	for _, tc := range []struct {
		name, mode, multi string
		noWait            bool
		args              []string
		wantRestore       string
	}{
		{"iptables1.8-nft/bare -w", "nft", "xtables-nft-multi", false, []string{"-w"}, "iptables-restore --noflush -w\n"},
		{"iptables1.8-nft/-w 3", "nft", "xtables-nft-multi", false, []string{"-w", "3"}, "iptables-restore --noflush -w 3\n"},
		{"iptables1.6-legacy/bare -w", "legacy", "xtables-multi", true, []string{"-w"}, "iptables-restore --noflush\n"},
		{"iptables1.6-legacy/-w 5", "legacy", "xtables-multi", true, []string{"-w", "5"}, "iptables-restore --noflush\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			real, err := netnstest.LookBinary("xtables-" + tc.mode + "-multi")
			if err != nil {
				t.Fatal(err)
			}
			ns := netnstest.New(t)
			ns.MustRunStdin("*nat\n:TEST-X - [0:0]\nCOMMIT\n", "iptables-"+tc.mode+"-restore", "--noflush")
			fakeLog := filepath.Join(t.TempDir(), "fake.log")
			env := append(privateLock(t),
				"IPTABLES_SHIM_MODE="+tc.mode, "IPTABLES_SHIM_NFT=exec",
				"IPTABLES_SHIM_CONFIG=/nonexistent/iptables-shim.conf",
				"IPTABLES_SHIM_CACHE_DIR="+t.TempDir(),
				"IPTABLES_SHIM_BACKEND_DIRS="+fakeImage(t, tc.multi),
				fakeRealEnv+"="+real, fakeLogEnv+"="+fakeLog)
			if tc.noWait {
				env = append(env, fakeNoWaitEnv+"=1")
			}
			args := append(append([]string{}, tc.args...), "-t", "nat", "-A", "TEST-X", "-j", "KUBE-MARK-DROP")
			r := runAsCaller(t, ns, shimDir, env, nil, "iptables", args...)
			logged, _ := os.ReadFile(fakeLog)
			if r.Code != 0 || r.Stdout != "" || r.Stderr != "" {
				t.Fatalf("want a silent success, got %s\nbinary calls:\n%s", r, logged)
			}
			var restores strings.Builder
			for _, l := range strings.SplitAfter(string(logged), "\n") {
				if strings.HasPrefix(l, "iptables-restore ") && !strings.HasPrefix(l, "iptables-restore -h") {
					restores.WriteString(l)
				}
			}
			if restores.String() != tc.wantRestore {
				t.Errorf("restore calls:\n%s\nwant:\n%s\nall calls:\n%s", restores.String(), tc.wantRestore, logged)
			}
			save := ns.MustRun("iptables-" + tc.mode + "-save")
			for _, want := range []string{"-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000\n", "-A TEST-X -j KUBE-MARK-DROP\n"} {
				if !strings.Contains(save, want) {
					t.Errorf("save lacks %q:\n%s", want, save)
				}
			}
		})
	}
}
