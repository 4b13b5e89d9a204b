package native

import (
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/nftread"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

func TestSupports(t *testing.T) {
	for _, c := range []struct {
		name, payload string
		// wantLine is the line Supports must name, 0 when supported.
		wantLine int
		wantText string
	}{
		{"kube rules", "*nat\n:KUBE-SVC-X - [0:0]\n-A KUBE-SVC-X -m comment --comment \"a b\" -m statistic --mode random --probability 0.5 -j KUBE-SEP-Y\n-A KUBE-SVC-X -p tcp -m tcp -j DNAT --to-destination 10.0.0.1:80\n-X KUBE-OLD\nCOMMIT\n", 0, ""},
		{"jump to a chain only the kernel has", "*filter\n-A INPUT -j KUBE-FIREWALL\nCOMMIT\n", 0, ""},
		{"delete by spec", "*filter\n-D INPUT -j ACCEPT\nCOMMIT\n", 2, "-D"},
		{"unknown target extension", "*filter\n-A INPUT -j ULOG --ulog-nlgroup 2\nCOMMIT\n", 2, "ULOG"},
		{"flush of a whole table", "*filter\n-F\nCOMMIT\n", 0, ""},
		{"listing inside a restore", "*filter\n-S\nCOMMIT\n", 2, "-S"},
		{"insert at a position in a flushed table", "*filter\n:FOO - [0:0]\n-A FOO -j ACCEPT\n-I FOO 2 -j DROP\nCOMMIT\n", 4, "-I with a rule number"},
		{"noflush: positions in an untouched chain", "*filter\n-I FOO 2 -j DROP\n-R BAR 1 -j DROP\n-D BAZ 1\n-D QUX -j DROP\n-C FOO2 -j DROP\n-E OLD NEW\n-X INPUT\nCOMMIT\n", 0, ""},
		{"noflush: deletions by number in a row", "*filter\n-D FOO 3\n-D FOO 1\n-R FOO 1 -j DROP\nCOMMIT\n", 0, ""},
		{"noflush: a number after a replacement", "*filter\n-R FOO 1 -j DROP\n-D FOO 2\nCOMMIT\n", 3, "-D"},
		{"noflush: zero alone", "*filter\n-Z\nCOMMIT\n", 0, ""},
		{"noflush: positions after an append", "*filter\n-A FOO -j ACCEPT\n-D FOO 1\nCOMMIT\n", 3, "-D"},
		{"noflush: after a declaration", "*filter\n:FOO - [0:0]\n-R FOO 1 -j DROP\nCOMMIT\n", 3, "-R"},
		{"noflush: zero after a change", "*filter\n-A FOO -j ACCEPT\n-Z\nCOMMIT\n", 3, "-Z"},
		{"noflush: second table untouched", "*nat\n-A FOO -j ACCEPT\nCOMMIT\n*filter\n-D FOO 1\nCOMMIT\n", 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := syntax.ParseRestore(strings.NewReader(c.payload), syntax.IPv4)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			err = SupportsRestore(p, strings.HasPrefix(c.name, "noflush"))
			if c.wantLine == 0 {
				if err != nil {
					t.Fatalf("Supports: %v", err)
				}
				return
			}
			if err == nil || !nftread.IsUnsupported(err) {
				t.Fatalf("Supports = %v, want an unsupported error", err)
			}
			var ie *ipterr.Error
			if !ipterr.Is(err, ipterr.Parameter) || !asIptErr(err, &ie) || ie.Line != c.wantLine || !strings.Contains(ie.Msg, c.wantText) {
				t.Errorf("Supports = %#v, want exit 2 at line %d naming %q", err, c.wantLine, c.wantText)
			}
		})
	}
}

func asIptErr(err error, ie **ipterr.Error) bool {
	e, ok := err.(*ipterr.Error)
	*ie = e
	return ok
}

func TestParseAddrMask(t *testing.T) {
	for _, c := range []struct {
		fam  syntax.Family
		in   string
		want string
	}{
		{syntax.IPv4, "10.1.2.3/8", "10.0.0.0/8"},
		{syntax.IPv4, "1.2.3.4", "1.2.3.4/32"},
		{syntax.IPv4, "10.1.2.3/255.0.255.0", "10.0.2.0/255.0.255.0"},
		{syntax.IPv4, "10.1.2.3/255.255.0.0", "10.1.0.0/16"},
		{syntax.IPv6, "fd00::1", "fd00::1/128"},
		{syntax.IPv6, "fd00:10:96::/65", "fd00:10:96::/65"},
	} {
		am, err := nftread.ParseAddrMask(c.fam, c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if got := am.String(); got != c.want {
			t.Errorf("%s: got %s, want %s", c.in, got, c.want)
		}
	}
	for _, bad := range []string{"1.2.3.4/33", "1.2.3.4,5.6.7.8", "fd00::1"} {
		if _, err := nftread.ParseAddrMask(syntax.IPv4, bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

func TestProtocols(t *testing.T) {
	p := nftread.LoadProtocols("testdata/protocols")
	if n, ok := p.Number("TCP"); !ok || n != 6 {
		t.Errorf("TCP = %d, %v", n, ok)
	}
	if n, ok := p.Number("gre"); !ok || n != 47 {
		t.Errorf("gre = %d, %v", n, ok)
	}
	// iptables' own table comes first and names 58 "ipv6-icmp", 135
	// "mobility-header", with or without the file.
	if got := p.Name(58); got != "ipv6-icmp" {
		t.Errorf("name(58) = %s", got)
	}
	if got := nftread.LoadProtocols("testdata/does-not-exist").Name(135); got != "mobility-header" {
		t.Errorf("fallback name(135) = %s", got)
	}
	if got := p.Name(47); got != "gre" {
		t.Errorf("name(47) = %s", got)
	}
	if got := p.Name(253); got != "253" {
		t.Errorf("name(253) = %s", got)
	}
}

// TestSingleCommandsUnsupported checks, without the kernel, that every
// command is carried out natively in the iptables tables and none outside
// them.
func TestSingleCommandsUnsupported(t *testing.T) {
	for op := syntax.OpAppend; op <= syntax.OpHelp; op++ {
		if err := commandSupported(&syntax.Command{Op: op, Table: "nat"}); err != nil {
			t.Errorf("op %v in nat: %v", op, err)
		}
		if op == syntax.OpVersion || op == syntax.OpHelp {
			continue
		}
		if err := commandSupported(&syntax.Command{Op: op, Table: "broute"}); !nftread.IsUnsupported(err) || !ipterr.Is(err, ipterr.Parameter) {
			t.Errorf("op %v in broute = %v, want an unsupported exit-2 error", op, err)
		}
	}
}

func TestSupportsCommand(t *testing.T) {
	for _, c := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"-w", "5", "-C", "KUBE-FIREWALL", "-t", "filter", "-m", "mark", "--mark", "0x8000/0x8000", "-j", "DROP"}, true},
		{[]string{"-N", "KUBE-MARK-DROP", "-t", "nat"}, true},
		{[]string{"-S", "KUBE-SERVICES", "-t", "nat"}, true},
		{[]string{"-L", "KUBE-SERVICES", "-t", "nat"}, true},
		{[]string{"-A", "INPUT", "-j", "ULOG", "--ulog-nlgroup", "2"}, false},
	} {
		cmd, err := syntax.ParseCommand(c.args, syntax.IPv4)
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if err := SupportsCommand(syntax.IPv4, cmd); (err == nil) != c.ok || (err != nil && !nftread.IsUnsupported(err)) {
			t.Errorf("SupportsCommand(%v) = %v, want ok=%v", c.args, err, c.ok)
		}
	}
}
