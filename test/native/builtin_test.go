package native_test

import "testing"

// builtinScript drives the commands around built-in chains that iptables-nft
// 1.8.9 treats specially: -X of a built-in chain (refused while its policy
// is not ACCEPT, sent to the kernel otherwise), -X without a chain (user
// chains, plus empty ACCEPT built-ins, in iptables-nft's order, reporting
// the first refusal), -F of a missing built-in chain (created), -F and -X
// with -v (the notes, printed even when the kernel refuses), -Z with a rule
// number on a missing chain, -E of a built-in chain (renamed: it then
// becomes invisible to writes), -P on a user chain and -N of an existing
// name. Before, `-X FORWARD` deleted the base chain with its DROP policy
// and exited 0; iptables-nft exits 1 with "Directory not empty.".
var builtinScript = []string{
	"-P FORWARD DROP", "-X FORWARD", "-S",
	"-X INPUT", "-A INPUT -j ACCEPT", "-X INPUT",
	"-N FOO", "-N FOO", "-N INPUT", "-A FOO -j ACCEPT", "-N BAR", "-A INPUT -j BAR",
	"-X BAR", "-X FOO", "-X", "-v -X", "-S",
	"-P FOO DROP", "-P BAR ACCEPT", "-P NOPE ACCEPT",
	"-F INPUT", "-F OUTPUT", "-Z INPUT", "-Z OUTPUT", "-Z FORWARD", "-Z FORWARD 1", "-Z FOO 99",
	"-F", "-X", "-S",
	"-N ZZ", "-N MM", "-A ZZ -j ACCEPT", "-A MM -j ACCEPT", "-X", "-v -X", "-v -F", "-v -X",
	"-P OUTPUT DROP", "-v -X", "-X OUTPUT", "-v -X OUTPUT", "-P OUTPUT ACCEPT", "-X OUTPUT", "-S",
	"-t nat -X PREROUTING", "-t nat -S", "-t nat -X", "-t nat -F PREROUTING", "-t nat -Z PREROUTING",
	"-t nat -N A", "-t nat -N B", "-t nat -v -X", "-t nat -A POSTROUTING -j ACCEPT", "-t nat -X POSTROUTING",
	"-t nat -v -F", "-t nat -v -X", "-t nat -v -F NOPE", "-t nat -F NOPE",
	"-t mangle -F INPUT", "-t raw -F", "-t raw -Z", "-t security -v -Z", "-t raw -N FOO", "-t raw -X OUTPUT",
	"-t mangle -P FOO DROP", "-t mangle -E PREROUTING PR",
	// A renamed base chain is no longer iptables-nft's: writes do not
	// see it, but -F without -v empties it with the rest of the table.
	"-A INPUT -j ACCEPT", "-E INPUT X", "-F X", "-X X", "-N X", "-A INPUT -j ACCEPT", "-F", "-X",
}

func TestBuiltinChainsDifferential(t *testing.T) {
	p := newPair(t)
	for _, l := range builtinScript {
		p.both("iptables", l)
		p.state(l)
	}
	p.report()
}
