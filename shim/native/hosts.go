package native

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// lookupHost resolves a -s/-d host name as iptables does through
// getaddrinfo: /etc/hosts, then DNS, addresses of the family only.
func lookupHost(host string, fam syntax.Family) ([]netip.Addr, error) {
	network := "ip4"
	if fam == syntax.IPv6 {
		network = "ip6"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return net.DefaultResolver.LookupNetIP(ctx, network, host)
}

// runEach plans, in the command's one transaction, the commands that -s
// and -d with host names or address lists expand to (see
// syntax.ExpandAddresses), in the order iptables-nft carries them out:
// each -I puts its rule at the same position, so that the last address
// ends up first; inserting after the last rule (-I N with N one past the
// end) places each right after that rule, which gives the same order when
// they go in as given.
func (r *cmdRun) runEach(cmds []*syntax.Command) error {
	if len(cmds) == 1 {
		r.cmd = cmds[0]
		return r.run()
	}
	order := cmds
	if c := cmds[0]; c.Op == syntax.OpInsert && c.RuleNum > 1 {
		r.cmd = c
		rules, err := r.chainRules(c.Chain)
		if err != nil {
			return err
		}
		if c.RuleNum-1 < len(rules) {
			order = make([]*syntax.Command, len(cmds))
			for i, c := range cmds {
				order[len(cmds)-1-i] = c
			}
		}
	}
	for _, c := range order {
		r.cmd, r.p.at = c, nil
		if err := r.run(); err != nil {
			return err
		}
	}
	return nil
}
