package route

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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
	args     []string // the arguments of each run
	guarded  []*syntax.Payload
	execed   bool
	supports error
	// fail makes runs fail: restores, commands, or commands that carry
	// guard chains.
	failRestore, failCommand, failGuarded bool
	noWait                                bool // its restore has no -w
	declined                              int  // restores TryRun declined
	onSupports                            func()
}

func (f *fakeBackend) Describe() string { return f.name }
func (f *fakeBackend) Run(_ context.Context, c *backend.Call) error {
	f.args = append(f.args, strings.Join(c.Args, " "))
	f.guarded = append(f.guarded, c.GuardChains)
	if c.Tool == backend.Iptables {
		f.ran = append(f.ran, strings.Join(c.Args, " "))
		if f.failCommand || (f.failGuarded && c.GuardChains != nil) {
			fmt.Fprintln(c.Stderr, "failed", c.GuardChains != nil)
			return ipterr.Exit(1)
		}
		fmt.Fprintln(c.Stdout, "ran", c.GuardChains != nil)
		return nil
	}
	b, _ := io.ReadAll(c.Stdin)
	f.ran = append(f.ran, string(b))
	if f.failRestore {
		return ipterr.Exit(1)
	}
	return nil
}
func (f *fakeBackend) TakesWait() bool { return !f.noWait }
func (f *fakeBackend) Exec(c *backend.Call) error {
	f.execed = true
	if data, kept := c.KeptInput(); kept {
		// As the real exec: the binary replacing the shim reads the
		// input the shim read.
		f.ran = append(f.ran, string(data))
	}
	return nil
}
func (f *fakeBackend) Supports(c *backend.Call) error {
	if f.onSupports != nil {
		f.onSupports()
	}
	return f.supports
}

// TryRun declines what Supports refuses, having done nothing, as the
// native backend does.
func (f *fakeBackend) TryRun(ctx context.Context, c *backend.Call) (bool, error) {
	if f.supports != nil && c.Tool == backend.Restore {
		f.declined++
		return false, nil
	}
	return true, f.Run(ctx, c)
}

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

// TestPickInformational: with nft=auto, --version and -h are the image's
// binary's own when it has one (kube-proxy reads the version), and native
// without one.
func TestPickInformational(t *testing.T) {
	for _, tc := range []struct {
		call    *backend.Call
		haveNFT bool
		want    string
	}{
		{&backend.Call{Tool: backend.Iptables, Family: syntax.IPv4, Args: []string{"--version"}}, true, "exec-nft"},
		{&backend.Call{Tool: backend.Iptables, Family: syntax.IPv4, Args: []string{"-h"}}, true, "exec-nft"},
		{&backend.Call{Tool: backend.Restore, Family: syntax.IPv6, Args: []string{"-V"}}, true, "exec-nft"},
		{&backend.Call{Tool: backend.Save, Family: syntax.IPv4, Args: []string{"--version"}}, true, "exec-nft"},
		{&backend.Call{Tool: backend.Iptables, Family: syntax.IPv4, Args: []string{"-t", "nat", "-S"}}, true, "native"},
		{&backend.Call{Tool: backend.Iptables, Family: syntax.IPv4, Args: []string{"--version"}}, false, "native"},
	} {
		r, _ := setup{mode: "nft", haveNFT: tc.haveNFT, haveLeg: true, native: &fakeBackend{name: "native"}}.router()
		be, _, err := r.pick(backend.NFT, tc.call)
		if err != nil || be.Describe() != tc.want {
			t.Errorf("%s %q (binary %v): picked %v (err %v), want %s", tc.call.Name(), tc.call.Args, tc.haveNFT, be, err, tc.want)
		}
	}
}

func TestPick(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    setup
		want string // backend description, or "error"
	}{
		{"legacy uses the legacy binary", setup{mode: "legacy", haveLeg: true, haveNFT: true, native: &fakeBackend{name: "native"}}, "exec-legacy"},
		{"legacy without binary fails even with native", setup{mode: "legacy", haveNFT: true, native: &fakeBackend{name: "native"}}, "error"},
		{"nft=auto prefers native for what it carries out", setup{mode: "nft", haveNFT: true, native: &fakeBackend{name: "native"}}, "native"},
		{"nft=auto hands what native cannot do to the binary", setup{mode: "nft", haveNFT: true, native: &fakeBackend{name: "native", supports: errors.New("no")}}, "exec-nft"},
		{"nft without binary goes native", setup{mode: "nft", haveLeg: true, native: &fakeBackend{name: "native"}}, "native"},
		{"nft=native forces native", setup{mode: "nft", nft: "native", haveNFT: true, native: &fakeBackend{name: "native"}}, "native"},
		{"nft=exec never goes native", setup{mode: "nft", nft: "exec", native: &fakeBackend{name: "native"}}, "error"},
		{"unsupported call falls back to the binary", setup{mode: "nft", nft: "native", haveNFT: true, native: &fakeBackend{name: "native", supports: errors.New("no")}}, "exec-nft"},
		{"without binary native runs and refuses by itself", setup{mode: "nft", native: &fakeBackend{name: "native", supports: ipterr.New(ipterr.Parameter, "unsupported")}}, "native"},
		{"no native built in", setup{mode: "nft"}, "error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := tc.s.router()
			// A single command: restores are tried natively first
			// (TestRestoreTriesNativeFirst).
			be, _, err := r.pick(backend.Mode(tc.s.mode), &backend.Call{Tool: backend.Iptables, Family: syntax.IPv4, Args: []string{"-S"}})
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
	for _, tc := range []struct {
		name     string
		wait     []string
		noWait   bool
		wantArgs string
	}{
		{"-w N", []string{"-w", "5"}, false, "--noflush -w 5"},
		{"bare -w stays bare", []string{"-w"}, false, "--noflush -w"},
		{"-w 0 stays 0", []string{"-w", "0"}, false, "--noflush -w 0"},
		{"no -w", nil, false, "--noflush"},
		{"a restore without -w gets none", []string{"-w"}, true, "--noflush"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, execs := setup{mode: "nft", haveNFT: true}.router()
			be := execs[backend.NFT]
			be.noWait = tc.noWait
			var created []string
			r.Created = func(mode backend.Mode, fam syntax.Family, c guard.Creation) { created = append(created, c.Chain) }
			args := append(append([]string{}, tc.wait...), "-A", "KUBE-FIREWALL", "-t", "nat", "-j", "KUBE-MARK-DROP")
			c := &backend.Call{Tool: backend.Iptables, Family: syntax.IPv4, Args: args, Stdout: io.Discard, Stderr: io.Discard}
			if err := r.Run(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			want := "*nat\n:KUBE-MARK-DROP - [0:0]\n-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000\n-A KUBE-FIREWALL -j KUBE-MARK-DROP\nCOMMIT\n"
			if len(be.ran) != 1 || be.ran[0] != want {
				t.Errorf("want one restore carrying the chain and the command:\n%s\ngot %q", want, be.ran)
			}
			if len(be.args) != 1 || be.args[0] != tc.wantArgs {
				t.Errorf("restore args = %q, want %q", be.args, tc.wantArgs)
			}
			if len(created) != 1 {
				t.Errorf("created = %q", created)
			}
		})
	}
}

// TestGuardStepsAsideWhenTheCommandFails: when the restore carrying the
// chain and the command fails, nothing of it was committed; the command
// then runs alone, and its answer is the caller's. Nothing is recorded as
// created.
func TestGuardStepsAsideWhenTheCommandFails(t *testing.T) {
	r, execs := setup{mode: "nft", haveNFT: true}.router()
	be := execs[backend.NFT]
	be.failRestore, be.failCommand = true, true
	var created []string
	r.Created = func(mode backend.Mode, fam syntax.Family, c guard.Creation) { created = append(created, c.Chain) }
	var stderr bytes.Buffer
	args := []string{"-A", "NOPE", "-t", "nat", "-j", "KUBE-MARK-DROP"}
	c := &backend.Call{Tool: backend.Iptables, Family: syntax.IPv4, Args: args, Stdout: io.Discard, Stderr: &stderr}
	err := r.Run(context.Background(), c)
	if ipterr.ClassOf(err) != 1 {
		t.Fatalf("want the command's own exit 1, got %v", err)
	}
	if len(be.ran) != 2 || be.ran[1] != strings.Join(args, " ") {
		t.Errorf("want the restore, then the command alone; ran %q", be.ran)
	}
	if len(created) != 0 {
		t.Errorf("recorded as created after a failure: %q", created)
	}
}

// TestNativeGuardOneBatch: on the native backend the chains travel in the
// command's call; when that fails, the command runs again without them and
// only that run's output reaches the caller.
func TestNativeGuardOneBatch(t *testing.T) {
	for _, fail := range []bool{false, true} {
		r, _ := setup{mode: "nft", native: &fakeBackend{name: "native", failGuarded: fail}}.router()
		nat := r.Native.(*fakeBackend)
		var stdout, stderr bytes.Buffer
		c := &backend.Call{Tool: backend.Iptables, Family: syntax.IPv4, Args: []string{"-A", "X", "-t", "nat", "-j", "KUBE-MARK-DROP"}, Stdout: &stdout, Stderr: &stderr}
		err := r.Run(context.Background(), c)
		if err != nil {
			t.Fatalf("fail=%v: %v", fail, err)
		}
		if nat.guarded[0] == nil || !strings.Contains(render(t, nat.guarded[0]), ":KUBE-MARK-DROP - [0:0]") {
			t.Errorf("fail=%v: the first run carried no guard chains", fail)
		}
		wantRuns, wantOut := 1, "ran true\n"
		if fail {
			wantRuns, wantOut = 2, "ran false\n"
		}
		if len(nat.ran) != wantRuns || stdout.String() != wantOut || stderr.Len() != 0 {
			t.Errorf("fail=%v: runs %q, stdout %q, stderr %q", fail, nat.ran, stdout.String(), stderr.String())
		}
	}
}

func render(t *testing.T, p *syntax.Payload) string {
	t.Helper()
	var b bytes.Buffer
	if err := p.Render(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestUnparsableGoesToTheRealBinary: with nft=native and a real binary,
// what the shim's parser rejects is the real binary's to judge.
func TestUnparsableGoesToTheRealBinary(t *testing.T) {
	r, _ := setup{mode: "nft", nft: "native", haveNFT: true, native: &fakeBackend{name: "native"}}.router()
	for _, args := range [][]string{{"-A", "INPUT", "-s", "1.2.3.4.5", "-j", "ACCEPT"}, {"--bogus"}} {
		be, _, err := r.pick(backend.NFT, &backend.Call{Tool: backend.Iptables, Family: syntax.IPv4, Args: args})
		if err != nil || be.Describe() != "exec-nft" {
			t.Errorf("%q went to %v (%v), want exec-nft", args, be, err)
		}
	}
}

// TestRestoreTriesNativeFirst: with a real binary at hand, a restore is
// not checked before it runs: the native backend tries it, and what it
// declines (having done nothing) goes to the real binary with its input
// untouched, or, when the image's binary would misread the host's rules,
// back to the native backend to refuse.
func TestRestoreTriesNativeFirst(t *testing.T) {
	in := "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n"
	for _, tc := range []struct {
		name      string
		nft       string
		declines  bool
		skew      string
		unsafe    bool
		want      string // who ran it: native, exec-nft
		wantTries int    // native TryRun declines
	}{
		{"native carries it out", "", false, "", false, "native", 0},
		{"nft=native too", "native", false, "", false, "native", 0},
		{"declined: the binary", "", true, "", false, "exec-nft", 1},
		{"declined under nft=native: the binary", "native", true, "", false, "exec-nft", 1},
		{"declined, safe skew: the binary", "", true, "1.8.9 vs 1.8.11", false, "exec-nft", 1},
		{"declined, unsafe skew: native refuses", "", true, "1.8.7 vs 1.8.9", true, "native", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			native := &fakeBackend{name: "native"}
			if tc.declines {
				native.supports = errors.New("no")
			}
			r, execs := setup{mode: "nft", nft: tc.nft, haveNFT: true, native: native}.router()
			r.Skew = func(ExecBackend, *backend.Call) (string, bool) { return tc.skew, tc.unsafe }
			checked := false
			native.onSupports = func() { checked = true }
			c := &backend.Call{Tool: backend.Restore, Family: syntax.IPv4, Args: []string{"--noflush"}, Stdin: strings.NewReader(in), Stdout: io.Discard, Stderr: io.Discard}
			if err := r.Run(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			ran := map[string][]string{"native": native.ran, "exec-nft": execs[backend.NFT].ran}
			if got := ran[tc.want]; len(got) != 1 || got[0] != in {
				t.Errorf("%s got %q, want the input untouched", tc.want, got)
			}
			for who, got := range ran {
				if who != tc.want && len(got) > 0 {
					t.Errorf("%s ran it too: %q", who, got)
				}
			}
			if native.declined != tc.wantTries {
				t.Errorf("native declined %d times, want %d", native.declined, tc.wantTries)
			}
			if checked {
				t.Error("the restore was checked (Supports) before the native backend tried it")
			}
		})
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

// countingChains counts the guard's lookups.
type countingChains struct{ n *int }

func (c countingChains) Existing(table string, names []string) (map[string]bool, error) {
	*c.n++
	return map[string]bool{}, nil
}

// TestGuardLooksUpOnlyChainsItMayCreate: with unknown-chains=refuse (the
// default) a jump to a chain the catalog does not know is never looked up
// (a legacy lookup copies the whole table), while a catalog chain is.
func TestGuardLooksUpOnlyChainsItMayCreate(t *testing.T) {
	for _, tc := range []struct {
		target  string
		refuse  bool
		lookups int
	}{{"KUBE-SERVICES", true, 0}, {"KUBE-MARK-DROP", true, 1}, {"KUBE-SERVICES", false, 1}} {
		r, _ := setup{mode: config.ModeNFT, haveNFT: true}.router()
		if tc.refuse {
			r.Config.UnknownChains = config.UnknownRefuse
		} else {
			r.Config.UnknownChains = config.UnknownCreate
		}
		n := 0
		r.Chains = func(backend.Mode, syntax.Family) guard.Chains { return countingChains{&n} }
		c := &backend.Call{Tool: backend.Iptables, Family: syntax.IPv4, Args: []string{"-t", "nat", "-I", "OUTPUT", "-j", tc.target},
			Stdout: io.Discard, Stderr: io.Discard}
		if err := r.Run(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		if n != tc.lookups {
			t.Errorf("-j %s (refuse %v): %d lookups, want %d", tc.target, tc.refuse, n, tc.lookups)
		}
	}
}
