package doctor

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/detect/helperproc"
	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/shim/backend"
)

// kubelet113 is what kubelet 1.13 keeps on the host (here with the host's
// iptables-nft).
const kubelet113 = `*nat
:KUBE-MARK-DROP - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-POSTROUTING - [0:0]
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -m mark --mark 0x4000/0x4000 -j MASQUERADE
COMMIT
*filter
:KUBE-FIREWALL - [0:0]
-A INPUT -j KUBE-FIREWALL
-A OUTPUT -j KUBE-FIREWALL
-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP
COMMIT
`

// proxySync is the 1.13 IPVS proxier's restore: KUBE-MARK-DROP is used and
// never declared.
const proxySync = `*nat
:KUBE-SERVICES - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-NODE-PORT - [0:0]
:KUBE-LOAD-BALANCER - [0:0]
:KUBE-MARK-MASQ - [0:0]
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -m mark --mark 0x4000/0x4000 -j MASQUERADE
-A KUBE-FIREWALL -j KUBE-MARK-DROP
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
COMMIT
*filter
:KUBE-FORWARD - [0:0]
COMMIT
`

// proxySetup is what the 1.13 IPVS proxier does before its restore.
func proxySetup(ns *netnstest.NS, tool string) {
	for _, c := range []string{"KUBE-SERVICES", "KUBE-POSTROUTING", "KUBE-FIREWALL", "KUBE-NODE-PORT", "KUBE-LOAD-BALANCER", "KUBE-MARK-MASQ"} {
		ns.Run(tool, "-w", "5", "-N", c, "-t", "nat")
	}
	ns.Run(tool, "-w", "5", "-N", "KUBE-FORWARD", "-t", "filter")
	ns.MustRun(tool, "-w", "5", "-I", "OUTPUT", "-t", "nat", "-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES")
	ns.MustRun(tool, "-w", "5", "-I", "POSTROUTING", "-t", "nat", "-m", "comment", "--comment", "kubernetes postrouting rules", "-j", "KUBE-POSTROUTING")
	ns.MustRun(tool, "-w", "5", "-I", "FORWARD", "-t", "filter", "-m", "comment", "--comment", "kubernetes forwarding rules", "-j", "KUBE-FORWARD")
}

func runDoctorIn(t *testing.T, ns *netnstest.NS, env ...string) (Report, int) {
	t.Helper()
	r := helperproc.Run(t, ns, "doctor", append([]string{"T_CACHE=" + t.TempDir()}, env...)...)
	if r.Code > 1 {
		t.Fatalf("doctor helper: %s", r)
	}
	var rep Report
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatalf("decoding report: %v\n%s", err, r.Stdout)
	}
	return rep, r.Code
}

func TestDoctorReproducedIncident(t *testing.T) {
	netnstest.Require(t, "iptables-nft-restore", "iptables-legacy", "iptables-legacy-restore")
	ns := netnstest.New(t)
	ns.MustRunStdin(kubelet113, "iptables-nft-restore", "--noflush")
	proxySetup(ns, "iptables-legacy")
	res := ns.RunStdin(proxySync, "iptables-legacy-restore", "--noflush", "--counters")
	if res.Code != 2 || !strings.Contains(res.Stderr, "KUBE-MARK-DROP") {
		t.Fatalf("the incident did not reproduce: %s", res)
	}
	logPath := filepath.Join(t.TempDir(), "calls.log")
	if err := os.WriteFile(logPath, []byte("event=call prog=iptables-restore exit=2 stderr=\""+strings.TrimSpace(res.Stderr)+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	rep, code := runDoctorIn(t, ns, "T_LOG="+logPath)
	if code != 1 || rep.Verdict != Problem {
		t.Fatalf("exit %d, verdict %s; want 1, problem", code, rep.Verdict)
	}
	var found bool
	for _, d := range rep.Dangling {
		if d.Backend == backend.Legacy && d.Family == "ipv4" && d.Table == "nat" && d.Chain == "KUBE-MARK-DROP" && d.ExistsIn == backend.NFT {
			found = true
		}
	}
	if !found {
		t.Errorf("no dangling legacy KUBE-MARK-DROP reference: %+v", rep.Dangling)
	}
	if rep.Split == nil || modes(rep.Split.Kubelet) != "nf_tables" || modes(rep.Split.KubeProxy) != "legacy" {
		t.Errorf("split %+v, want kubelet nf_tables, kube-proxy legacy", rep.Split)
	}
	if len(rep.FailedRestores) != 1 || rep.FailedRestores[0].Chain != "KUBE-MARK-DROP" {
		t.Errorf("failed restores from the log: %+v", rep.FailedRestores)
	}
	if rep.Decision.Mode != backend.NFT {
		t.Errorf("decision %s (%s), want nft", rep.Decision.Mode, rep.Decision.Detail)
	}
	if !strings.Contains(rep.Action, "nf_tables") {
		t.Errorf("action does not name the right backend: %s", rep.Action)
	}
}

func TestDoctorHealthyHost(t *testing.T) {
	netnstest.Require(t, "iptables-nft", "iptables-nft-restore")
	ns := netnstest.New(t)
	ns.MustRunStdin(kubelet113, "iptables-nft-restore", "--noflush")
	proxySetup(ns, "iptables-nft")
	ns.MustRunStdin(proxySync, "iptables-nft-restore", "--noflush", "--counters")
	rep, code := runDoctorIn(t, ns)
	if code != 0 || rep.Verdict != Healthy {
		t.Fatalf("exit %d, verdict %s, problems %+v", code, rep.Verdict, rep.Problems)
	}
	nft := rep.Backends[0].Families[0]
	if rep.Backends[0].Mode != backend.NFT || len(nft.KubeChains) == 0 || nft.Rules == 0 {
		t.Errorf("nf_tables ipv4 summary %+v", nft)
	}
}
