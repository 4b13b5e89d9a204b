package route

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/calllog"
	"github.com/iptables-shim/iptables-shim/shim/config"
	"github.com/iptables-shim/iptables-shim/shim/guard"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// fakeBackend records what it was asked to run.
type fakeBackend struct {
	name     string
	ran      []string // stdin of each run (or args for single commands)
	execed   bool
	supports error
}

func (f *fakeBackend) Describe() string { return f.name }
func (f *fakeBackend) Run(_ context.Context, c *backend.Call) error {
	if c.Tool == backend.Iptables {
		f.ran = append(f.ran, strings.Join(c.Args, " "))
		return nil
	}
	b, _ := io.ReadAll(c.Stdin)
	f.ran = append(f.ran, string(b))
	return nil
}
func (f *fakeBackend) Exec(c *backend.Call) error     { f.execed = true; return nil }
func (f *fakeBackend) Supports(c *backend.Call) error { return f.supports }

type fakeChains map[string]bool

func (f fakeChains) Existing(table string, names []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, n := range names {
		if f[table+"/"+n] {
			out[n] = true
		}
	}
	return out, nil
}

type setup struct {
	mode    string
	nft     string
	haveNFT bool // a real iptables-nft exists
	haveLeg bool
	native  *fakeBackend
}

func (s setup) router() (*Router, map[backend.Mode]*fakeBackend) {
	cfg := config.Default()
	cfg.Mode = s.mode
	cfg.ModeSource = "test"
	if s.nft != "" {
		cfg.NFT = s.nft
	}
	execs := map[backend.Mode]*fakeBackend{backend.NFT: {name: "exec-nft"}, backend.Legacy: {name: "exec-legacy"}}
	r := &Router{
		Config: cfg,
		FindExec: func(mode backend.Mode, c *backend.Call) (ExecBackend, error) {
			if (mode == backend.NFT && !s.haveNFT) || (mode == backend.Legacy && !s.haveLeg) {
				return nil, ipterr.New(ipterr.Other, "no %s binary", mode)
			}
			return execs[mode], nil
		},
		Chains: func(backend.Mode, syntax.Family) guard.Chains { return fakeChains{} },
	}
	if s.native != nil {
		r.Native = s.native
	}
	return r, execs
}

func TestPick(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    setup
		want string // backend description, or "error"
	}{
		{"legacy uses the legacy binary", setup{mode: "legacy", haveLeg: true, haveNFT: true, native: &fakeBackend{name: "native"}}, "exec-legacy"},
		{"legacy without binary fails even with native", setup{mode: "legacy", haveNFT: true, native: &fakeBackend{name: "native"}}, "error"},
		{"nft prefers the real binary", setup{mode: "nft", haveNFT: true, native: &fakeBackend{name: "native"}}, "exec-nft"},
		{"nft without binary goes native", setup{mode: "nft", haveLeg: true, native: &fakeBackend{name: "native"}}, "native"},
		{"nft=native forces native", setup{mode: "nft", nft: "native", haveNFT: true, native: &fakeBackend{name: "native"}}, "native"},
		{"nft=exec never goes native", setup{mode: "nft", nft: "exec", native: &fakeBackend{name: "native"}}, "error"},
		{"unsupported call falls back to the binary", setup{mode: "nft", nft: "native", haveNFT: true, native: &fakeBackend{name: "native", supports: errors.New("no")}}, "exec-nft"},
		{"without binary native runs and refuses by itself", setup{mode: "nft", native: &fakeBackend{name: "native", supports: ipterr.New(ipterr.Parameter, "unsupported")}}, "native"},
		{"no native built in", setup{mode: "nft"}, "error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := tc.s.router()
			be, _, err := r.pick(backend.Mode(tc.s.mode), &backend.Call{Tool: backend.Restore, Family: syntax.IPv4})
			got := "error"
			if err == nil {
				got = be.Describe()
			}
			if got != tc.want {
				t.Errorf("picked %s (err %v), want %s", got, err, tc.want)
			}
		})
	}
}

func TestRunExecsWhenNothingFollows(t *testing.T) {
	r, execs := setup{mode: "nft", haveNFT: true}.router()
	c := &backend.Call{Tool: backend.Iptables, Family: syntax.IPv4, Args: []string{"-t", "nat", "-S"}, Stdout: io.Discard, Stderr: io.Discard}
	if err := r.Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if !execs[backend.NFT].execed {
		t.Error("a plain command should replace the process with the real binary")
	}
}

func TestRunGuardsRestore(t *testing.T) {
	r, execs := setup{mode: "legacy", haveLeg: true}.router()
	var created []string
	r.Created = func(mode backend.Mode, fam syntax.Family, c guard.Creation) {
		created = append(created, string(mode)+" "+c.Table+"/"+c.Chain)
	}
	in := "*nat\n:KUBE-FIREWALL - [0:0]\n-A KUBE-FIREWALL -j KUBE-MARK-DROP\nCOMMIT\n"
	c := &backend.Call{Tool: backend.Restore, Family: syntax.IPv4, Args: []string{"--noflush"}, Stdin: strings.NewReader(in), Stdout: io.Discard, Stderr: io.Discard}
	if err := r.Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	be := execs[backend.Legacy]
	if be.execed || len(be.ran) != 1 {
		t.Fatalf("want one run with the rewritten payload, got exec=%v runs=%q", be.execed, be.ran)
	}
	want := "*nat\n:KUBE-MARK-DROP - [0:0]\n-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000\n:KUBE-FIREWALL - [0:0]\n-A KUBE-FIREWALL -j KUBE-MARK-DROP\nCOMMIT\n"
	if be.ran[0] != want {
		t.Errorf("payload sent:\n%s\nwant:\n%s", be.ran[0], want)
	}
	if len(created) != 1 || created[0] != "legacy nat/KUBE-MARK-DROP" {
		t.Errorf("created = %q", created)
	}
}

func TestRunGuardsSingleCommand(t *testing.T) {
	r, execs := setup{mode: "nft", haveNFT: true}.router()
	c := &backend.Call{Tool: backend.Iptables, Family: syntax.IPv4, Args: []string{"-w", "5", "-A", "KUBE-FIREWALL", "-t", "nat", "-j", "KUBE-MARK-DROP"}, Stdout: io.Discard, Stderr: io.Discard}
	if err := r.Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	be := execs[backend.NFT]
	if len(be.ran) != 2 || !strings.HasPrefix(be.ran[0], "*nat\n:KUBE-MARK-DROP - [0:0]\n") || be.ran[1] != strings.Join(c.Args, " ") {
		t.Errorf("runs = %q", be.ran)
	}
}

func TestUnparsableRestoreGoesThroughUntouched(t *testing.T) {
	r, execs := setup{mode: "nft", haveNFT: true}.router()
	in := "*nat\n-A FOO --bogus-option\nthis is not iptables\n"
	c := &backend.Call{Tool: backend.Restore, Family: syntax.IPv4, Stdin: strings.NewReader(in), Stdout: io.Discard, Stderr: &bytes.Buffer{}}
	if err := r.Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if got := execs[backend.NFT].ran; len(got) != 1 || got[0] != in {
		t.Errorf("backend got %q, want the input untouched", got)
	}
}

func TestMayJump(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"-t", "nat", "-S", "KUBE-SERVICES"}, false},
		{[]string{"-w", "5", "-N", "KUBE-MARK-DROP", "-t", "nat"}, false},
		{[]string{"-A", "X", "-j", "KUBE-MARK-DROP"}, true},
		{[]string{"-A", "X", "-jKUBE-MARK-DROP"}, true},
		{[]string{"-A", "X", "-vg", "Y"}, true},
		{[]string{"-A", "X", "--jump", "Y"}, true},
		{[]string{"-A", "X", "--goto=Y"}, true},
	} {
		if got := mayJump(tc.args); got != tc.want {
			t.Errorf("mayJump(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}

// TestCallRecordCarriesPhases checks a logged call's record says where its
// time went: the routing steps in order, and the in-process total.
func TestCallRecordCarriesPhases(t *testing.T) {
	r, _ := setup{mode: config.ModeNFT, nft: config.NFTNative, native: &fakeBackend{name: "native"}}.router()
	logPath := filepath.Join(t.TempDir(), "calls.log")
	r.Log = calllog.Open(logPath)
	r.Phases = calllog.NewPhases(time.Now())
	c := &backend.Call{Tool: backend.Iptables, Family: syntax.IPv4, Args: []string{"-t", "nat", "-N", "X"}, Stdout: io.Discard, Stderr: io.Discard}
	if err := r.Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	r.Log.Close()
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	line := string(data)
	m := regexp.MustCompile(`phases="([^"]*)"`).FindStringSubmatch(line)
	if m == nil || !strings.Contains(line, " inproc=") {
		t.Fatalf("call record without phases and inproc: %s", line)
	}
	var names []string
	for _, p := range strings.Fields(m[1]) {
		names = append(names, strings.SplitN(p, "=", 2)[0])
	}
	if got := strings.Join(names, " "); got != "decide pick guard backend finish" {
		t.Errorf("phases %q, want decide pick guard backend finish", got)
	}
}
