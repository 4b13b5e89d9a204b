package native

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/nfnl"
	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"github.com/iptables-shim/iptables-shim/shim/nftread"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
	"github.com/iptables-shim/iptables-shim/shim/xt"
)

// Fingerprinting the host's dialect from the rules its own tools wrote:
// kubelet's KUBE-FIREWALL (-m mark) and KUBE-MARK-* chains, kube-proxy's
// port matches, anything with a -p. An xt mark/tcp/udp match that 1.8.8 and
// later would write natively was written by 1.8.7 or older; a native one by
// 1.8.8 or later; an IPv4 -p loaded from the IP header, or addresses before
// interfaces, by 1.8.11.

// fingerprintTables are looked at in this order: filter first, where
// kubelet's KUBE-FIREWALL lives and which is small.
var fingerprintTables = []string{"filter", "mangle", "raw", "security", "nat"}

// maxFingerprintRules bounds the rules decoded, so a call on a host with a
// huge nat table pays for a thousand rules at most.
const maxFingerprintRules = 1000

// HostDialect fingerprints the rules of the network namespace the calling
// thread is in, for one family. A finding without a dialect means the rules
// do not tell (there may be none).
func HostDialect(fam syntax.Family) (dialect.Finding, error) {
	f, _, err := new(Backend).hostDialectAt(fam)
	return f, err
}

// hostDialectAt fingerprints over the backend's own connection (the fake
// nf_tables of tests when it was given an opener), with the nf_tables
// generation read just before the rules: a ruleset at that generation
// gives this finding.
func (b *Backend) hostDialectAt(fam syntax.Family) (dialect.Finding, uint32, error) {
	conn, err := b.open(context.Background())
	if err != nil {
		return dialect.Finding{}, 0, err
	}
	defer conn.Close()
	gen, err := conn.GenID()
	if err != nil {
		return dialect.Finding{}, 0, err
	}
	f, err := fingerprint(conn, fam)
	return f, gen, err
}

// fingerprint reads the rules, table by table, until the clues decide or
// maxFingerprintRules were looked at; the dump in progress then stops
// (nfnl.ErrStopDump), leaving the rest unread, so conn is not used again.
func fingerprint(conn nfnl.Transport, fam syntax.Family) (dialect.Finding, error) {
	var clues []dialect.Clue
	seen := map[dialect.Hint]bool{}
	env := &nftread.RenderEnv{Fam: fam, Protos: nftread.LoadProtocols(""), IPSets: nil}
	n := 0
	done := func() bool { return n >= maxFingerprintRules || decisive(seen) }
	for _, table := range fingerprintTables {
		env.Table = table
		var req nfnl.Attrs
		req.String(unix.NFTA_RULE_TABLE, table)
		err := conn.Dump(nfnl.MsgType(nfnl.SubsysNFTables, unix.NFT_MSG_GETRULE), nftread.NFProto(fam), req.B, func(m nfnl.Message) error {
			n++
			r, err := nftread.ParseRule(nftread.NFProto(fam), m.Attrs)
			if err == nil {
				for _, c := range ruleClues(env, &r) {
					if !seen[c.Hint] {
						seen[c.Hint] = true
						clues = append(clues, c)
					}
				}
			}
			if done() {
				return nfnl.ErrStopDump
			}
			return nil
		})
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return dialect.Finding{}, err
		}
		if done() {
			break
		}
	}
	return dialect.Conclude(clues), nil
}

// decisive reports whether more rules are not worth reading: 1.8.11 is
// certain, 1.8.7 next to a later version is mixed, and native matches
// next to an IPv4 meta l4proto are 1.8.8 to 1.8.10. Only 1.8.7 alone
// keeps the scan going (to the bound), looking for a later writer.
func decisive(seen map[dialect.Hint]bool) bool {
	return seen[dialect.Is1811] || (seen[dialect.AtMost187] && seen[dialect.AtLeast188]) ||
		(seen[dialect.AtLeast188] && seen[dialect.AtMost1810])
}

// ruleClues looks at one dumped rule.
func ruleClues(env *nftread.RenderEnv, r *nftread.DumpedRule) []dialect.Clue {
	var out []dialect.Clue
	where := fmt.Sprintf("%s %s rule handle %d", env.Table, r.Chain, r.Handle)
	ref := &dialect.RuleRef{Table: env.Table, Chain: r.Chain, Handle: r.Handle}
	add := func(h dialect.Hint, what string) {
		out = append(out, dialect.Clue{Hint: h, What: where + ": " + what, Rule: ref})
	}
	es := r.Exprs
	srcOff, dstOff := nftread.AddrOffsets(env.Fam)
	addrFirst := false
	i := 0
base:
	for ; i < len(es); i++ {
		switch e := es[i].(type) {
		case *expr.Meta:
			switch e.Key {
			case expr.MetaKeyIIFNAME, expr.MetaKeyOIFNAME:
				if addrFirst {
					add(dialect.Is1811, "addresses before interfaces (1.8.11's order)")
				}
			case expr.MetaKeyL4PROTO:
				if env.Fam == syntax.IPv4 {
					add(dialect.AtMost1810, "-p as meta l4proto")
				}
			default:
				break base
			}
		case *expr.Payload:
			if e.Base != expr.PayloadBaseNetworkHeader {
				break base
			}
			switch {
			case env.Fam == syntax.IPv4 && e.Offset == nftread.IPv4ProtoOffset && e.Len == 1:
				add(dialect.Is1811, "-p as a load of the IP header's protocol byte")
			case e.Offset == srcOff || e.Offset == dstOff:
				addrFirst = addrFirst || i == 0
			}
		case *expr.Cmp, *expr.Bitwise:
		default:
			break base
		}
	}
	bf, _, err := nftread.DecodeBase(env, es)
	if err != nil {
		return out
	}
	ctx := xt.Context{Family: env.Fam, Table: env.Table, Chain: r.Chain, Protocol: bf.Proto}
	for ; i < len(es); i++ {
		switch e := es[i].(type) {
		case *expr.Match:
			if e.Name != "tcp" && e.Name != "udp" && e.Name != "mark" {
				continue
			}
			ext, _, err := xt.DecodeMatch(ctx, es[i:])
			if err != nil {
				continue
			}
			if _, _, _, compat := ext.Revision(); !compat {
				add(dialect.AtMost187, fmt.Sprintf("-m %s stored as xt %s rev %d", e.Name, e.Name, e.Rev))
			}
		case *expr.Meta:
			if e.Key == expr.MetaKeyMARK && !e.SourceRegister {
				add(dialect.AtLeast188, "-m mark stored as meta mark")
			}
		case *expr.Payload:
			if e.Base == expr.PayloadBaseTransportHeader && e.OperationType == expr.PayloadLoad {
				add(dialect.AtLeast188, "ports stored as transport-header payload")
			}
		}
	}
	return out
}

// HostDialect returns the dialect the backend writes in for fam, and why:
// the setting, else (with DetectDialect) the host's rules, the fallback,
// or 1.8.9's. It looks at the kernel once per backend.
func (b *Backend) HostDialect(fam syntax.Family) dialect.Finding {
	b.resolveDialect(fam)
	if b.found != nil {
		return *b.found
	}
	if b.opts.Dialect != "" {
		return dialect.Finding{Dialect: b.opts.Dialect, Source: "setting", Why: "nft-dialect=" + string(b.opts.Dialect)}
	}
	return dialect.Finding{Dialect: dialect.V189, Source: "default", Why: "1.8.9's encoding unless told otherwise"}
}

// resolveDialect fills opts.Dialect from the host's rules the first time a
// backend with DetectDialect runs: from the cached finding when it still
// holds (DialectCache), else by fingerprinting the rules (and asking the
// fallback when they do not tell), and then caches what it found.
func (b *Backend) resolveDialect(fam syntax.Family) {
	if !b.opts.DetectDialect || b.opts.Dialect != "" || b.found != nil {
		return
	}
	if c, ok := b.cachedDialect(fam); ok {
		b.found = &c.Finding
		b.opts.Dialect = c.Finding.Dialect
		return
	}
	f, basis, cacheable := b.findDialect(fam)
	if cacheable && b.opts.DialectCache != nil {
		b.opts.DialectCache.StoreDialect(fam, dialect.Cached{Finding: f, Basis: basis})
	}
	b.found = &f
	b.opts.Dialect = f.Dialect
}

// findDialect fingerprints the host's rules, asks the fallback when they
// do not settle it, and says what the finding rests on; cacheable is
// false when something failed on the way.
func (b *Backend) findDialect(fam syntax.Family) (dialect.Finding, dialect.Basis, bool) {
	basis := dialect.Basis{At: time.Now()}
	f, gen, err := b.hostDialectAt(fam)
	cacheable := err == nil
	if err != nil {
		f = dialect.Finding{Why: "reading the rules failed: " + err.Error()}
	}
	basis.Gen, basis.FromRules = gen, f.Dialect != ""
	fallback := func() dialect.Finding {
		if b.opts.FallbackStamp != nil {
			basis.HostFiles = b.opts.FallbackStamp()
		}
		cacheable = cacheable && basis.HostFiles != ""
		return b.opts.Fallback()
	}
	if f.Newer && b.opts.Fallback != nil {
		// 1.8.9 and 1.8.11 read each other; the host's own version
		// decides which of the two is written.
		if fb := fallback(); fb.Dialect == dialect.V1811 {
			fb.Why = f.Why + "; " + fb.Why
			fb.Clues = append(f.Clues, fb.Clues...)
			f = fb
		}
	}
	if f.Dialect == "" && b.opts.Fallback != nil {
		fb := fallback()
		if fb.Dialect != "" {
			fb.Why = f.Why + "; " + fb.Why
			fb.Clues = append(f.Clues, fb.Clues...)
			f = fb
		}
	}
	if f.Dialect == "" {
		f.Dialect, f.Source = dialect.V189, "default"
		f.Why += "; writing 1.8.9's encoding"
	}
	return f, basis, cacheable
}

// cachedDialect returns the cached finding for fam when it still holds
// (dialect.Basis says when): within its trust time, the host's package
// files unchanged when they counted, and either the ruleset at the same
// generation or, for a finding the rules decided, every rule it was seen
// in still there and still saying so. One netlink round trip, plus one
// per such rule when the ruleset changed.
func (b *Backend) cachedDialect(fam syntax.Family) (dialect.Cached, bool) {
	if b.opts.DialectCache == nil {
		return dialect.Cached{}, false
	}
	c, ok := b.opts.DialectCache.LoadDialect(fam)
	if !ok || c.Finding.Dialect == "" || !c.Basis.Fresh(time.Now()) {
		return dialect.Cached{}, false
	}
	if c.Basis.HostFiles != "" && (b.opts.FallbackStamp == nil || b.opts.FallbackStamp() != c.Basis.HostFiles) {
		return dialect.Cached{}, false
	}
	conn, err := b.open(context.Background())
	if err != nil {
		return dialect.Cached{}, false
	}
	defer conn.Close()
	gen, err := conn.GenID()
	if err != nil {
		return dialect.Cached{}, false
	}
	if gen == c.Basis.Gen {
		return c, true
	}
	if !c.Basis.FromRules {
		return dialect.Cached{}, false
	}
	clues := c.RuleClues()
	if len(clues) == 0 {
		return dialect.Cached{}, false
	}
	for _, cl := range clues {
		if !stillSays(conn, fam, cl) {
			return dialect.Cached{}, false
		}
	}
	return c, true
}

// stillSays reports whether the rule a clue was seen in is still there and
// still gives the clue's hint (a rule replaced in place keeps its handle).
func stillSays(conn nfnl.Transport, fam syntax.Family, cl dialect.Clue) bool {
	var req nfnl.Attrs
	req.String(unix.NFTA_RULE_TABLE, cl.Rule.Table)
	req.String(unix.NFTA_RULE_CHAIN, cl.Rule.Chain)
	req.U64(unix.NFTA_RULE_HANDLE, cl.Rule.Handle)
	msgs, err := conn.Request(nfnl.MsgType(nfnl.SubsysNFTables, unix.NFT_MSG_GETRULE), 0, nftread.NFProto(fam), req.B)
	if err != nil || len(msgs) != 1 {
		return false
	}
	r, err := nftread.ParseRule(nftread.NFProto(fam), msgs[0].Attrs)
	if err != nil || r.Chain != cl.Rule.Chain || r.Handle != cl.Rule.Handle {
		return false
	}
	env := &nftread.RenderEnv{Fam: fam, Table: cl.Rule.Table, Protos: nftread.LoadProtocols(""), IPSets: nil}
	for _, got := range ruleClues(env, &r) {
		if got.Hint == cl.Hint {
			return true
		}
	}
	return false
}
