package native

import (
	"github.com/iptables-shim/iptables-shim/shim/syntax"
	"golang.org/x/sys/unix"
)

// builtinChain is a base chain iptables-nft creates for a table.
type builtinChain struct {
	name string
	hook uint32
	prio int32
	// typ is the nf_tables chain type: "filter", "nat" or "route".
	typ string
}

// tableSpec is one of the five iptables tables with its base chains in the
// order iptables-nft-save prints them.
type tableSpec struct {
	name   string
	chains []builtinChain
}

// iptablesTables lists the tables in the order iptables-nft-save prints
// them (its table array order, verified against the real tool).
var iptablesTables = []tableSpec{
	{"mangle", []builtinChain{
		{"PREROUTING", unix.NF_INET_PRE_ROUTING, -150, "filter"},
		{"INPUT", unix.NF_INET_LOCAL_IN, -150, "filter"},
		{"FORWARD", unix.NF_INET_FORWARD, -150, "filter"},
		{"OUTPUT", unix.NF_INET_LOCAL_OUT, -150, "route"},
		{"POSTROUTING", unix.NF_INET_POST_ROUTING, -150, "filter"},
	}},
	{"security", []builtinChain{
		{"INPUT", unix.NF_INET_LOCAL_IN, 150, "filter"},
		{"FORWARD", unix.NF_INET_FORWARD, 150, "filter"},
		{"OUTPUT", unix.NF_INET_LOCAL_OUT, 150, "filter"},
	}},
	{"raw", []builtinChain{
		{"PREROUTING", unix.NF_INET_PRE_ROUTING, -300, "filter"},
		{"OUTPUT", unix.NF_INET_LOCAL_OUT, -300, "filter"},
	}},
	{"filter", []builtinChain{
		{"INPUT", unix.NF_INET_LOCAL_IN, 0, "filter"},
		{"FORWARD", unix.NF_INET_FORWARD, 0, "filter"},
		{"OUTPUT", unix.NF_INET_LOCAL_OUT, 0, "filter"},
	}},
	{"nat", []builtinChain{
		{"PREROUTING", unix.NF_INET_PRE_ROUTING, -100, "nat"},
		{"INPUT", unix.NF_INET_LOCAL_IN, 100, "nat"},
		{"OUTPUT", unix.NF_INET_LOCAL_OUT, -100, "nat"},
		{"POSTROUTING", unix.NF_INET_POST_ROUTING, 100, "nat"},
	}},
}

// lookupTable returns the spec of an iptables table, nil if unknown.
func lookupTable(name string) *tableSpec {
	for i := range iptablesTables {
		if iptablesTables[i].name == name {
			return &iptablesTables[i]
		}
	}
	return nil
}

// builtin returns the base chain spec of chain in t, nil for a user chain.
func (t *tableSpec) builtin(chain string) *builtinChain {
	for i := range t.chains {
		if t.chains[i].name == chain {
			return &t.chains[i]
		}
	}
	return nil
}

// nfproto is the nf_tables family byte of an iptables family.
func nfproto(f syntax.Family) uint8 {
	if f == syntax.IPv6 {
		return unix.NFPROTO_IPV6
	}
	return unix.NFPROTO_IPV4
}

// maxChainName is the longest chain name iptables accepts
// (XT_EXTENSION_MAXNAMELEN - 1).
const maxChainName = 28

// Policy values of base chains as nf_tables stores them.
const (
	policyDrop   = 0
	policyAccept = 1
	// policyNone sends a base chain without NFTA_CHAIN_POLICY (a restore's
	// ":INPUT - [0:0]").
	policyNone = ^uint32(0)
)
