package xt

import (
	"testing"

	"github.com/iptables-shim/iptables-shim/shim/extopts"
	"github.com/iptables-shim/iptables-shim/shim/netfilter"
)

// TestParsersHaveTableEntries checks that every extension this package
// parses has its options described in the one extension option table
// (shim/extopts), which the command-line parser reads them by and which
// tableExclusive takes libxtables' option order from.
func TestParsersHaveTableEntries(t *testing.T) {
	known := func(name string, target bool) bool {
		return extopts.Lookup(name, target, netfilter.IPv4) != nil || extopts.Lookup(name, target, netfilter.IPv6) != nil
	}
	for name := range matchParsers() {
		if !known(name, false) {
			t.Errorf("match %s: parsed here, but shim/extopts has no entry", name)
		}
	}
	for name := range targetParsers() {
		if !known(name, true) {
			t.Errorf("target %s: parsed here, but shim/extopts has no entry", name)
		}
	}
}
