package syntax

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/shim/ipterr"
)

// FuzzParseCommand feeds argv lists (words separated by newlines) to
// ParseCommand. Properties: no panic; a refusal is an *ipterr.Error of
// class 2 or 3 with a Diagnostic; an accepted command renders (FormatCommand
// and RestoreLine) to words that parse back to the same command.
func FuzzParseCommand(f *testing.F) {
	for _, path := range []string{"testdata/commands-ipv4.txt", "testdata/commands-ipv6.txt"} {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			if l != "" && !strings.HasPrefix(l, "#") {
				f.Add(strings.Join(Tokenize(l), "\n"), strings.Contains(path, "ipv6"))
			}
		}
	}
	f.Fuzz(func(t *testing.T, s string, v6 bool) {
		fam := IPv4
		if v6 {
			fam = IPv6
		}
		args := strings.Split(s, "\n")
		c, err := ParseCommand(args, fam)
		if err != nil {
			var e *ipterr.Error
			if !errors.As(err, &e) || (e.Class != ipterr.Parameter && e.Class != ipterr.Version) || DiagnosticOf(err) == nil {
				t.Fatalf("%q: bad error %#v", args, err)
			}
			_ = FormatError("iptables", "", err)
			return
		}
		checkRoundTrip(t, c, fam)
		checkExpansion(t, c)
	})
}

// checkExpansion: what ExpandAddresses makes of an accepted command is
// refused as iptables refuses, or is commands whose -s and -d each hold
// one literal address (with its mask), which need no expansion again.
func checkExpansion(t *testing.T, c *Command) {
	cmds, err := ExpandAddresses(c, fakeLookup)
	if err != nil {
		if ipterr.ClassOf(err) != ipterr.Parameter || DiagnosticOf(err) == nil {
			t.Fatalf("expansion: bad error %#v", err)
		}
		return
	}
	if len(cmds) == 0 {
		t.Fatal("expansion gave no command")
	}
	for _, e := range cmds {
		if e.Rule != nil && (needsExpansion(e.Rule.Source) || needsExpansion(e.Rule.Dest)) {
			t.Fatalf("expanded command still needs expansion: -s %q -d %q", e.Rule.Source.Value, e.Rule.Dest.Value)
		}
	}
}

// FuzzParseRestore feeds restore payloads to ParseRestoreWith. Properties:
// no panic; a refusal is an *ipterr.Error tied to a line; an accepted
// payload renders back byte for byte, and each rule line rebuilt from the
// model parses back to the same rule.
func FuzzParseRestore(f *testing.F) {
	f.Add(kubeProxy113IPVS, true)
	f.Add(kubeProxyIptablesMode, false)
	for _, c := range restoreCases {
		f.Add(c.payload, c.counters)
	}
	f.Fuzz(func(t *testing.T, payload string, counters bool) {
		p, err := ParseRestoreWith(strings.NewReader(payload), RestoreOptions{Family: IPv4, Counters: counters})
		if err != nil {
			var e *ipterr.Error
			if !errors.As(err, &e) || e.Line < 1 || DiagnosticOf(err) == nil {
				t.Fatalf("%q: bad error %#v", payload, err)
			}
			return
		}
		var b bytes.Buffer
		if err := p.Render(&b); err != nil {
			t.Fatal(err)
		}
		if b.String() != payload {
			t.Fatalf("render differs:\n in %q\nout %q", payload, b.String())
		}
		for _, l := range p.Lines {
			if l.Kind == LineCommand && l.Cmd.Rule != nil && !l.Cmd.Ignored {
				checkRoundTrip(t, l.Cmd, IPv4)
			}
		}
	})
}
