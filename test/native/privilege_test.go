package native_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// unprivileged runs prog of tl without any capability (root's uid, but
// no CAP_NET_ADMIN), as a caller that is not root meets the kernel.
func (tl tool) unprivileged(stdin, prog string, args ...string) netnstest.Result {
	o := netnstest.RunOpts{Env: tl.env}
	if stdin != "" {
		o.Stdin = strings.NewReader(stdin)
	}
	argv := append([]string{"--inh-caps=-all", "--bounding-set=-all", filepath.Join(tl.dir, prog)}, args...)
	return tl.ns.RunWith(o, "/usr/bin/setpriv", argv...)
}

// TestWithoutPrivilege compares what a caller without CAP_NET_ADMIN reads:
// iptables-nft fails its first request with "Could not fetch rule set
// generation id: Permission denied (you must be root)", exit 4, no "Try"
// line. Before, the native backend printed "reading the ruleset
// generation: operation not permitted" with a "Try" line.
func TestWithoutPrivilege(t *testing.T) {
	netnstest.Require(t, "setpriv")
	p := newPair(t)
	calls := []struct{ stdin, prog, args string }{
		{"", "iptables", "-S"},
		{"", "iptables", "-L -n"},
		{"", "iptables", "-S INPUT"},
		{"", "iptables", "-A INPUT -j ACCEPT"},
		{"", "iptables", "-N FOO"},
		{"", "iptables", "-X"},
		{"", "ip6tables", "-I INPUT 2 -j ACCEPT"},
		{"", "iptables-save", ""},
		{"*filter\n-A INPUT -j ACCEPT\nCOMMIT\n", "iptables-restore", ""},
		{"*filter\n-A INPUT -j ACCEPT\nCOMMIT\n", "iptables-restore", "--noflush"},
	}
	for _, c := range calls {
		args := words(t, c.args)
		ref, mine := p.ref.unprivileged(c.stdin, c.prog, args...), p.mine.unprivileged(c.stdin, c.prog, args...)
		p.compared++
		if ref != mine {
			p.failed++
			t.Errorf("%s %s without CAP_NET_ADMIN:\nreal iptables-nft: %s\nshim (native):     %s", c.prog, c.args, ref, mine)
		}
	}
	p.report()
}
