package native

import (
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/kubepayload"
	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// restoreProg is the restore program name of a family.
func restoreProg(fam syntax.Family) string {
	if fam == syntax.IPv6 {
		return "ip6tables-restore"
	}
	return "iptables-restore"
}

func famString(fam syntax.Family) string {
	if fam == syntax.IPv6 {
		return "6"
	}
	return "4"
}

// normalizeErr makes the real tool's program name match ours.
func normalizeErr(s string) string {
	return strings.NewReplacer("iptables-nft-restore", "iptables-restore", "ip6tables-nft-restore", "ip6tables-restore").Replace(s)
}

func createIPSets(t *testing.T, o kubepayload.Options, nss ...*netnstest.NS) {
	t.Helper()
	for _, s := range kubepayload.IPSets(o) {
		args := append([]string{"create", s.Name}, strings.Fields(s.Type)...)
		if o.Family == syntax.IPv6 {
			args = append(args, "family", "inet6")
		}
		for _, ns := range nss {
			ns.MustRun("ipset", args...)
		}
	}
}

// kubePayloadsInNamespaces applies generated kube-proxy payloads with the real
// iptables-nft-restore and with the native backend, then again (a full
// resync replacing the tables), comparing kernel state and save output.
func kubePayloadsInNamespaces(t *testing.T) {
	for _, o := range []kubepayload.Options{
		{Services: 30, Shape: kubepayload.IptablesMode},
		{Services: 30, Shape: kubepayload.IptablesMode, Family: syntax.IPv6},
		{Services: 30, Shape: kubepayload.IPVSMode},
		{Services: 30, Shape: kubepayload.IPVSMode, Family: syntax.IPv6},
	} {
		if o.Family == 0 {
			o.Family = syntax.IPv4
		}
		t.Run(o.Shape.String()+"-v"+famString(o.Family), func(t *testing.T) {
			d := newDiffPair(t)
			createIPSets(t, o, d.ref, d.mine)
			p := kubepayload.Generate(o)
			for _, args := range [][]string{nil, {"--noflush", "--counters"}, {"-w", "5", "-W", "100000", "--noflush", "--counters"}, nil} {
				ref, mine := d.restore(p.Text, restoreProg(o.Family), args...)
				if ref.Code != mine.Code || normalizeErr(ref.Stderr) != mine.Stderr {
					t.Fatalf("restore %v: ref %s\nmine %s", args, ref, mine)
				}
				d.compareState(famString(o.Family))
			}
		})
	}
}
