package xtables_test

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/detect/helperproc"
	"github.com/iptables-shim/iptables-shim/detect/ruleset"
	"github.com/iptables-shim/iptables-shim/detect/savetext"
	"github.com/iptables-shim/iptables-shim/detect/xtables"
	"github.com/iptables-shim/iptables-shim/detect/xtables/fake"
	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/shim/netfilter"
)

func TestMain(m *testing.M) {
	helperproc.Main(m, map[string]func() int{"dump": helperDump, "heads": helperHeads})
}

// familyOf is the family a helper reads, from T_FAMILY.
func familyOf() netfilter.Family {
	if os.Getenv("T_FAMILY") == "6" {
		return netfilter.IPv6
	}
	return netfilter.IPv4
}

// helperHeads prints heads of the kernel's tables as a JSON object.
func helperHeads() int {
	r, err := xtables.Open(familyOf())
	if err != nil {
		return helperproc.Print(nil, err)
	}
	defer r.Close()
	return helperproc.Print(heads(r))
}

// heads lists, per table of nat, filter and raw, the user chains ChainsIn
// finds among the full parse's chain names (and some that are no user
// chain), space-separated, and each table's Stamp (key stamp-TABLE); it
// fails when ChainsIn and the parse disagree.
func heads(r *xtables.Reader) (map[string]string, error) {
	out := map[string]string{}
	for _, table := range []string{"nat", "filter", "raw"} {
		var want []string
		if r.Listed(table) {
			t, err := r.Table(table)
			if err != nil {
				return nil, err
			}
			for _, c := range t.Chains {
				if !c.Builtin {
					want = append(want, c.Name)
				}
			}
		}
		found, err := r.ChainsIn(table, append(slices.Clone(want), "NO-SUCH-CHAIN", "ERROR", "INPUT"))
		if err != nil {
			return nil, err
		}
		var got []string
		for n := range found {
			got = append(got, n)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			return nil, fmt.Errorf("%s: ChainsIn found %v, the parse %v", table, got, want)
		}
		out[table] = strings.Join(got, " ")
		if out["stamp-"+table], err = r.Stamp(table); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// helperDump prints every listed table of the kernel's family as JSON.
func helperDump() int {
	r, err := xtables.Open(familyOf())
	if err != nil {
		return helperproc.Print(nil, err)
	}
	defer r.Close()
	return helperproc.Print(dump(r))
}

// dump reads every listed table.
func dump(r *xtables.Reader) ([]ruleset.Table, error) {
	var out []ruleset.Table
	for _, name := range r.Tables() {
		t, err := r.Table(name)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, nil
}

// onFake opens a Reader of family f on k.
func onFake(t *testing.T, k *fake.Kernel, f netfilter.Family) *xtables.Reader {
	t.Helper()
	r, err := xtables.OpenOn(k, f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// families are the two families with their tools.
var families = []struct {
	flag, restore, save, cmd string
	f                        netfilter.Family
}{
	{"4", "iptables-legacy-restore", "iptables-legacy-save", "iptables-legacy", netfilter.IPv4},
	{"6", "ip6tables-legacy-restore", "ip6tables-legacy-save", "ip6tables-legacy", netfilter.IPv6},
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
// iptables-legacy-save, for both families; its fake half reads the same
// payload from detect/xtables/fake (which keeps rules' targets only, so
// chains, rule counts and jumps are all there is to compare).
func TestTablesMatchSave(t *testing.T) {
	for _, fam := range families {
		t.Run("ipv"+fam.flag+"/kernel", func(t *testing.T) {
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
		t.Run("ipv"+fam.flag+"/fake", func(t *testing.T) {
			k := fake.New()
			if err := k.Restore(fam.f, payload); err != nil {
				t.Fatal(err)
			}
			got, err := dump(onFake(t, k, fam.f))
			if err != nil {
				t.Fatal(err)
			}
			if d := savetext.Diff(got, savetext.Parse(payload)); d != "" {
				t.Error(d)
			}
		})
	}
}

// TestNeverCreatesTables checks the reader leaves an empty namespace empty:
// asking for an unlisted table would make the kernel create it. The fake
// half checks that no getsockopt call is made at all.
func TestNeverCreatesTables(t *testing.T) {
	t.Run("kernel", func(t *testing.T) {
		netnstest.Require(t)
		ns := netnstest.New(t)
		if r := helperproc.Run(t, ns, "dump", "T_FAMILY=4"); r.Code != 0 {
			t.Fatalf("dump: %s", r)
		}
		if got := ns.MustRun("cat", "/proc/net/ip_tables_names"); got != "" {
			t.Errorf("tables appeared: %q", got)
		}
	})
	t.Run("fake", func(t *testing.T) {
		k := fake.New()
		r := onFake(t, k, netfilter.IPv4)
		if got, err := dump(r); err != nil || len(got) != 0 {
			t.Errorf("dump of no tables: %v, %v", got, err)
		}
		if _, err := r.ChainsIn("nat", []string{"KUBE-MARK-DROP"}); err != nil {
			t.Error(err)
		}
		if st, err := r.Stamp("nat"); st != "absent" || err != nil {
			t.Errorf("stamp of an unlisted table: %q, %v", st, err)
		}
		if _, err := r.Info("nat"); !errors.Is(err, xtables.ErrNotListed) {
			t.Errorf("Info of an unlisted table: %v", err)
		}
		if k.Gets != 0 {
			t.Errorf("%d getsockopt calls on a kernel without tables", k.Gets)
		}
	})
}

func TestParseRejectsTruncated(t *testing.T) {
	if _, err := xtables.Parse(netfilter.IPv4, xtables.Info{Name: "filter"}, make([]byte, 50)); err == nil {
		t.Error("truncated blob parsed")
	}
}

// TestUnavailable: without the family's x_tables module there is nothing
// to read, and the error says so.
func TestUnavailable(t *testing.T) {
	k := fake.New()
	k.Unload(netfilter.IPv6)
	if _, err := xtables.OpenOn(k, netfilter.IPv6); !errors.Is(err, xtables.ErrUnavailable) {
		t.Errorf("open of an unloaded family: %v", err)
	}
}

// TestChainsInMatchesTable checks the head-only walk against the full parse,
// and Stamp's reaction to a change, in both families.
func TestChainsInMatchesTable(t *testing.T) {
	check := func(t *testing.T, before, after map[string]string) {
		t.Helper()
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
	}
	for _, fam := range families {
		t.Run("ipv"+fam.flag+"/kernel", func(t *testing.T) {
			netnstest.Require(t, fam.restore, fam.cmd)
			ns := netnstest.New(t)
			ns.MustRunStdin(payload, fam.restore)
			var before, after map[string]string
			helperproc.RunJSON(t, ns, "heads", &before, "T_FAMILY="+fam.flag)
			ns.MustRun(fam.cmd, "-t", "nat", "-F", "KUBE-MARK-DROP")
			ns.MustRun(fam.cmd, "-t", "nat", "-X", "KUBE-MARK-DROP")
			helperproc.RunJSON(t, ns, "heads", &after, "T_FAMILY="+fam.flag)
			check(t, before, after)
		})
		t.Run("ipv"+fam.flag+"/fake", func(t *testing.T) {
			k := fake.New()
			if err := k.Restore(fam.f, payload); err != nil {
				t.Fatal(err)
			}
			before, err := heads(onFake(t, k, fam.f))
			if err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"-t", "nat", "-F", "KUBE-MARK-DROP"}, {"-t", "nat", "-X", "KUBE-MARK-DROP"}} {
				if err := k.Run(fam.f, args...); err != nil {
					t.Fatal(err)
				}
			}
			after, err := heads(onFake(t, k, fam.f))
			if err != nil {
				t.Fatal(err)
			}
			check(t, before, after)
		})
	}
}
