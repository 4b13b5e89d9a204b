package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// TestNativeRefusesWhatItCannotEncode: an nf_tables host, an image with no
// iptables binary at all, and a payload using an extension the native
// backend does not encode. The shim must refuse before touching the kernel (exit 2,
// iptables' message shape with the line), never drop or widen the rule.
func TestNativeRefusesWhatItCannotEncode(t *testing.T) {
	requireAll(t)
	shimDir := netnstest.ShimDir(t)
	ns := netnstest.New(t)
	env := []string{"IPTABLES_SHIM_MODE=nft", "IPTABLES_SHIM_BACKEND_DIRS=" + t.TempDir(), "IPTABLES_SHIM_CACHE_DIR=" + t.TempDir()}
	before := ns.NFTDump()
	// bpf --object-pinned (its program is a pinned file, read by
	// iptables itself) stays refused; osf and CLUSTERIP, used here
	// before, are native now.
	payload := "*filter\n:KUBE-IPVS - [0:0]\n-A KUBE-IPVS -d 10.0.0.1/32 -m bpf --object-pinned /sys/fs/bpf/nosuch\nCOMMIT\n"
	r := ns.RunWith(netnstest.RunOpts{Env: env, Stdin: strings.NewReader(payload)}, filepath.Join(shimDir, "iptables-restore"), "--noflush")
	if r.Code != 2 {
		t.Fatalf("want exit 2, got %s", r)
	}
	for _, want := range []string{"iptables-restore v1.8.9 (nf_tables): bpf: option \"--object-pinned\" is not supported natively", "Error occurred at line: 3\n", "Try `iptables-restore -h'"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.Stderr)
		}
	}
	if after := ns.NFTDump(); after != before {
		t.Errorf("the refused restore changed the kernel:\n%s", after)
	}
	r = ns.RunWith(netnstest.RunOpts{Env: env}, filepath.Join(shimDir, "iptables"), "-A", "INPUT", "-d", "10.0.0.1/32", "-m", "bpf", "--object-pinned", "/sys/fs/bpf/nosuch")
	if r.Code != 2 || !strings.HasPrefix(r.Stderr, "iptables v1.8.9 (nf_tables): bpf: option \"--object-pinned\" is not supported natively") {
		t.Errorf("single command: want exit 2 and iptables' shape, got %s", r)
	}
	if after := ns.NFTDump(); after != before {
		t.Errorf("the refused command changed the kernel:\n%s", after)
	}
}
