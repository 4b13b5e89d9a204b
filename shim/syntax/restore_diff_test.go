package syntax

import (
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
)

// restoreCases are payloads whose parse outcome iptables-nft-restore 1.8.9
// decides on its own (no kernel state involved beyond the chains created in
// the namespace first).
var restoreCases = []struct {
	payload  string
	counters bool
}{
	{payload: "*filter\n-A INPUT -j ACCEPT\n"},
	{payload: "-A INPUT -j ACCEPT\n"},
	{payload: "*filter\n-t filter -A INPUT -j ACCEPT\nCOMMIT\n"},
	{payload: "*filter\n-A INPUT -m comment --comment \"a b\" -j ACCEPT\nCOMMIT\n"},
	{payload: "*filter\n-A INPUT -m comment --comment \"a\\\"b\" -j ACCEPT\nCOMMIT\n"},
	{payload: "*filter\n-A INPUT -m comment --comment a\"b c\"d -j ACCEPT\nCOMMIT\n"},
	{payload: "*filter\n-A INPUT -m comment --comment \"abc -j ACCEPT\nCOMMIT\n"},
	{payload: "*filter\n-A INPUT -m comment --comment \"\" -j ACCEPT\nCOMMIT\n"},
	{payload: "*filter\n-A INPUT -m comment --comment \"-test\" -j ACCEPT\nCOMMIT\n"},
	{payload: "*filter\n-A INPUT \"! -s\" 1.2.3.4 -j ACCEPT\nCOMMIT\n"},
	{payload: "*filter\n:FOO - [0:0]\n:FOO - [0:0]\n-A FOO -j ACCEPT\nCOMMIT\n"},
	{payload: "*filter\n:FOO - [x:0]\nCOMMIT\n"},
	{payload: "*filter\n:FOO - [x:0]\nCOMMIT\n", counters: true},
	{payload: "*filter\n[1:2] -A INPUT -j ACCEPT\nCOMMIT\n", counters: true},
	{payload: "*filter\n[1:2] -A INPUT -j ACCEPT\nCOMMIT\n"},
	{payload: "*filter\n[1:x] -A INPUT -j ACCEPT\nCOMMIT\n", counters: true},
	{payload: "*filter\n[12] -A INPUT -j ACCEPT\nCOMMIT\n", counters: true},
	{payload: "*filter\n[1:2 -A INPUT -j ACCEPT\nCOMMIT\n", counters: true},
	{payload: "*filter\n[1:2] -N X\nCOMMIT\n", counters: true},
	{payload: "*filter\n[1:2] -A INPUT -c 3 4 -j ACCEPT\nCOMMIT\n", counters: true},
	{payload: "*filter\n[-1:2] -A INPUT -j ACCEPT\nCOMMIT\n", counters: true},
	{payload: "*filter\n:INPUT\nCOMMIT\n"},
	{payload: "*filter\n:INPUT DROP\nCOMMIT\n"},
	{payload: "*filter\n:INPUT ACCEPT 1:2\nCOMMIT\n", counters: true},
	{payload: "*filter\n:INPUT ACCEPT [1:2] x\nCOMMIT\n", counters: true},
	{payload: "*filter\n:\nCOMMIT\n"},
	{payload: "*filter\n:-foo - [0:0]\nCOMMIT\n"},
	{payload: "*filter\n:ABCDEFGHIJKLMNOPQRSTUVWXYZ012 - [0:0]\nCOMMIT\n"},
	{payload: "*filter\n:ABCDEFGHIJKLMNOPQRSTUVWXYZ01 - [0:0]\nCOMMIT\n"},
	{payload: "*foo\nCOMMIT\n"},
	{payload: "*\nCOMMIT\n"},
	{payload: "*filter\r\nCOMMIT\n"},
	{payload: "*filter\nCOMMIT\r\n"},
	{payload: "*filter\nCOMMIT"},
	{payload: "*filter \nCOMMIT\n"},
	{payload: "*filter\n"},
	{payload: "\n\n#x\n"},
	{payload: "*filter\n*nat\nCOMMIT\n"},
	{payload: "COMMIT\n"},
	{payload: "  *filter\nCOMMIT\n"},
	{payload: ":FOO - [0:0]\n"},
	{payload: "*filter\nFOO\nCOMMIT\n"},
	{payload: "*filter\n  # foo\nCOMMIT\n"},
	{payload: "*filter\n   \nCOMMIT\n"},
	{payload: "*filter\n-A INPUT --foo\nCOMMIT\n"},
	{payload: "*filter\n-A INPUT -w -j ACCEPT\nCOMMIT\n"},
	{payload: "*filter\n-A INPUT -W 5 -j ACCEPT\nCOMMIT\n"},
	{payload: "*filter\n-A INPUT -6 -j ACCEPT\nCOMMIT\n"},
	{payload: "*filter\n-A INPUT -j ACCEPT -t\nCOMMIT\n"},
	{payload: "*filter\n-A INPUT -m comment --comment -ft\nCOMMIT\n"},
	{payload: "*filter\n-A INPUT -j DROP\nCOMMIT\n*filter\n-A INPUT --bad\nCOMMIT\n"},
	{payload: "*raw\nCOMMIT\n*security\nCOMMIT\n*mangle\nCOMMIT\n*broute\nCOMMIT\n"},
	{payload: "*filter\n-N KUBE-NEW\n-A KUBE-NEW -j ACCEPT\n-F KUBE-NEW\n-X KUBE-NEW\nCOMMIT\n"},
	{payload: kubeProxy113IPVS, counters: true},
	{payload: kubeProxyIptablesMode, counters: true},
}

// restoreCasesIPv6 are payloads for ip6tables-nft-restore.
var restoreCasesIPv6 = []string{
	"*filter\n-A INPUT -s fd00::/8 -j ACCEPT\nCOMMIT\n",
	"*filter\n-A INPUT -s 10.0.0.0/8 -j ACCEPT\nCOMMIT\n",
	"*filter\n-4 -A INPUT -s 10.0.0.0/8 -j ACCEPT\nCOMMIT\n",
	"*filter\n-A INPUT -w -j ACCEPT\nCOMMIT\n",
	"*filter\n-t nat\nCOMMIT\n",
	"*nat\n:KUBE-SEP-X - [0:0]\n-A KUBE-SEP-X -p tcp -m tcp -j DNAT --to-destination [fd00::1]:80\nCOMMIT\n",
	"*filter\n-A INPUT -p icmpv6 --icmpv6-type 128 -j ACCEPT\nCOMMIT\n",
	"*filter\n-A INPUT -j REJECT --reject-with icmp6-adm-prohibited\nCOMMIT\n",
	"*filter\n",
}

// TestDifferentialRestoreIPv6 is TestDifferentialRestore for ip6tables.
func TestDifferentialRestoreIPv6(t *testing.T) {
	netnstest.Require(t, "ip6tables-nft-restore")
	ns := netnstest.New(t)
	for _, payload := range restoreCasesIPv6 {
		real := ns.RunStdin(payload, "ip6tables-nft-restore", "--noflush")
		_, err := ParseRestore(strings.NewReader(payload), IPv6)
		compareRestore(t, payload, real, err, "ip6tables-nft-restore", "ip6tables-restore")
	}
}

// TestDifferentialRestore compares ParseRestoreWith with iptables-nft-restore
// --test: parameter problems (exit 2) and restore's own exit-1 messages must
// match in class and text; what it accepts we must accept.
func TestDifferentialRestore(t *testing.T) {
	netnstest.Require(t, "iptables-nft-restore", "iptables-nft", "ipset")
	ns := netnstest.New(t)
	ns.MustRun("iptables-nft", "-N", "FOO")
	ns.MustRun("iptables-nft", "-t", "nat", "-N", "KUBE-MARK-DROP")
	ns.MustRun("ipset", "create", "KUBE-LOOP-BACK", "hash:ip,port,ip")
	ns.MustRun("ipset", "create", "KUBE-CLUSTER-IP", "hash:ip,port")
	for _, c := range restoreCases {
		args := []string{"--noflush"}
		if c.counters {
			args = append(args, "--counters")
		}
		real := ns.RunStdin(c.payload, "iptables-nft-restore", args...)
		_, err := ParseRestoreWith(strings.NewReader(c.payload), RestoreOptions{Family: IPv4, Counters: c.counters})
		compareRestore(t, c.payload, real, err, "iptables-nft-restore", "iptables-restore")
	}
}

// compareRestore checks one payload's outcome against the real tool's.
// The real tool runs as realProg and we format as prog (the name callers
// invoke), so realProg is renamed in its output.
func compareRestore(t *testing.T, payload string, real netnstest.Result, err error, realProg, prog string) {
	t.Helper()
	stderr := strings.ReplaceAll(real.Stderr, realProg, prog)
	switch {
	case real.Code == 0:
		if err != nil {
			t.Errorf("%q: %s accepted it, we refused: %v", payload, realProg, err)
		}
	case err == nil:
		// Exit 1 with "line N failed: <kernel reason>" is a commit
		// failure, not a parse problem.
		if real.Code == 2 || !strings.Contains(real.Stderr, "failed:") {
			t.Errorf("%q: %s exit %d (%q), we accepted it", payload, realProg, real.Code, real.Stderr)
		}
	case ipterr.ClassOf(err) != ipterr.Class(real.Code):
		t.Errorf("%q: %s exit %d (%q), we returned class %d: %v", payload, realProg, real.Code, real.Stderr, ipterr.ClassOf(err), err)
	default:
		if got := FormatError(prog, "", err); got != stderr {
			t.Errorf("%q: message differs\n got: %q\nwant: %q", payload, got, stderr)
		}
	}
}
