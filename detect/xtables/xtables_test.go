package xtables

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/detect/helperproc"
	"github.com/iptables-shim/iptables-shim/detect/ruleset"
	"github.com/iptables-shim/iptables-shim/detect/savetext"
	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

func TestMain(m *testing.M) {
	helperproc.Main(m, map[string]func() int{"dump": helperDump, "heads": helperHeads})
}

// helperHeads prints, per table of nat, filter and raw, the user chains
// ChainsIn finds among the full parse's chain names (and one that does not
// exist), space-separated, and each table's Stamp, as a JSON object; it
// fails when ChainsIn and the parse disagree.
func helperHeads() int {
	f := syntax.IPv4
	if os.Getenv("T_FAMILY") == "6" {
		f = syntax.IPv6
	}
	r, err := Open(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer r.Close()
	out := map[string]string{}
	for _, table := range []string{"nat", "filter", "raw"} {
		var want []string
		if r.Listed(table) {
			t, err := r.Table(table)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			for _, c := range t.Chains {
				if !c.Builtin {
					want = append(want, c.Name)
				}
			}
		}
		found, err := r.ChainsIn(table, append(slices.Clone(want), "NO-SUCH-CHAIN", "ERROR", "INPUT"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		var got []string
		for n := range found {
			got = append(got, n)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			fmt.Fprintf(os.Stderr, "%s: ChainsIn found %v, the parse %v\n", table, got, want)
			return 1
		}
		out[table] = strings.Join(got, " ")
		if out["stamp-"+table], err = r.Stamp(table); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		return 1
	}
	return 0
}

// helperDump prints every listed table of the family in T_FAMILY as JSON.
func helperDump() int {
	f := syntax.IPv4
	if os.Getenv("T_FAMILY") == "6" {
		f = syntax.IPv6
	}
	r, err := Open(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer r.Close()
	var out []ruleset.Table
	for _, name := range r.Tables() {
		t, err := r.Table(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		out = append(out, *t)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		return 1
	}
	return 0
}

const payload = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-FORWARD - [0:0]
:EMPTY - [0:0]
-A INPUT -j KUBE-FIREWALL
-A INPUT -i lo -j ACCEPT
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A OUTPUT -j KUBE-FIREWALL
-A OUTPUT -p tcp --dport 25
-A KUBE-FIREWALL -m mark --mark 0x8000/0x8000 -j DROP
-A KUBE-FORWARD -g EMPTY
-A KUBE-FORWARD -j RETURN
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-MARK-DROP - [0:0]
:KUBE-POSTROUTING - [0:0]
-A POSTROUTING -j KUBE-POSTROUTING
-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000
-A KUBE-POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE
COMMIT
`

// TestTablesMatchSave compares the getsockopt reader with
// iptables-legacy-save, for both families.
func TestTablesMatchSave(t *testing.T) {
	for _, fam := range []struct {
		flag, restore, save string
	}{{"4", "iptables-legacy-restore", "iptables-legacy-save"}, {"6", "ip6tables-legacy-restore", "ip6tables-legacy-save"}} {
		t.Run("ipv"+fam.flag, func(t *testing.T) {
			netnstest.Require(t, fam.restore, fam.save)
			ns := netnstest.New(t)
			ns.MustRunStdin(payload, fam.restore)
			var got []ruleset.Table
			helperproc.RunJSON(t, ns, "dump", &got, "T_FAMILY="+fam.flag)
			want := savetext.Parse(ns.MustRun(fam.save))
			if d := savetext.Diff(got, want); d != "" {
				t.Error(d)
			}
		})
	}
}

// TestNeverCreatesTables checks the reader leaves an empty namespace empty:
// asking for an unlisted table would make the kernel create it.
func TestNeverCreatesTables(t *testing.T) {
	netnstest.Require(t)
	ns := netnstest.New(t)
	if r := helperproc.Run(t, ns, "dump", "T_FAMILY=4"); r.Code != 0 {
		t.Fatalf("dump: %s", r)
	}
	if got := ns.MustRun("cat", "/proc/net/ip_tables_names"); got != "" {
		t.Errorf("tables appeared: %q", got)
	}
}

func TestParseRejectsTruncated(t *testing.T) {
	if _, err := Parse(syntax.IPv4, Info{Name: "filter"}, make([]byte, 50)); err == nil {
		t.Error("truncated blob parsed")
	}
}

// TestChainsInMatchesTable checks the head-only walk against the full parse,
// and Stamp's reaction to a change, in both families.
func TestChainsInMatchesTable(t *testing.T) {
	for _, fam := range []struct {
		flag, restore, cmd string
	}{{"4", "iptables-legacy-restore", "iptables-legacy"}, {"6", "ip6tables-legacy-restore", "ip6tables-legacy"}} {
		t.Run("ipv"+fam.flag, func(t *testing.T) {
			netnstest.Require(t, fam.restore, fam.cmd)
			ns := netnstest.New(t)
			ns.MustRunStdin(payload, fam.restore)
			var before, after map[string]any
			helperproc.RunJSON(t, ns, "heads", &before, "T_FAMILY="+fam.flag)
			ns.MustRun(fam.cmd, "-t", "nat", "-F", "KUBE-MARK-DROP")
			ns.MustRun(fam.cmd, "-t", "nat", "-X", "KUBE-MARK-DROP")
			helperproc.RunJSON(t, ns, "heads", &after, "T_FAMILY="+fam.flag)
			if before["nat"] != "KUBE-MARK-DROP KUBE-POSTROUTING" || before["filter"] != "EMPTY KUBE-FIREWALL KUBE-FORWARD" {
				t.Errorf("chains before: %v", before)
			}
			if before["raw"] != "" || before["stamp-raw"] != "absent" {
				t.Errorf("unlisted raw table: %v", before)
			}
			if after["nat"] != "KUBE-POSTROUTING" {
				t.Errorf("chains after deleting KUBE-MARK-DROP: %v", after)
			}
			if before["stamp-nat"] == after["stamp-nat"] || before["stamp-filter"] != after["stamp-filter"] {
				t.Errorf("stamps: nat %v -> %v, filter %v -> %v", before["stamp-nat"], after["stamp-nat"], before["stamp-filter"], after["stamp-filter"])
			}
		})
	}
}
