package native

import (
	"errors"

	"github.com/iptables-shim/iptables-shim/shim/nftread"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// Supports reports, without touching the kernel, whether the native backend
// handles every line of a restore payload: nil when it does, otherwise an
// error (exit 2) naming the first line and the unsupported command, match
// or target. The router calls it first and hands unsupported payloads to a
// real iptables-nft when the host has one.
//
// Other problems (a missing chain, a bad address) are not reported here:
// they depend on kernel state, and the real run reports them as iptables
// would.
//
// Supports takes the payload for one without --noflush; SupportsRestore
// knows the flag.
func Supports(p *syntax.Payload) error { return SupportsRestore(p, false) }

// SupportsRestore is Supports for a restore with or without --noflush
// (which decides whether lines acting on a chain's existing rules can be
// carried out; see positional.go).
func SupportsRestore(p *syntax.Payload, noflush bool) error {
	declared := map[string]bool{}
	for _, l := range p.Lines {
		if l.Kind == syntax.LineChain {
			declared[l.Chain.Name] = true
		}
		if l.Kind == syntax.LineCommand && l.Cmd.Op == syntax.OpNewChain {
			declared[l.Cmd.Chain] = true
		}
	}
	protos := nftread.LoadProtocols("/etc/protocols")
	var models ruleModels
	for i := range p.Lines {
		l := &p.Lines[i]
		isCmd := l.Kind == syntax.LineCommand && !l.Cmd.Ignored
		if isCmd {
			err := supportsCommand(p.Family, l.Cmd, declared, protos)
			if err == nil {
				err = models.checkStatic(l.Cmd)
			}
			if err != nil {
				return nftread.AtLine(err, l.Num)
			}
		}
		if !isCmd || !numbered(l.Cmd) {
			models.note(l, noflush)
		}
	}
	return nil
}

func supportsCommand(fam syntax.Family, c *syntax.Command, declared map[string]bool, protos *nftread.Protocols) error {
	if err := refuseCommand(c, true); err != nil {
		return err
	}
	return ruleSupported(fam, c, declared, protos)
}

// SupportsCommand is Supports for one iptables command: nil when the
// native backend carries it out, otherwise an unsupported error (exit 2)
// naming what it does not handle.
func SupportsCommand(fam syntax.Family, c *syntax.Command) error {
	if c.Ignored {
		return nil
	}
	if err := commandSupported(c); err != nil {
		return err
	}
	return ruleSupported(fam, c, nil, nftread.LoadProtocols("/etc/protocols"))
}

// ruleSupported checks the rule of c, if any, for what the encoder
// refuses as unsupported.
func ruleSupported(fam syntax.Family, c *syntax.Command, declared map[string]bool, protos *nftread.Protocols) error {
	if c.Rule == nil {
		return nil
	}
	env := &ruleEnv{
		fam: fam, table: c.Table, chain: c.Chain, protos: protos, ipsets: anyIPSet{},
		// Chains that exist only in the kernel are unknown here, so
		// every name that could be a chain is taken for one.
		isChain: func(name string) bool { return declared[name] || !looksLikeExtension(name) },
	}
	_, err := encodeRule(env, c.Rule)
	if err != nil && nftread.IsUnsupported(err) {
		return err
	}
	return nil
}

// anyIPSet resolves every set name, so Supports judges -m set by its
// options alone.
type anyIPSet struct{}

func (anyIPSet) Index(string) (uint16, error) { return 0, nil }
func (anyIPSet) Name(uint16) (string, error) {
	return "", errors.New("no set names without the kernel")
}
