package syntax

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/shim/ipterr"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`-A INPUT -j ACCEPT`, []string{"-A", "INPUT", "-j", "ACCEPT"}},
		{"-A\tINPUT  -j ACCEPT  ", []string{"-A", "INPUT", "-j", "ACCEPT"}},
		{`--comment "a b" x`, []string{"--comment", "a b", "x"}},
		{`--comment "a\"b"`, []string{"--comment", `a"b`}},
		{`--comment "a\\b\x"`, []string{"--comment", `a\bx`}},
		{`--comment a\"b -j ACCEPT`, []string{"--comment", `a\b -j ACCEPT`}},
		{`--comment ab"c d" -j`, []string{"--comment", "abc d", "-j"}},
		{`--comment "c d"ef`, []string{"--comment", "c d", "ef"}},
		{`--comment ""`, []string{"--comment", ""}},
		{`--comment "abc -j ACCEPT`, []string{"--comment", "abc -j ACCEPT"}},
		{`"! -s" 1.2.3.4`, []string{"! -s", "1.2.3.4"}},
	}
	for _, tt := range tests {
		if got := Tokenize(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Tokenize(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := Tokenize(JoinWords(tt.want)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("JoinWords(%q) = %q does not tokenize back", tt.want, JoinWords(tt.want))
		}
	}
}

func TestParseRestoreKubePayloads(t *testing.T) {
	for _, payload := range []string{kubeProxy113IPVS, kubeProxyIptablesMode} {
		p, err := ParseRestoreWith(strings.NewReader(payload), RestoreOptions{Family: IPv4, Counters: true})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := p.Render(&b); err != nil {
			t.Fatal(err)
		}
		if b.String() != payload {
			t.Errorf("render differs:\n%s", b.String())
		}
		for _, l := range p.Lines {
			if l.Kind == LineCommand && (l.Cmd.Table != l.Table || l.Cmd.Rule == nil) {
				t.Errorf("line %d: table %q/%q rule %v", l.Num, l.Cmd.Table, l.Table, l.Cmd.Rule)
			}
		}
	}
	p, _ := ParseRestore(strings.NewReader(kubeProxy113IPVS), IPv4)
	var decls int
	for _, l := range p.Lines {
		if l.Kind == LineChain && l.Chain.Name == "KUBE-POSTROUTING" {
			decls++
		}
	}
	if decls != 3 {
		t.Errorf("duplicate declarations: got %d, want 3", decls)
	}
}

// TestRenderInsertedLines is the guard's use: add a declaration and a rule
// to a payload without touching anything else.
func TestRenderInsertedLines(t *testing.T) {
	in := "*nat\n:KUBE-FIREWALL - [0:0]\n-A KUBE-FIREWALL -j KUBE-MARK-DROP\nCOMMIT\n"
	p, err := ParseRestore(strings.NewReader(in), IPv4)
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := ParseCommand([]string{"-A", "KUBE-MARK-DROP", "-j", "MARK", "--set-xmark", "0x8000/0x8000"}, IPv4)
	if err != nil {
		t.Fatal(err)
	}
	lines := append([]Line{}, p.Lines[:2]...)
	lines = append(lines, NewChainLine("nat", ChainDecl{Name: "KUBE-MARK-DROP", Policy: "-"}))
	lines = append(lines, NewCommandLine("nat", cmd))
	p.Lines = append(lines, p.Lines[2:]...)
	var b bytes.Buffer
	if err := p.Render(&b); err != nil {
		t.Fatal(err)
	}
	want := "*nat\n:KUBE-FIREWALL - [0:0]\n:KUBE-MARK-DROP - [0:0]\n-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000\n-A KUBE-FIREWALL -j KUBE-MARK-DROP\nCOMMIT\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	if _, err := ParseRestore(strings.NewReader(b.String()), IPv4); err != nil {
		t.Errorf("rendered payload does not parse: %v", err)
	}
}

func TestRestoreLineQuoting(t *testing.T) {
	cmd, err := ParseCommand([]string{"-A", "X", "-m", "comment", "--comment", `say "hi" \ there`, "-j", "ACCEPT"}, IPv4)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Rule.Counters = &Counters{Packets: 1, Bytes: 2}
	got := RestoreLine(cmd)
	want := `[1:2] -A X -m comment --comment "say \"hi\" \\ there" -j ACCEPT`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestRestoreErrors(t *testing.T) {
	tests := []struct {
		in    string
		class ipterr.Class
		line  int
		text  string
	}{
		{"*filter\n-A INPUT -j ACCEPT\n", ipterr.Other, 3, "iptables-restore: COMMIT expected at line 3\n"},
		{"-A INPUT -j ACCEPT\n", ipterr.Other, 1, "iptables-restore: line 1 failed\n"},
		{"*filter\n-t nat -A X\nCOMMIT\n", ipterr.Parameter, 2, "iptables-restore v1.8.9 (nf_tables): The -t option cannot be used in iptables-restore.\n\nError occurred at line: 2\nTry `iptables-restore -h' or 'iptables-restore --help' for more information.\n"},
		{"*filter\nfoo\nCOMMIT\n", ipterr.Parameter, 2, "Bad argument `foo'\nError occurred at line: 2\nTry `iptables-restore -h' or 'iptables-restore --help' for more information.\n"},
	}
	for _, tt := range tests {
		_, err := ParseRestore(strings.NewReader(tt.in), IPv4)
		var e *ipterr.Error
		if !errors.As(err, &e) || e.Class != tt.class || e.Line != tt.line {
			t.Errorf("%q: got %#v", tt.in, err)
			continue
		}
		if got := FormatError("iptables-restore", "", err); got != tt.text {
			t.Errorf("%q:\n got %q\nwant %q", tt.in, got, tt.text)
		}
	}
	// The program name inside a message follows the family when no
	// caller renames it.
	_, err := ParseRestore(strings.NewReader("*filter\n-t nat\nCOMMIT\n"), IPv6)
	if !strings.Contains(err.Error(), "ip6tables-restore") {
		t.Errorf("ip6tables message: %v", err)
	}
}

func TestRestoreIgnoresOtherFamilyLines(t *testing.T) {
	p, err := ParseRestore(strings.NewReader("*filter\n-6 -A INPUT -j ACCEPT\n-4 -A INPUT -j DROP\nCOMMIT\n"), IPv4)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Lines[1].Cmd.Ignored || p.Lines[2].Cmd.Ignored {
		t.Errorf("ignored flags: %v %v", p.Lines[1].Cmd.Ignored, p.Lines[2].Cmd.Ignored)
	}
}
