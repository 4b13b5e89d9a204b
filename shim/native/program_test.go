package native

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/nfnl/fake"
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// TestProgramSpeaksAsIptablesNFT: the router's face of the native backend
// answers --version with the name it was called by, prints a failure as
// iptables-nft does and marks it printed, and refuses what the backend does
// not implement (as the backend's own Supports says) before the kernel is
// touched.
func TestProgramSpeaksAsIptablesNFT(t *testing.T) {
	t.Setenv("XTABLES_LOCKFILE", filepath.Join(t.TempDir(), "xtables.lock"))
	k := fake.New()
	p := Program{Backend: New(Options{Open: k.Opener()})}
	call := func(tool backend.Tool, argv0 string, args ...string) (*backend.Call, *bytes.Buffer, *bytes.Buffer) {
		var out, errb bytes.Buffer
		return &backend.Call{Tool: tool, Family: syntax.IPv4, Argv0: argv0, Args: args, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}, &out, &errb
	}
	c, out, _ := call(backend.Restore, "/usr/sbin/iptables-restore", "--version")
	if err := p.Run(context.Background(), c); err != nil || out.String() != "iptables-restore v"+syntax.Version+" (nf_tables)\n" {
		t.Errorf("restore --version: %q, %v", out.String(), err)
	}
	c, _, errb := call(backend.Iptables, "/usr/sbin/iptables", "-A", "NO-SUCH-CHAIN", "-j", "ACCEPT")
	err := p.Run(context.Background(), c)
	var e *ipterr.Error
	if !errors.As(err, &e) || !e.Printed || e.Class != ipterr.Other || !strings.HasPrefix(errb.String(), "iptables") {
		t.Errorf("-A to a missing chain: %v, stderr %q", err, errb.String())
	}
	// Supports is the backend's own verdict on the parsed call.
	for _, args := range [][]string{{"-A", "INPUT", "-j", "AUDIT", "--type", "accept"}, {"-N", "KUBE-MARK-DROP", "-t", "nat"}} {
		c, _, _ = call(backend.Iptables, "iptables", args...)
		cmd, err := syntax.ParseCommand(args, syntax.IPv4)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := p.Supports(c), SupportsCommand(syntax.IPv4, cmd); (got == nil) != (want == nil) {
			t.Errorf("Supports(%v) = %v, the backend says %v", args, got, want)
		}
	}
	if k.Commits != 0 {
		t.Errorf("%d commits", k.Commits)
	}
}

// TestRestoreOfKeptInputForgetsTheParse: when the router has read and
// parsed a restore's input (to check it, or for the guard), the native
// backend applies that text, as it would from standard input, and drops
// the whole parse the call held (its memory would otherwise sit next to
// the batch).
func TestRestoreOfKeptInputForgetsTheParse(t *testing.T) {
	t.Setenv("XTABLES_LOCKFILE", filepath.Join(t.TempDir(), "xtables.lock"))
	const payload = "*filter\n:KEPT - [0:0]\n-A KEPT -s 10.0.0.1/32 -j ACCEPT\n-A INPUT -j KEPT\nCOMMIT\n"
	save := func(k *fake.Kernel) string {
		var out bytes.Buffer
		c := &backend.Call{Tool: backend.Save, Family: syntax.IPv4, Stdout: &out, Stderr: &out}
		if err := (Program{Backend: New(Options{Open: k.Opener()})}).Run(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	var saved []string
	for _, kept := range []bool{false, true} {
		k := fake.New()
		p := Program{Backend: New(Options{Open: k.Opener()})}
		c := &backend.Call{Tool: backend.Restore, Family: syntax.IPv4, Args: []string{"-w", "5"}, Stdin: strings.NewReader(payload), Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}
		if kept {
			if _, err := c.ReadPayload(); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.Run(context.Background(), c); err != nil {
			t.Fatalf("kept=%v: %v", kept, err)
		}
		if c.Payload != nil {
			t.Errorf("kept=%v: the call still holds its parsed payload", kept)
		}
		saved = append(saved, save(k))
	}
	if saved[0] != saved[1] || !strings.Contains(saved[1], "-A KEPT -s 10.0.0.1/32 -j ACCEPT") {
		t.Errorf("restore of kept input differs from one of standard input:\n%s\n---\n%s", saved[0], saved[1])
	}
}

// TestTryRunDeclinesBeforeTouchingAnything: a restore tried first (the
// router has a real binary to give it to) is declined, with nothing
// committed and nothing printed, when a line is beyond the native backend
// (even after lines it could write) or the parser rejects one; a restore
// it carries out is carried out, its output as Run's. Run alone commits
// the sections before a bad line, as iptables-nft-restore does.
func TestTryRunDeclinesBeforeTouchingAnything(t *testing.T) {
	t.Setenv("XTABLES_LOCKFILE", filepath.Join(t.TempDir(), "xtables.lock"))
	const good = "*filter\n:OK - [0:0]\n-A OK -j ACCEPT\nCOMMIT\n"
	unsupported := good + "*filter\n-A INPUT -m bpf --object-pinned /sys/fs/bpf/nope -j ACCEPT\nCOMMIT\n"
	unparsable := good + "*filter\n-A INPUT --no-such-option -j ACCEPT\nCOMMIT\n"
	pl, err := syntax.ParseRestore(strings.NewReader(unsupported), syntax.IPv4)
	if err != nil {
		t.Fatal(err)
	}
	if Supports(pl) == nil {
		t.Fatal("the native backend supports the bpf line: pick another unsupported one")
	}
	for _, tc := range []struct {
		name, in string
		ran      bool
	}{
		{"unsupported", unsupported, false},
		{"unparsable", unparsable, false},
		{"supported", good, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := fake.New()
			p := Program{Backend: New(Options{Open: k.Opener()})}
			var out, errb bytes.Buffer
			c := &backend.Call{Tool: backend.Restore, Family: syntax.IPv4, Args: []string{"--noflush"}, Stdin: strings.NewReader(tc.in), Stdout: &out, Stderr: &errb}
			if _, err := c.ReadInput(); err != nil {
				t.Fatal(err)
			}
			ran, err := p.TryRun(context.Background(), c)
			if ran != tc.ran || err != nil {
				t.Fatalf("TryRun = %v, %v; want %v, nil", ran, err, tc.ran)
			}
			if !tc.ran && (k.Commits != 0 || out.Len()+errb.Len() != 0) {
				t.Errorf("declined after %d commits, output %q %q", k.Commits, out.String(), errb.String())
			}
			if tc.ran && k.Commits == 0 {
				t.Error("carried out without a commit")
			}
			if c.Declinable || c.Stdout != &out || c.Stderr != &errb {
				t.Error("TryRun left the call changed")
			}
		})
	}
	// Run commits the section before the bad line and reports it.
	k := fake.New()
	var errb bytes.Buffer
	c := &backend.Call{Tool: backend.Restore, Family: syntax.IPv4, Args: []string{"--noflush"}, Stdin: strings.NewReader(unparsable), Stdout: io.Discard, Stderr: &errb}
	if err := (Program{Backend: New(Options{Open: k.Opener()})}).Run(context.Background(), c); err == nil || k.Commits == 0 || errb.Len() == 0 {
		t.Errorf("Run of the unparsable payload: %v, %d commits, stderr %q", err, k.Commits, errb.String())
	}
}
