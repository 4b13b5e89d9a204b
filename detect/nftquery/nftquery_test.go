package nftquery

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/detect/helperproc"
	"github.com/iptables-shim/iptables-shim/detect/ruleset"
	"github.com/iptables-shim/iptables-shim/detect/savetext"
	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/shim/netfilter"
)

func TestMain(m *testing.M) {
	helperproc.Main(m, map[string]func() int{"dump": helperDump, "probe": helperProbe})
}

func family() netfilter.Family {
	if os.Getenv("T_FAMILY") == "6" {
		return netfilter.IPv6
	}
	return netfilter.IPv4
}

// helperDump prints every table of the family as JSON.
func helperDump() int {
	c, err := Dial(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Close()
	names, err := c.Tables(family())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var out []ruleset.Table
	for _, n := range names {
		t, err := c.Table(family(), n)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		out = append(out, *t)
	}
	json.NewEncoder(os.Stdout).Encode(out)
	return 0
}

// helperProbe prints HasChain for T_CHAINS ("table/chain ...") and a count
// capped at 3 that skips chain SKIP.
func helperProbe() int {
	c, err := Dial(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Close()
	for _, ref := range strings.Fields(os.Getenv("T_CHAINS")) {
		table, chain, _ := strings.Cut(ref, "/")
		ok, err := c.HasChain(family(), table, chain)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("%s=%v\n", ref, ok)
	}
	cc, err := Dial(context.Background())
	if err != nil {
		return 1
	}
	defer cc.Close()
	all, _, err := cc.CountRules(family(), 0, func(_, chain string) bool { return chain == "SKIP" })
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	c3, _ := Dial(context.Background())
	defer c3.Close()
	capped, isCapped, err := c3.CountRules(family(), 3, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("count=%d capped=%d,%v\n", all, capped, isCapped)
	return 0
}

const payload = `*filter
:KUBE-FIREWALL - [0:0]
:KUBE-FORWARD - [0:0]
:EMPTY - [0:0]
:SKIP - [0:0]
-A INPUT -j KUBE-FIREWALL
-A INPUT -i lo -j ACCEPT
-A FORWARD -j KUBE-FORWARD
-A OUTPUT -j KUBE-FIREWALL
-A OUTPUT -p tcp --dport 25
-A KUBE-FIREWALL -m mark --mark 0x8000/0x8000 -j DROP
-A KUBE-FORWARD -g EMPTY
-A KUBE-FORWARD -j RETURN
-A SKIP -j ACCEPT
-A SKIP -j ACCEPT
COMMIT
*mangle
:KUBE-IPTABLES-HINT - [0:0]
COMMIT
`

func TestTablesMatchSave(t *testing.T) {
	for _, fam := range []struct{ flag, restore, save string }{
		{"4", "iptables-nft-restore", "iptables-nft-save"}, {"6", "ip6tables-nft-restore", "ip6tables-nft-save"},
	} {
		t.Run("ipv"+fam.flag, func(t *testing.T) {
			netnstest.Require(t, fam.restore, fam.save)
			ns := netnstest.New(t)
			ns.MustRunStdin(payload, fam.restore)
			var got []ruleset.Table
			helperproc.RunJSON(t, ns, "dump", &got, "T_FAMILY="+fam.flag)
			want := dropLazyBaseChains(savetext.Parse(ns.MustRun(fam.save)), got)
			if d := savetext.Diff(got, want); d != "" {
				t.Error(d)
			}
		})
	}
}

// TestLookupsAndCounts runs the lookups and counts on the fake nf_tables
// (no root needed) and in a namespace against what iptables-nft-restore
// made (root).
func TestLookupsAndCounts(t *testing.T) {
	t.Run("fake", lookupsAndCountsOnFake)
	t.Run("kernel", lookupsAndCountsInNamespace)
}

func lookupsAndCountsInNamespace(t *testing.T) {
	netnstest.Require(t, "iptables-nft-restore")
	ns := netnstest.New(t)
	ns.MustRunStdin(payload, "iptables-nft-restore")
	r := helperproc.Run(t, ns, "probe", "T_CHAINS=mangle/KUBE-IPTABLES-HINT nat/KUBE-MARK-DROP filter/KUBE-FORWARD raw/X")
	if r.Code != 0 {
		t.Fatalf("probe: %s", r)
	}
	want := "mangle/KUBE-IPTABLES-HINT=true\nnat/KUBE-MARK-DROP=false\nfilter/KUBE-FORWARD=true\nraw/X=false\ncount=8 capped=3,true\n"
	if r.Stdout != want {
		t.Errorf("got\n%s\nwant\n%s", r.Stdout, want)
	}
}

// dropLazyBaseChains removes from save's tables the empty built-in chains
// that do not exist in the kernel: iptables-nft creates base chains only when
// a rule needs them, but its save prints every built-in chain of a table.
func dropLazyBaseChains(save, kernel []ruleset.Table) []ruleset.Table {
	exists := map[string]bool{}
	for _, t := range kernel {
		for _, c := range t.Chains {
			exists[t.Name+"/"+c.Name] = true
		}
	}
	for i := range save {
		var keep []ruleset.Chain
		for _, c := range save[i].Chains {
			if c.Builtin && c.Rules == 0 && !exists[save[i].Name+"/"+c.Name] {
				continue
			}
			keep = append(keep, c)
		}
		save[i].Chains = keep
	}
	return save
}
