package native

import (
	"errors"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// runWith plans a single command into the transaction: first the chains
// the missing-chain guard gives it (nil for none), then the command, or the
// commands its host names and address lists expand to.
func (r *cmdRun) runWith(guardChains *syntax.Payload, cmds []*syntax.Command) error {
	// -v prints what iptables prints about the command, never about the
	// guard's chains.
	verbose := r.p.verbose
	r.p.verbose = false
	err := r.planGuardChains(guardChains)
	r.p.verbose = verbose
	if err != nil {
		return err
	}
	if err := r.targetFirst(); err != nil {
		return err
	}
	return r.runEach(cmds)
}

// planGuardChains adds the chains the missing-chain guard gives a single
// command (backend.Call.GuardChains) to the command's own transaction,
// ahead of the command, so that both commit together or not at all. A
// chain that exists by now (another writer made it since the guard looked)
// is left alone, and so is every line about it or jumping to it.
func (r *cmdRun) planGuardChains(pl *syntax.Payload) error {
	if pl == nil {
		return nil
	}
	exists := map[chainKey]bool{}
	for _, l := range pl.Lines {
		if l.Kind != syntax.LineChain {
			continue
		}
		if t := r.st.Tables[l.Table]; t != nil && t.Chains[l.Chain.Name] != nil {
			exists[chainKey{l.Table, l.Chain.Name}] = true
		}
	}
	kept := &syntax.Payload{Family: pl.Family, Lines: make([]syntax.Line, 0, len(pl.Lines))}
	for _, l := range pl.Lines {
		switch l.Kind {
		case syntax.LineTable, syntax.LineCommit:
			// One transaction with the command: no section of their
			// own (a COMMIT would close one).
			continue
		case syntax.LineChain:
			if exists[chainKey{l.Table, l.Chain.Name}] {
				continue
			}
		case syntax.LineCommand:
			c := l.Cmd
			if exists[chainKey{l.Table, c.Chain}] || (c.Rule != nil && c.Rule.Target != nil && exists[chainKey{l.Table, c.Rule.Target.Name}]) {
				continue
			}
		}
		kept.Lines = append(kept.Lines, l)
	}
	single := r.p.single
	r.p.single = false
	defer func() { r.p.single = single }()
	return r.p.plan(kept)
}

// targetFirst reports a rule's jump to a chain that does not exist before
// anything else about the command, as iptables-nft does: it resolves the
// target while parsing, before it looks at the rule's own chain, so
// "-A NOPE -j MISSING" fails on MISSING (exit 2), not on NOPE.
func (r *cmdRun) targetFirst() error {
	cmd := r.cmd
	switch cmd.Op {
	case syntax.OpAppend, syntax.OpInsert, syntax.OpReplace, syntax.OpCheck, syntax.OpDelete:
	default:
		return nil
	}
	if cmd.Rule == nil || cmd.Rule.Target == nil {
		return nil
	}
	vt := r.p.table(cmd.Table)
	env := &ruleEnv{fam: r.call.Family, table: cmd.Table, chain: cmd.Chain, protos: r.protos,
		isChain: func(name string) bool { base, ok := vt.chains[name]; return ok && !base }}
	_, err := verdictFor(env, cmd.Rule.Target)
	var mc *missingChainError
	if errors.As(err, &mc) {
		return mc.error
	}
	return nil
}
