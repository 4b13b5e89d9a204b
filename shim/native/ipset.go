package native

import (
	"github.com/iptables-shim/iptables-shim/shim/syntax"
	"github.com/iptables-shim/iptables-shim/shim/xt/ipset"
)

// kernelIPSets resolves ipset names of one family in the calling thread's
// network namespace, with shim/xt/ipset (which refuses a set of the other
// family as libxt_set does). Each question opens its own socket: a call
// asks few, and the socket must be opened in the namespace of the thread
// asking.
type kernelIPSets struct{ fam syntax.Family }

// Index returns the kernel index of the named set.
func (k kernelIPSets) Index(name string) (uint16, error) {
	r, err := ipset.Open(k.fam)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	return r.Index(name)
}

// Name returns the name of the set with index idx.
func (k kernelIPSets) Name(idx uint16) (string, error) {
	r, err := ipset.Open(k.fam)
	if err != nil {
		return "", err
	}
	defer r.Close()
	return r.Name(idx)
}
