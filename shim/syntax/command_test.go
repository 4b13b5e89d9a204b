package syntax

import (
	"reflect"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/shim/ipterr"
)

func TestParseCommandModel(t *testing.T) {
	tests := []struct {
		args string
		fam  Family
		want Command
	}{
		{
			args: `-w 5 -W 100000 -C KUBE-FIREWALL -t filter -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`,
			fam:  IPv4,
			want: Command{Op: OpCheck, Table: "filter", Chain: "KUBE-FIREWALL", Family: IPv4,
				Wait: Wait{Given: true, Seconds: 5, IntervalUsec: 100000, IntervalGiven: true},
				Rule: &Rule{
					Dest:   Field{Set: true, Value: "127.0.0.0/8"},
					Source: Field{Set: true, Invert: true, Value: "127.0.0.0/8"},
					Matches: []Match{
						{Name: "comment", Known: true, Options: []Option{{Name: "comment", Args: []string{"block incoming localnet connections"}}}},
						{Name: "conntrack", Known: true, Options: []Option{{Name: "ctstate", Invert: true, Args: []string{"RELATED,ESTABLISHED,DNAT"}}}},
					},
					Target: &Target{Name: "DROP", Known: true},
				}},
		},
		{
			args: `-I INPUT 3 -p tcp --destination-port=443 -j MARK --or-mark 0x4000`,
			fam:  IPv6,
			want: Command{Op: OpInsert, Table: "filter", Chain: "INPUT", RuleNum: 3, Family: IPv6,
				Rule: &Rule{
					Protocol: Field{Set: true, Value: "tcp"},
					Matches:  []Match{{Name: "tcp", Implicit: true, Known: true, Options: []Option{{Name: "dport", Args: []string{"443"}}}}},
					Target:   &Target{Name: "MARK", Known: true, Options: []Option{{Name: "or-mark", Args: []string{"0x4000"}}}},
				}},
		},
		{
			args: `-t nat -A KUBE-SVC-X -m set ! --match-set KUBE-CLUSTER-IP dst,dst -g KUBE-SEP-Y`,
			fam:  IPv4,
			want: Command{Op: OpAppend, Table: "nat", Chain: "KUBE-SVC-X", Family: IPv4,
				Rule: &Rule{
					Matches: []Match{{Name: "set", Known: true, Options: []Option{{Name: "match-set", Invert: true, Args: []string{"KUBE-CLUSTER-IP", "dst,dst"}}}}},
					Target:  &Target{Name: "KUBE-SEP-Y", Goto: true},
				}},
		},
		{
			args: `-A INPUT -m foo --bar 1 2 ! --baz -j BAR --qux`,
			fam:  IPv4,
			want: Command{Op: OpAppend, Table: "filter", Chain: "INPUT", Family: IPv4,
				Rule: &Rule{
					Matches: []Match{{Name: "foo", Options: []Option{{Name: "bar", Args: []string{"1", "2"}}, {Name: "baz", Invert: true}}}},
					Target:  &Target{Name: "BAR", Options: []Option{{Name: "qux"}}},
				}},
		},
		{args: `-D INPUT 2`, fam: IPv4, want: Command{Op: OpDelete, Table: "filter", Chain: "INPUT", RuleNum: 2, Family: IPv4}},
		{args: `-L -Z -n -v -x --line-numbers`, fam: IPv4, want: Command{Op: OpList, Zero: true, Table: "filter", Family: IPv4, Numeric: true, Verbose: true, Exact: true, LineNumbers: true}},
		{args: `-E OLD NEW`, fam: IPv4, want: Command{Op: OpRename, Table: "filter", Chain: "OLD", NewName: "NEW", Family: IPv4}},
		{args: `-P FORWARD DROP`, fam: IPv4, want: Command{Op: OpPolicy, Table: "filter", Chain: "FORWARD", Policy: "DROP", Family: IPv4}},
		{args: `-S KUBE-X -t mangle`, fam: IPv4, want: Command{Op: OpListRules, Table: "mangle", Chain: "KUBE-X", Family: IPv4}},
		{args: `--version`, fam: IPv4, want: Command{Op: OpVersion, Table: "filter", Family: IPv4}},
		{args: `-w -X`, fam: IPv4, want: Command{Op: OpDeleteChain, Table: "filter", Family: IPv4, Wait: Wait{Given: true, Bare: true}}},
	}
	for _, tt := range tests {
		got, err := ParseCommand(Tokenize(tt.args), tt.fam)
		if err != nil {
			t.Errorf("%s: %v", tt.args, err)
			continue
		}
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("%s:\n got %+v rule %+v\nwant %+v rule %+v", tt.args, *got, got.Rule, tt.want, tt.want.Rule)
		}
	}
}

// TestFormatCommandRoundTrip checks that FormatCommand renders what
// ParseCommand reads back to the same command, for every accepted line of
// the differential corpus and the kube payloads.
func TestFormatCommandRoundTrip(t *testing.T) {
	var lines [][]string
	for _, f := range []string{"testdata/commands-ipv4.txt"} {
		lines = append(lines, readCases(t, f)...)
	}
	for _, l := range strings.Split(kubeProxy113IPVS+kubeProxyIptablesMode, "\n") {
		if strings.HasPrefix(l, "-A") {
			lines = append(lines, Tokenize(l))
		}
	}
	n := 0
	for _, args := range lines {
		c, err := ParseCommand(args, IPv4)
		if err != nil {
			continue
		}
		n++
		checkRoundTrip(t, c, IPv4)
	}
	if n < 100 {
		t.Errorf("only %d commands accepted; corpus broken?", n)
	}
}

func checkRoundTrip(t *testing.T, c *Command, fam Family) {
	t.Helper()
	if c.Op == OpVersion || c.Op == OpHelp || c.Ignored {
		return
	}
	if c.Rule != nil && len(c.Rule.UnknownExtensions()) > 0 {
		return // rendered best effort only (see RuleWords)
	}
	words := FormatCommand(c)
	c2, err := ParseCommand(words, fam)
	if err != nil {
		t.Fatalf("FormatCommand %q does not parse: %v", words, err)
	}
	if w2 := FormatCommand(c2); !reflect.DeepEqual(words, w2) {
		t.Fatalf("round trip differs:\n%q\n%q", words, w2)
	}
	if c.Rule != nil {
		line := RestoreLine(c)
		c3, err := parseRestoreCommand(line, c.Table, 1, RestoreOptions{Family: fam})
		if err != nil {
			t.Fatalf("RestoreLine %q does not parse: %v", line, err)
		}
		c3.Table, c3.Wait = c.Table, c.Wait
		c3.SetCounters, c3.Modprobe = c.SetCounters, c.Modprobe
		if w3 := FormatCommand(c3); !reflect.DeepEqual(words, w3) {
			t.Fatalf("restore line round trip differs:\n%q\n%q", words, w3)
		}
	}
}

func TestParseCommandErrorsAreParameterProblems(t *testing.T) {
	for _, args := range [][]string{{}, {"-A"}, {"-A", "INPUT", "--foo"}, {"-A", "INPUT", "!"}, {"-Q"}} {
		_, err := ParseCommand(args, IPv4)
		if !ipterr.Is(err, ipterr.Parameter) {
			t.Errorf("%q: got %v, want a parameter problem", args, err)
		}
	}
}

func TestKnownExtensions(t *testing.T) {
	// Every extension the brief names must be described.
	for _, n := range strings.Fields("tcp udp sctp icmp comment mark multiport set addrtype conntrack state statistic recent physdev limit ipvs nfacct owner connmark iprange length pkttype hashlimit string") {
		if !KnownMatch(n, IPv4) {
			t.Errorf("match %s not described", n)
		}
	}
	if !KnownMatch("icmp6", IPv6) || KnownMatch("icmp6", IPv4) || KnownMatch("icmp", IPv6) {
		t.Error("icmp/icmp6 family split wrong")
	}
	for _, n := range strings.Fields("MARK MASQUERADE DNAT SNAT REDIRECT REJECT LOG CONNMARK NFLOG NOTRACK CT TCPMSS ACCEPT DROP RETURN QUEUE") {
		if !KnownTarget(n, IPv4) {
			t.Errorf("target %s not described", n)
		}
	}
	if KnownTarget("KUBE-SVC-X", IPv4) {
		t.Error("a chain is not a known target")
	}
}

func TestTargetKinds(t *testing.T) {
	tests := []struct {
		args      string
		fam       Family
		chainJump bool
		unknown   bool
	}{
		{"-A X -j KUBE-SVC-ABC", IPv4, true, false},
		{"-A X -j ACCEPT", IPv4, false, false},
		{"-A X -j MASQUERADE", IPv4, false, false},
		{"-A X -j ULOG", IPv4, false, true},
		{"-A X -j SNPT", IPv4, true, true},
		{"-A X -j FOO --bar 1", IPv4, true, true},
	}
	for _, tt := range tests {
		c, err := ParseCommand(Tokenize(tt.args), tt.fam)
		if err != nil {
			t.Fatalf("%s: %v", tt.args, err)
		}
		if got := c.Rule.Target.ChainJump(tt.fam); got != tt.chainJump {
			t.Errorf("%s: ChainJump = %v", tt.args, got)
		}
		if got := len(c.Rule.UnknownExtensions()) > 0; got != tt.unknown {
			t.Errorf("%s: unknown = %v", tt.args, got)
		}
	}
	if !ExtensionShipped("REJECT", true, IPv6) || ExtensionShipped("icmp", false, IPv6) || !ExtensionShipped("icmp6", false, IPv6) {
		t.Error("ExtensionShipped family split wrong")
	}
}

func TestFormatErrorForeign(t *testing.T) {
	err := ipterr.New(ipterr.Other, "No chain/target/match by that name.")
	if got := FormatError("iptables", "", err); got != "iptables: No chain/target/match by that name.\n" {
		t.Errorf("got %q", got)
	}
	if got := FormatError("iptables", "legacy", ipterr.Exit(1)); got != "" {
		t.Errorf("printed error rendered again: %q", got)
	}
}

// TestOptionNamesByVersion: 1.8.11 names the generic options by their long
// names where 1.8.9 uses the letter (measured with both real binaries).
func TestOptionNamesByVersion(t *testing.T) {
	for _, tt := range []struct {
		args        string
		v189, v1811 string
	}{
		{"-L -x -x", "multiple -x flags not allowed", "multiple --exact options not allowed"},
		{"-L --line-numbers --line-numbers", "multiple -0 flags not allowed", "multiple --line-numbers options not allowed"},
		{"-N x -n", "Illegal option `-n' with this command", "Illegal option `--numeric' with this command"},
		{"-F -s 1.2.3.4", "Illegal option `-s' with this command", "Illegal option `--source' with this command"},
		{"-A INPUT ! -j ACCEPT", "cannot have ! before -j", "cannot have ! before --jump"},
	} {
		_, err := ParseCommand(strings.Fields(tt.args), IPv4)
		if err == nil {
			t.Fatalf("%s: parsed", tt.args)
		}
		for _, c := range []struct{ version, msg string }{{"", tt.v189}, {"1.8.9", tt.v189}, {"1.8.11", tt.v1811}} {
			want := "iptables " + Banner(c.version, "nf_tables") + ": " + c.msg + "\nTry `iptables -h' or 'iptables --help' for more information.\n"
			if got := FormatError("iptables", c.version, err); got != want {
				t.Errorf("%s as %q:\ngot  %q\nwant %q", tt.args, c.version, got, want)
			}
		}
	}
}
