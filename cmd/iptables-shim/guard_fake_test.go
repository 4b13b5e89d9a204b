package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/nfnl"
	"github.com/iptables-shim/iptables-shim/internal/nfnl/fake"
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/config"
	"github.com/iptables-shim/iptables-shim/shim/guard"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/native"
	"github.com/iptables-shim/iptables-shim/shim/route"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// fakeChains answers the guard from a fake nf_tables, one lookup a chain,
// as the kernel lookups do.
type fakeChains struct {
	k   *fake.Kernel
	fam syntax.Family
}

func (f fakeChains) Existing(table string, names []string) (map[string]bool, error) {
	c, _ := f.k.Open()
	defer c.Close()
	fam := uint8(unix.NFPROTO_IPV4)
	if f.fam == syntax.IPv6 {
		fam = unix.NFPROTO_IPV6
	}
	out := map[string]bool{}
	for _, n := range names {
		var a nfnl.Attrs
		a.String(unix.NFTA_CHAIN_TABLE, table)
		a.String(unix.NFTA_CHAIN_NAME, n)
		_, err := c.Request(nfnl.MsgType(nfnl.SubsysNFTables, unix.NFT_MSG_GETCHAIN), 0, fam, a.B)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[n] = true
	}
	return out, nil
}

// fakeRouter routes calls to the native backend on k, with the guard on
// and no real binary, as on a node without iptables-nft.
func fakeRouter(t *testing.T, k *fake.Kernel) *route.Router {
	t.Setenv("XTABLES_LOCKFILE", t.TempDir()+"/xtables.lock")
	cfg := config.Default()
	cfg.Mode, cfg.ModeSource, cfg.NFT = config.ModeNFT, "test", config.NFTNative
	return &route.Router{
		Config: cfg,
		Decide: func(context.Context) (route.Decision, error) {
			return route.Decision{Mode: backend.NFT, Reason: "test"}, nil
		},
		FindExec: func(backend.Mode, *backend.Call) (route.ExecBackend, error) {
			return nil, ipterr.New(ipterr.Other, "no binary")
		},
		Native: nativeAdapter{be: native.New(native.Options{Open: k.Opener()})},
		Chains: func(_ backend.Mode, fam syntax.Family) guard.Chains { return fakeChains{k, fam} },
	}
}

func runOn(t *testing.T, r *route.Router, tool backend.Tool, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	c := &backend.Call{Tool: tool, Family: syntax.IPv4, Args: args, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb}
	err := r.Run(context.Background(), c)
	return out.String(), err
}

// TestGuardWithNativeOnFake is the incident on the fake nf_tables, without
// root: kube-proxy's restore jumps to KUBE-MARK-DROP that nobody created;
// the guard creates it with kubelet's contents in the same transaction, a
// single command is guarded the same way, and a chain that exists is
// never touched.
func TestGuardWithNativeOnFake(t *testing.T) {
	k := fake.New()
	r := fakeRouter(t, k)
	in := "*nat\n:KUBE-FIREWALL - [0:0]\n-A KUBE-FIREWALL -j KUBE-MARK-DROP\nCOMMIT\n"
	if _, err := runOn(t, r, backend.Restore, in, "--noflush"); err != nil {
		t.Fatal(err)
	}
	if k.Commits != 1 {
		t.Errorf("the restore and the guard's chain took %d commits, want 1", k.Commits)
	}
	save, err := runOn(t, r, backend.Save, "", "-t", "nat")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{":KUBE-MARK-DROP - [0:0]", "-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000", "-A KUBE-FIREWALL -j KUBE-MARK-DROP"} {
		if !strings.Contains(save, want) {
			t.Errorf("save lacks %q:\n%s", want, save)
		}
	}
	// A single command, on a fresh kernel.
	k2 := fake.New()
	r2 := fakeRouter(t, k2)
	if _, err := runOn(t, r2, backend.Iptables, "", "-w", "5", "-t", "nat", "-N", "KUBE-FW"); err != nil {
		t.Fatal(err)
	}
	if _, err := runOn(t, r2, backend.Iptables, "", "-w", "5", "-t", "nat", "-A", "KUBE-FW", "-j", "KUBE-MARK-DROP"); err != nil {
		t.Fatal(err)
	}
	save, _ = runOn(t, r2, backend.Save, "", "-t", "nat")
	if !strings.Contains(save, "-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000") || !strings.Contains(save, "-A KUBE-FW -j KUBE-MARK-DROP") {
		t.Errorf("nat after the guarded -A:\n%s", save)
	}
	// An existing chain with other contents stays as it is.
	k3 := fake.New()
	r3 := fakeRouter(t, k3)
	if _, err := runOn(t, r3, backend.Restore, "*nat\n:KUBE-MARK-DROP - [0:0]\n-A KUBE-MARK-DROP -j ACCEPT\nCOMMIT\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := runOn(t, r3, backend.Restore, "*nat\n:X - [0:0]\n-A X -j KUBE-MARK-DROP\nCOMMIT\n", "--noflush"); err != nil {
		t.Fatal(err)
	}
	save, _ = runOn(t, r3, backend.Save, "", "-t", "nat")
	if strings.Contains(save, "--set-xmark") || !strings.Contains(save, "-A KUBE-MARK-DROP -j ACCEPT") {
		t.Errorf("the guard touched an existing chain:\n%s", save)
	}
}
