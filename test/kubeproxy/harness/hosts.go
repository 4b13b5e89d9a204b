package harness

import (
	"os"
	"path/filepath"

	"github.com/iptables-shim/iptables-shim/internal/kubefixture"
)

// Host is a simulated node: which backend its own tools use and what its
// kubelet has already written there when kube-proxy starts.
type Host struct {
	Name string
	// Backend is "nft" or "legacy".
	Backend string
	seed    func(ns *Netns) error
}

// Hosts are the three node kinds of the harness.
var Hosts = []Host{
	{Name: "nft-kubelet1.13", Backend: "nft", seed: func(ns *Netns) error {
		_, err := ns.Run(kubefixture.Kubelet113, nil, "iptables-nft-restore", "--noflush")
		return err
	}},
	{Name: "legacy-kubelet1.13", Backend: "legacy", seed: func(ns *Netns) error {
		_, err := ns.Run(kubefixture.Kubelet113, nil, "iptables-legacy-restore", "--noflush")
		return err
	}},
	{Name: "nft-kubelet1.24-markers", Backend: "nft", seed: markers124},
}

// markers124 is what kubelet 1.24 and later leave: the iptables hint chain
// and its canaries, in both families.
func markers124(ns *Netns) error {
	for _, prog := range []string{"iptables-nft", "ip6tables-nft"} {
		if _, err := ns.Run("", nil, prog, "-w", "5", "-t", "mangle", "-N", "KUBE-IPTABLES-HINT"); err != nil {
			return err
		}
		for _, table := range []string{"mangle", "nat", "filter"} {
			if _, err := ns.Run("", nil, prog, "-w", "5", "-t", table, "-N", "KUBE-KUBELET-CANARY"); err != nil {
				return err
			}
		}
	}
	return nil
}

// Candidate is one way of providing kube-proxy's iptables.
type Candidate struct {
	Name string
	// path is the directory put first on the proxier's PATH.
	path func(e *Env, h Host) string
	// env is the shim's configuration.
	env func(e *Env, h Host, tmp string) []string
}

// The candidates: the real binaries of the host's backend (the oracle),
// the shim handing calls to the real binaries, and the shim writing
// nf_tables itself with no iptables-nft it could reach.
var (
	Real = Candidate{Name: "real", path: func(e *Env, h Host) string {
		if h.Backend == "legacy" {
			return e.RealLegacy
		}
		return e.RealNFT
	}}
	ShimExec   = Candidate{Name: "shim-exec", path: shimPath, env: shimEnv("exec")}
	ShimNative = Candidate{Name: "shim-native", path: shimPath, env: shimEnv("native")}
	Candidates = []Candidate{Real, ShimExec, ShimNative}
	// ShimAuto is the shim as a node package or the kube-proxy image
	// runs it: nft=auto with the machine's real binaries reachable, so
	// the native backend writes what it carries out (single commands
	// checked first, restores tried first and declined when it cannot)
	// and a real binary would take the rest. kpbench measures it; the
	// tests' candidates already cover both writers.
	ShimAuto = Candidate{Name: "shim-auto", path: shimPath, env: shimEnv("auto")}
)

func shimPath(e *Env, _ Host) string { return e.Shim }

// shimEnv configures the shim as shipped (detection, guard) apart from
// where it keeps its cache and which binaries it may use: exec mode sees
// the machine's binaries; native mode sees only the legacy ones, so
// nf_tables is written natively (a legacy host still gets its legacy
// binary, the only writer of x_tables).
func shimEnv(nft string) func(e *Env, h Host, tmp string) []string {
	return func(e *Env, h Host, tmp string) []string {
		dirs := "/usr/sbin:/sbin:/usr/bin:/bin"
		if nft == "native" {
			dirs = e.LegacyOnly
		}
		return []string{
			"IPTABLES_SHIM_NFT=" + nft,
			"IPTABLES_SHIM_BACKEND_DIRS=" + dirs,
			"IPTABLES_SHIM_CONFIG=" + filepath.Join(tmp, "no-such-config"),
			"IPTABLES_SHIM_CACHE_DIR=" + filepath.Join(tmp, "cache"),
			"IPTABLES_SHIM_LOG=" + filepath.Join(tmp, "calls.log"),
		}
	}
}

// callLog returns the shim's call log of a run (empty for the real
// binaries).
func callLog(tmp string) string {
	data, _ := os.ReadFile(filepath.Join(tmp, "calls.log"))
	return string(data)
}
