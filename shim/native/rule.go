package native

import (
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"github.com/iptables-shim/iptables-shim/shim/nftread"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
	"github.com/iptables-shim/iptables-shim/shim/xt"
)

// encodedRule is a rule as NEWRULE carries it.
type encodedRule struct {
	exprs []expr.Any
	// proto and invProto fill NFTA_RULE_COMPAT, which the kernel needs to
	// validate xt matches and targets that depend on the protocol.
	proto    uint32
	invProto bool
	// needs lists the xt extensions (compat forms) the rule uses, so their
	// revisions can be probed before anything is sent.
	needs []extRev
	// warnings are what iptables 1.8.9 prints on standard error while
	// it parses the rule's extensions (xt.ParseWarnings), in order.
	warnings []string
}

// extRev names one x_tables extension revision.
type extRev struct {
	name   string
	rev    uint8
	target bool
}

// ruleEnv is what encoding a rule needs to know beyond the rule.
type ruleEnv struct {
	fam    syntax.Family
	table  string
	chain  string
	protos *nftread.Protocols
	ipsets xt.IPSetResolver
	// isChain reports whether name is a user chain of the table at this
	// point of the transaction (a jump target).
	isChain func(name string) bool
	// counters says whether the rule's [p:b] is applied (restore -c).
	counters bool
	// dialect is the iptables-nft encoding to write (dialect.go).
	dialect dialect.Dialect
}

func (env *ruleEnv) xtContext(r *syntax.Rule) xt.Context {
	return xt.Context{Family: env.fam, Table: env.table, Chain: env.chain, Protocol: r.Protocol, IPSets: env.ipsets, Dialect: env.dialect}
}

// encodeRule builds a rule's expressions in iptables-nft 1.8.9's order:
// iifname, oifname, l4proto, saddr, daddr, fragment, the matches in
// command-line order, the counter, then the verdict or target; or in the
// order and forms of env's dialect (dialectwrite.go).
func encodeRule(env *ruleEnv, r *syntax.Rule) (encodedRule, error) {
	var out encodedRule
	add := func(es ...expr.Any) { out.exprs = append(out.exprs, es...) }
	// The base matches, each kept apart so the dialect can order them.
	var base baseExprs
	for i, f := range []struct {
		field syntax.Field
		key   expr.MetaKey
	}{{r.InIface, expr.MetaKeyIIFNAME}, {r.OutIface, expr.MetaKeyOIFNAME}} {
		if !f.field.Set {
			continue
		}
		es, err := ifaceExprs(f.key, f.field)
		if err != nil {
			return out, err
		}
		base.iface[i] = es
	}
	if r.Protocol.Set {
		n, ok := env.protos.Number(r.Protocol.Value)
		if !ok {
			return out, nftread.Paramf("unknown protocol \"%s\" specified", r.Protocol.Value)
		}
		out.proto, out.invProto = uint32(n), r.Protocol.Invert
		if n != 0 {
			base.proto = protoExprs(env, n, r.Protocol.Invert)
		}
	}
	srcOff, dstOff := nftread.AddrOffsets(env.fam)
	for i, f := range []struct {
		field syntax.Field
		off   uint32
	}{{r.Source, srcOff}, {r.Dest, dstOff}} {
		if !f.field.Set {
			continue
		}
		am, err := nftread.ParseAddrMask(env.fam, f.field.Value)
		if err != nil {
			return out, err
		}
		base.addr[i] = addrExprs(f.off, am, f.field.Invert)
	}
	if r.Fragment.Set {
		if env.fam == syntax.IPv6 {
			return out, nftread.Paramf("unknown option \"-f\"")
		}
		base.frag = fragExprs(r.Fragment.Invert)
	}
	add(base.ordered(env.dialect)...)
	ctx := env.xtContext(r)
	for _, m := range r.Matches {
		ext, err := xt.ParseMatch(ctx, m)
		if err != nil && !m.Known && !syntax.ExtensionShipped(m.Name, false, env.fam) {
			// iptables 1.8.9 has no such match either: its own
			// refusal, whoever would run the rule.
			return out, nftread.Paramf("Couldn't load match `%s':No such file or directory\n", m.Name)
		}
		if err != nil {
			return out, err
		}
		if err := dialectRefusesMatch(env.dialect, m); err != nil {
			return out, err
		}
		es, err := ext.Exprs(ctx)
		if err != nil {
			return out, err
		}
		if m, rev, ok := dialectCompat(env.dialect, ext); ok {
			add(m)
			out.needs = append(out.needs, extRev{name: m.Name, rev: rev})
			continue
		}
		add(es...)
		out.noteRevision(ext)
	}
	cnt := &expr.Counter{}
	// ip6tables-nft before 1.8.11 drops a rule's own counters (-c, and
	// [p:b] in a restore): its IPv6 rule builder never copied them.
	ip6DropsCounters := env.fam == syntax.IPv6 && env.dialect.Or() != dialect.V1811
	if env.counters && r.Counters != nil && !ip6DropsCounters {
		cnt.Packets, cnt.Bytes = r.Counters.Packets, r.Counters.Bytes
	}
	add(cnt)
	if r.Target == nil {
		return out, nil
	}
	v, err := verdictFor(env, r.Target)
	if err != nil {
		return out, err
	}
	if v != nil {
		add(v)
		return out, nil
	}
	ext, err := xt.ParseTarget(ctx, *r.Target)
	if err != nil {
		return out, err
	}
	if err := dialectRefusesTarget(env.dialect, r.Target, ext); err != nil {
		return out, err
	}
	out.warnings = append(out.warnings, xt.ParseWarnings(ext)...)
	if t, rev, ok := dialectCompatTarget(env.dialect, ext); ok {
		add(t)
		out.needs = append(out.needs, extRev{name: t.Name, rev: rev, target: true})
		return out, nil
	}
	es, err := ext.Exprs(ctx)
	if err != nil {
		return out, err
	}
	add(es...)
	out.noteRevision(ext)
	return out, nil
}

func (out *encodedRule) noteRevision(ext xt.Ext) {
	if name, rev, target, compat := ext.Revision(); compat {
		out.needs = append(out.needs, extRev{name: name, rev: rev, target: target})
	}
}

// verdictFor returns the immediate verdict for a standard target or a
// jump/goto to a user chain, or nil when the target is an extension. As in
// iptables, a target extension's name wins over a chain's.
func verdictFor(env *ruleEnv, t *syntax.Target) (expr.Any, error) {
	switch t.Name {
	case "ACCEPT":
		return &expr.Verdict{Kind: expr.VerdictAccept}, nil
	case "DROP":
		if env.table == "nat" {
			return nil, natDropError()
		}
		return &expr.Verdict{Kind: expr.VerdictDrop}, nil
	case "RETURN":
		return &expr.Verdict{Kind: expr.VerdictReturn}, nil
	case "QUEUE":
		return nil, refuseTarget.err(t.Name)
	}
	if t.Known && !t.Goto {
		return nil, nil
	}
	if env.isChain(t.Name) {
		if len(t.Options) > 0 {
			return nil, nftread.Paramf("unknown option \"%s\"", "--"+t.Options[0].Name)
		}
		kind := expr.VerdictJump
		if t.Goto {
			kind = expr.VerdictGoto
		}
		return &expr.Verdict{Kind: kind, Chain: t.Name}, nil
	}
	if len(t.Options) > 0 || (looksLikeExtension(t.Name) && syntax.ExtensionShipped(t.Name, true, env.fam)) {
		// A target extension iptables 1.8.9 has and this shim does not
		// encode: a real iptables-nft may load it. A name 1.8.9 does
		// not ship (a typo such as ACCPET) is a chain to it.
		return nil, refuseTarget.err(t.Name)
	}
	return nil, &missingChainError{nftread.Paramf("Chain '%s' does not exist", t.Name)}
}

// missingChainError is a jump to a chain that does not exist. iptables-nft
// only notices it when it builds the batch at COMMIT, so it reports the
// COMMIT line; the planner defers it the same way.
type missingChainError struct{ error }

func (e *missingChainError) Unwrap() error { return e.error }

// looksLikeExtension tells names that could be target extensions (all
// capitals and digits, like NOTRACK or TCPMSS) from chain names, which the
// callers this shim serves spell with dashes (KUBE-MARK-DROP) or lower case.
func looksLikeExtension(name string) bool {
	for _, c := range name {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// natDropError is iptables' refusal of DROP (as a target or a policy) in
// the nat table.
func natDropError() error {
	return nftread.Paramf("\nThe \"nat\" table is not intended for filtering, the use of DROP is therefore inhibited.\n\n")
}

func cmpOp(invert bool) expr.CmpOp {
	if invert {
		return expr.CmpOpNeq
	}
	return expr.CmpOpEq
}

// ifaceExprs matches an interface name; "eth+" compares the prefix only
// (no NUL), a full name compares it with its NUL.
func ifaceExprs(key expr.MetaKey, f syntax.Field) ([]expr.Any, error) {
	name := f.Value
	if len(name) >= unix.IFNAMSIZ {
		return nil, nftread.Paramf("interface name `%s' must be shorter than IFNAMSIZ (%d)", name, unix.IFNAMSIZ-1)
	}
	load := &expr.Meta{Key: key, Register: 1}
	if n := len(name); n > 0 && name[n-1] == '+' {
		if n == 1 {
			if f.Invert {
				// "! -i +" matches no interface: iptables-nft
				// (1.8.9 and 1.8.11) compares the name with one
				// no interface can have.
				return []expr.Any{load, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte(nftread.NoInterface)}}, nil
			}
			// "+" matches every interface: iptables-nft emits the load only.
			return []expr.Any{load}, nil
		}
		return []expr.Any{load, &expr.Cmp{Op: cmpOp(f.Invert), Register: 1, Data: []byte(name[:n-1])}}, nil
	}
	return []expr.Any{load, &expr.Cmp{Op: cmpOp(f.Invert), Register: 1, Data: append([]byte(name), 0)}}, nil
}

// addrExprs is libxtables' add_addr: load the bytes the mask covers
// completely; a mask that is not all-ones-then-all-zeros on byte boundaries
// loads the whole address and masks it with a bitwise.
func addrExprs(off uint32, am nftread.AddrMask, invert bool) []expr.Any {
	n := len(am.Mask)
	i := 0
	for i < n && am.Mask[i] == 0xff {
		i++
	}
	bitwise := false
	for j := i; j < n; j++ {
		if am.Mask[j] != 0 {
			bitwise = true
		}
	}
	l := n
	if !bitwise {
		l = i
	}
	if l == 0 && !invert {
		return nil
	}
	es := []expr.Any{&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: uint32(l)}}
	if bitwise {
		es = append(es, &expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: uint32(l), Mask: am.Mask, Xor: make([]byte, l)})
	}
	return append(es, &expr.Cmp{Op: cmpOp(invert), Register: 1, Data: am.Addr[:l]})
}

// fragExprs matches non-first fragments: the 13-bit fragment offset of
// the IPv4 header is not zero (zero with "!").
func fragExprs(invert bool) []expr.Any {
	op := expr.CmpOpNeq
	if invert {
		op = expr.CmpOpEq
	}
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 6, Len: 2},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 2, Mask: []byte{0x1f, 0xff}, Xor: []byte{0, 0}},
		&expr.Cmp{Op: op, Register: 1, Data: []byte{0, 0}},
	}
}
