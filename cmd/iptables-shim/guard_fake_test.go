package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/detect"
	"github.com/iptables-shim/iptables-shim/internal/nfnl/fake"
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/config"
	"github.com/iptables-shim/iptables-shim/shim/guard"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/native"
	"github.com/iptables-shim/iptables-shim/shim/route"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

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
		Native: native.Program{Backend: native.New(native.Options{Open: k.Opener()})},
		Chains: func(mode backend.Mode, fam syntax.Family) guard.Chains {
			return detect.Chains{Mode: mode, Family: fam, NFT: detect.NFTProber{Open: k.Opener()}}
		},
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
