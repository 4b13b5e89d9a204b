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
// each -I N puts its rule at the same position N, so the last address ends
// up first. iptables-nft places the second rule before the first one by
// its in-batch id; putting every rule right after the rule now at N-1
// gives the same order and the same rule handles.
func (r *cmdRun) runEach(cmds []*syntax.Command) error {
	first := cmds[0]
	if len(cmds) > 1 && first.Op == syntax.OpInsert && first.RuleNum > 1 {
		r.cmd = first
		rules, err := r.chainRules(first.Chain)
		if err != nil {
			return err
		}
		if n := first.RuleNum - 1; n <= len(rules) {
			after := rules[n-1].Handle
			for _, c := range cmds {
				r.cmd, r.p.at = c, &rulePlace{appendIt: true, ref: after}
				if err := r.planRule(); err != nil {
					return err
				}
			}
			return nil
		}
		// Past the end: run reports it as iptables does.
	}
	for _, c := range cmds {
		r.cmd, r.p.at = c, nil
		if err := r.run(); err != nil {
			return err
		}
	}
	return nil
}
