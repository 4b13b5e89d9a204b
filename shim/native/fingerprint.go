package native

import (
	"errors"
	"fmt"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"github.com/iptables-shim/iptables-shim/shim/native/nfnl"
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
	conn, err := nfnl.Open()
	if err != nil {
		return dialect.Finding{}, err
	}
	defer conn.Close()
	return fingerprint(conn, fam)
}

func fingerprint(conn *nfnl.Conn, fam syntax.Family) (dialect.Finding, error) {
	var clues []dialect.Clue
	seen := map[dialect.Hint]bool{}
	env := &renderEnv{fam: fam, protos: loadProtocols(""), ipsets: nil}
	n := 0
	for _, table := range fingerprintTables {
		env.table = table
		var req nfnl.Attrs
		req.String(unix.NFTA_RULE_TABLE, table)
		err := conn.Dump(nfnl.MsgType(nfnl.SubsysNFTables, unix.NFT_MSG_GETRULE), nfproto(fam), req.B, func(m nfnl.Message) error {
			if n >= maxFingerprintRules || decisive(seen) {
				return nil
			}
			n++
			r, err := parseRule(nfproto(fam), m.Attrs)
			if err != nil {
				return nil
			}
			for _, c := range ruleClues(env, &r) {
				if !seen[c.Hint] {
					seen[c.Hint] = true
					clues = append(clues, c)
				}
			}
			return nil
		})
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return dialect.Finding{}, err
		}
		if n >= maxFingerprintRules || decisive(seen) {
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
func ruleClues(env *renderEnv, r *dumpedRule) []dialect.Clue {
	var out []dialect.Clue
	where := fmt.Sprintf("%s %s rule handle %d", env.table, r.chain, r.handle)
	add := func(h dialect.Hint, what string) {
		out = append(out, dialect.Clue{Hint: h, What: where + ": " + what})
	}
	es := r.exprs
	srcOff, dstOff := addrOffsets(env.fam)
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
				if env.fam == syntax.IPv4 {
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
			case env.fam == syntax.IPv4 && e.Offset == ipv4ProtoOffset && e.Len == 1:
				add(dialect.Is1811, "-p as a load of the IP header's protocol byte")
			case e.Offset == srcOff || e.Offset == dstOff:
				addrFirst = addrFirst || i == 0
			}
		case *expr.Cmp, *expr.Bitwise:
		default:
			break base
		}
	}
	bf, _, err := decodeBase(env, es)
	if err != nil {
		return out
	}
	ctx := xt.Context{Family: env.fam, Table: env.table, Chain: r.chain, Protocol: bf.proto}
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
// backend with DetectDialect runs.
func (b *Backend) resolveDialect(fam syntax.Family) {
	if !b.opts.DetectDialect || b.opts.Dialect != "" || b.found != nil {
		return
	}
	f, err := HostDialect(fam)
	if err != nil {
		f = dialect.Finding{Why: "reading the rules failed: " + err.Error()}
	}
	if f.Newer && b.opts.Fallback != nil {
		// 1.8.9 and 1.8.11 read each other; the host's own version
		// decides which of the two is written.
		if fb := b.opts.Fallback(); fb.Dialect == dialect.V1811 {
			fb.Why = f.Why + "; " + fb.Why
			fb.Clues = append(f.Clues, fb.Clues...)
			f = fb
		}
	}
	if f.Dialect == "" && b.opts.Fallback != nil {
		fb := b.opts.Fallback()
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
	b.found = &f
	b.opts.Dialect = f.Dialect
}
