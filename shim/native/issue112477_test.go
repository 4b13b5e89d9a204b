package native

import (
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/kubefixture"
	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/internal/oracle"
)

// kubernetes/kubernetes#112477: kube-proxy's iptables-nft 1.8.7 on a host
// whose kubelet wrote its rules with 1.8.8 read
//
//	-A KUBE-FIREWALL -m comment --comment "..." -m mark --mark 0x8000/0x8000 -j DROP
//
// as "-A KUBE-FIREWALL -m comment --comment "..." -j DROP" and wrote that
// back: the node dropped all traffic. These tests reproduce it with the
// real 1.8.7 binary, as a save and restore round trip of the filter table
// (what kube-proxy and firewall tools do), and show the shim keeps the rule.

// firewallRule is kubelet's rule as every version's save prints it.
const firewallRule = `-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP`

// dropAll is what the rule becomes when the mark match is lost.
const dropAll = `-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -j DROP`

// roundTrip is a save of the filter table restored as it was read.
type roundTrip func(t *testing.T, ns *netnstest.NS)

func realRoundTrip(o oracle.Oracle) roundTrip {
	return func(t *testing.T, ns *netnstest.NS) {
		t.Helper()
		save := o.Run(ns, "iptables-save", "-t", "filter")
		if save.Code != 0 {
			t.Fatalf("%s iptables-save: %s", o, save)
		}
		if r := o.RunStdin(ns, save.Stdout, "iptables-restore"); r.Code != 0 {
			t.Fatalf("%s iptables-restore: %s", o, r)
		}
	}
}

func shimRoundTrip(d string) roundTrip {
	return func(t *testing.T, ns *netnstest.NS) {
		t.Helper()
		env := []string{skewDialectEnv + "=" + d}
		save := oursWith(t, ns, env, "", "iptables-save", "-t", "filter")
		if save.Code != 0 {
			t.Fatalf("shim iptables-save: %s", save)
		}
		if r := oursWith(t, ns, env, save.Stdout, "iptables-restore"); r.Code != 0 {
			t.Fatalf("shim iptables-restore: %s", r)
		}
	}
}

// firewallAfter lets host write kubelet's chains, runs the round trip and
// returns KUBE-FIREWALL's rule as the host's own save prints it.
func firewallAfter(t *testing.T, host oracle.Oracle, rt roundTrip) string {
	t.Helper()
	ns := netnstest.New(t)
	if r := host.RunStdin(ns, kubefixture.Kubelet113, "iptables-restore", "--noflush"); r.Code != 0 {
		t.Fatalf("%s writing kubelet's chains: %s", host, r)
	}
	if got := host.Save(t, ns, "iptables"); !strings.Contains(got, firewallRule+"\n") {
		t.Fatalf("%s does not read back its own KUBE-FIREWALL:\n%s", host, got)
	}
	rt(t, ns)
	for _, l := range strings.Split(host.Save(t, ns, "iptables"), "\n") {
		if strings.HasPrefix(l, "-A KUBE-FIREWALL ") {
			return l
		}
	}
	t.Fatalf("KUBE-FIREWALL has no rule after the round trip")
	return ""
}

func TestIssue112477(t *testing.T) {
	netnstest.Require(t, "nft")
	v187 := oracle.Require(t, "1.8.7")
	for _, hostV := range []string{"1.8.9", "1.8.11"} {
		host := oracle.Require(t, hostV)
		t.Run("host-"+hostV, func(t *testing.T) {
			// Before: the image's real 1.8.7 does the round trip.
			if got := firewallAfter(t, host, realRoundTrip(v187)); got != dropAll {
				t.Errorf("real 1.8.7 on a %s host: KUBE-FIREWALL became %q, want the reproduction %q", hostV, got, dropAll)
			} else {
				t.Logf("before: real iptables-nft 1.8.7 on a %s host rewrote KUBE-FIREWALL as %q", hostV, got)
			}
			// After: the shim (dialect auto) does it.
			if got := firewallAfter(t, host, shimRoundTrip("auto")); got != firewallRule {
				t.Errorf("shim on a %s host: KUBE-FIREWALL became %q, want %q", hostV, got, firewallRule)
			} else {
				t.Logf("after: the shim on a %s host kept %q", hostV, got)
			}
		})
	}
	// The mirror image: the host is 1.8.7 and its tools read what the
	// image writes. Writing 1.8.9's native forms (the shim's only
	// dialect before) hides the mark from the host's own tools; writing
	// the dialect found on the host keeps it.
	t.Run("host-1.8.7", func(t *testing.T) {
		if got := firewallAfter(t, v187, shimRoundTrip("1.8.9")); got != dropAll {
			t.Errorf("shim writing 1.8.9's forms on a 1.8.7 host: host reads KUBE-FIREWALL as %q, want the misreading %q", got, dropAll)
		} else {
			t.Logf("before: shim writing 1.8.9's forms on a 1.8.7 host: the host reads %q", got)
		}
		if got := firewallAfter(t, v187, shimRoundTrip("auto")); got != firewallRule {
			t.Errorf("shim (auto) on a 1.8.7 host: host reads KUBE-FIREWALL as %q, want %q", got, firewallRule)
		} else {
			t.Logf("after: the shim (auto) on a 1.8.7 host: the host reads %q", got)
		}
	})
}
