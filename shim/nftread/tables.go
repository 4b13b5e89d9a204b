package nftread

import (
	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// BuiltinChain is a base chain iptables-nft creates for a table.
type BuiltinChain struct {
	// Name, Hook and Prio are the chain's as iptables-nft creates it.
	Name string
	Hook uint32
	Prio int32
	// Type is the nf_tables chain type: "filter", "nat" or "route".
	Type string
}

// TableSpec is one of the five iptables tables with its base chains in the
// order iptables-nft-save prints them.
type TableSpec struct {
	// Name is the table's name; Chains its built-in chains in iptables'
	// order.
	Name   string
	Chains []BuiltinChain
}

// iptablesTables lists the tables in the order iptables-nft-save prints
// them (its table array order, verified against the real tool).
var iptablesTables = []TableSpec{
	{"mangle", []BuiltinChain{
		{"PREROUTING", unix.NF_INET_PRE_ROUTING, -150, "filter"},
		{"INPUT", unix.NF_INET_LOCAL_IN, -150, "filter"},
		{"FORWARD", unix.NF_INET_FORWARD, -150, "filter"},
		{"OUTPUT", unix.NF_INET_LOCAL_OUT, -150, "route"},
		{"POSTROUTING", unix.NF_INET_POST_ROUTING, -150, "filter"},
	}},
	{"security", []BuiltinChain{
		{"INPUT", unix.NF_INET_LOCAL_IN, 150, "filter"},
		{"FORWARD", unix.NF_INET_FORWARD, 150, "filter"},
		{"OUTPUT", unix.NF_INET_LOCAL_OUT, 150, "filter"},
	}},
	{"raw", []BuiltinChain{
		{"PREROUTING", unix.NF_INET_PRE_ROUTING, -300, "filter"},
		{"OUTPUT", unix.NF_INET_LOCAL_OUT, -300, "filter"},
	}},
	{"filter", []BuiltinChain{
		{"INPUT", unix.NF_INET_LOCAL_IN, 0, "filter"},
		{"FORWARD", unix.NF_INET_FORWARD, 0, "filter"},
		{"OUTPUT", unix.NF_INET_LOCAL_OUT, 0, "filter"},
	}},
	{"nat", []BuiltinChain{
		{"PREROUTING", unix.NF_INET_PRE_ROUTING, -100, "nat"},
		{"INPUT", unix.NF_INET_LOCAL_IN, 100, "nat"},
		{"OUTPUT", unix.NF_INET_LOCAL_OUT, -100, "nat"},
		{"POSTROUTING", unix.NF_INET_POST_ROUTING, 100, "nat"},
	}},
}

// LookupTable returns the spec of an iptables table, nil if unknown.
func LookupTable(name string) *TableSpec {
	for i := range iptablesTables {
		if iptablesTables[i].Name == name {
			return &iptablesTables[i]
		}
	}
	return nil
}

// Builtin returns the base chain spec of chain in t, nil for a user chain.
func (t *TableSpec) Builtin(chain string) *BuiltinChain {
	for i := range t.Chains {
		if t.Chains[i].Name == chain {
			return &t.Chains[i]
		}
	}
	return nil
}

// NFProto is the nf_tables family byte of an iptables family.
func NFProto(f syntax.Family) uint8 {
	if f == syntax.IPv6 {
		return unix.NFPROTO_IPV6
	}
	return unix.NFPROTO_IPV4
}

// MaxChainName is the longest chain name iptables accepts
// (XT_EXTENSION_MAXNAMELEN - 1).
const MaxChainName = 28

// Policy values of base chains as nf_tables stores them.
const (
	PolicyDrop   = 0
	PolicyAccept = 1
	// PolicyNone sends a base chain without NFTA_CHAIN_POLICY (a restore's
	// ":INPUT - [0:0]").
	PolicyNone = ^uint32(0)
)
