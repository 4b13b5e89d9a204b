package harness

import (
	"os"
	"path/filepath"

	"github.com/iptables-shim/iptables-shim/internal/kubefixture"
	"github.com/iptables-shim/iptables-shim/internal/oracle"
)

// Host is a simulated node: which backend its own tools use and what its
// kubelet has already written there when kube-proxy starts.
type Host struct {
	Name string
	// Backend is "nft" or "legacy".
	Backend string
	// Version, when set, is the host's own iptables-nft when it is not
	// the machine's: a real one of that version (internal/oracle,
	// fetched by scripts/fetch-iptables.sh) seeds the host and is the
	// oracle.
	Version string
	// Dialect is what the host's package database would tell the shim
	// of its iptables-nft version, for hosts whose rules do not: given to
	// the shim as nft-dialect, as this machine's database names its own.
	Dialect string
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

// SkewHosts are nf_tables nodes whose iptables-nft is another version than
// the machine's: kubelet 1.13's chains written by that version, which is
// then the oracle. Where the rules do not tell the shim the dialect (1.8.11's
// IPv4 rules from 1.8.9's; kubelet 1.13 writes no IPv6 rules at all), the
// host's package database would: Dialect stands in for it.
var SkewHosts = []Host{
	{Name: "nft1.8.11-kubelet1.13", Backend: "nft", Version: "1.8.11", Dialect: "1.8.11", seed: seedBy("1.8.11")},
	{Name: "nft1.8.7-kubelet1.13", Backend: "nft", Version: "1.8.7", Dialect: "1.8.7", seed: seedBy("1.8.7")},
}

// seedBy writes kubelet 1.13's chains with iptables-nft of version.
func seedBy(version string) func(ns *Netns) error {
	return func(ns *Netns) error {
		o, err := oracle.Find(version)
		if err != nil {
			return err
		}
		_, err = ns.Run(kubefixture.Kubelet113, nil, o.Prog, "iptables-restore", "--noflush")
		return err
	}
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
		switch {
		case h.Backend == "legacy":
			return e.RealLegacy
		case h.Version != "":
			return e.RealAt[h.Version]
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
		env := []string{
			"IPTABLES_SHIM_NFT=" + nft,
			"IPTABLES_SHIM_BACKEND_DIRS=" + dirs,
			"IPTABLES_SHIM_CONFIG=" + filepath.Join(tmp, "no-such-config"),
			"IPTABLES_SHIM_CACHE_DIR=" + filepath.Join(tmp, "cache"),
			"IPTABLES_SHIM_LOG=" + filepath.Join(tmp, "calls.log"),
		}
		if h.Dialect != "" {
			env = append(env, "IPTABLES_SHIM_NFT_DIALECT="+h.Dialect)
		}
		return env
	}
}

// callLog returns the shim's call log of a run (empty for the real
// binaries).
func callLog(tmp string) string {
	data, _ := os.ReadFile(filepath.Join(tmp, "calls.log"))
	return string(data)
}
