package native

import (
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// realTool maps our program names to the reference binaries.
func realTool(prog string) string {
	switch prog {
	case "iptables-restore":
		return "iptables-nft-restore"
	case "ip6tables-restore":
		return "ip6tables-nft-restore"
	case "iptables-save":
		return "iptables-nft-save"
	case "ip6tables-save":
		return "ip6tables-nft-save"
	case "iptables":
		return "iptables-nft"
	case "ip6tables":
		return "ip6tables-nft"
	}
	return prog
}

// diffPair is two fresh namespaces, one driven by the real iptables-nft
// and one by the native backend.
type diffPair struct {
	t         *testing.T
	ref, mine *netnstest.NS
}

func newDiffPair(t *testing.T) *diffPair {
	netnstest.Require(t, "iptables-nft-restore", "iptables-nft-save", "nft")
	return &diffPair{t: t, ref: netnstest.New(t), mine: netnstest.New(t)}
}

// restore applies stdin with both and checks they agree on exit code and,
// when given, the error text.
func (d *diffPair) restore(stdin, prog string, args ...string) (ref, mine netnstest.Result) {
	d.t.Helper()
	ref = d.ref.RunStdin(stdin, realTool(prog), args...)
	mine = ours(d.t, d.mine, stdin, prog, args...)
	return ref, mine
}

// compareState checks kernel state and save output of both namespaces.
func (d *diffPair) compareState(fam string) {
	d.t.Helper()
	save := "iptables-save"
	if fam == "6" {
		save = "ip6tables-save"
	}
	refChains, mineChains := ours(d.t, d.ref, "", "chains"), ours(d.t, d.mine, "", "chains")
	if refChains.Stdout != mineChains.Stdout || refChains.Code != 0 {
		d.t.Errorf("chain attributes differ:\n%s", netnstest.LineDiff(refChains.Stdout, mineChains.Stdout))
	}
	refNFT, mineNFT := d.ref.NFTDump(), d.mine.NFTDump()
	if refNFT != mineNFT {
		d.t.Errorf("nft --debug=netlink differs:\n%s", netnstest.LineDiff(refNFT, mineNFT))
	}
	for _, args := range [][]string{nil, {"-c"}} {
		refSave := netnstest.NormalizeSave(d.ref.MustRun(realTool(save), args...))
		mineReal := netnstest.NormalizeSave(d.mine.MustRun(realTool(save), args...))
		if refSave != mineReal {
			d.t.Errorf("%s %v differs (real tool on both):\n%s", save, args, netnstest.LineDiff(refSave, mineReal))
		}
		for i, ns := range []*netnstest.NS{d.ref, d.mine} {
			// Our save of the reference namespace dumps rules chain by
			// chain, of ours a table at a time: both ways are checked.
			var env []string
			if i == 0 {
				env = []string{perChainEnv + "=1"}
			}
			r := oursWith(d.t, ns, env, "", save, args...)
			if r.Code != 0 {
				d.t.Errorf("our %s %v in %s: %s", save, args, ns.Name, r)
				continue
			}
			got := netnstest.NormalizeSave(r.Stdout)
			if got != refSave {
				d.t.Errorf("our %s %v differs from iptables-nft-save:\n%s", save, args, netnstest.LineDiff(refSave, got))
			}
		}
	}
}
