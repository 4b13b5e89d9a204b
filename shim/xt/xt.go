// Package xt owns iptables' match and target extensions for the native
// nf_tables backend: it parses them from the shared syntax model, encodes
// them to the nf_tables expressions iptables-nft 1.8.9 emits, decodes them
// back from the expressions the kernel dumps (both the native form and the
// compat xt form, since other iptables-nft versions write either), and
// renders them the way iptables-nft-save prints them.
//
// Contract with the core (shim/native):
//
//   - The core encodes the base rule fields (-i -o -p -s -d -f), the counter
//     and the standard verdicts/jumps. Between the base fields and the counter
//     it appends, for each syntax.Match in command-line order, the
//     expressions of ParseMatch(...).Exprs(ctx); after the counter, for a
//     target that is not ACCEPT/DROP/RETURN/QUEUE/a chain, the expressions
//     of ParseTarget(...).Exprs(ctx).
//   - When decoding a dumped rule, after the base fields the core calls
//     DecodeMatch repeatedly on the remaining expressions until it reaches
//     the counter; after the counter it calls DecodeTarget unless the next
//     expression is a verdict immediate. Context.Protocol must hold the
//     rule's decoded -p (the native port matches are read against it, as
//     iptables-nft does); Context.Family picks the NAT/REJECT/recent
//     layouts.
//   - Match/target Info passed to the decoders should be *xt.Unknown holding
//     the kernel's raw bytes (decode the expression with Info left raw, as
//     internal/kdump.ParseData does); a typed Info value from
//     google/nftables is re-marshalled with xt.Marshal first.
//   - Consecutive transport-header tests (ports, TCP flags) decode as one
//     tcp/udp match. A decoded native tcp/udp match re-encodes to exactly
//     the expressions it was read from, so kernel state survives even where
//     iptables-nft reads a form back as an equivalent other one.
//   - Before printing a decoded rule (save, -S, -L) the core passes its
//     matches through FoldMatches, which merges later native tcp/udp
//     matches into the first as iptables-nft does, where that states the
//     same rule.
//   - Every error is an *ipterr.Error. IsUnsupported tells the router that
//     an extension or option lies outside what this package encodes
//     exactly (also for a syntax.Match/Target whose Known is false); it
//     should then hand the call to a real iptables-nft binary, or refuse
//     with exit 2. Decode refusals are class Other and also unsupported.
//   - Revision reports the xt extension and revision for the family the
//     extension was parsed or decoded for (SNAT is rev 0 for IPv4 and rev 1
//     for IPv6).
//   - Package shim/xt/ipset implements IPSetResolver with getsockopt
//     SO_IP_SET (ipset.Open in the current network namespace, ipset.OpenIn
//     for a named one); one resolver per family.
//
// The encodings are checked byte for byte against the real iptables-nft
// 1.8.9 by the golden tests (testdata/cases.txt, testdata/golden; regenerate
// as root with `go test -run 'TestGoldenReal|TestFuzzCorpus' -update`).
package xt

import (
	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// Context is what an extension may need to know about the rule it is in.
type Context struct {
	Family syntax.Family
	Table  string
	Chain  string
	// Protocol is the rule's -p as given (or as decoded: the name
	// iptables-nft-save prints, e.g. "tcp", or a number). Port matches
	// depend on it.
	Protocol syntax.Field
	// IPSets resolves ipset names to kernel indexes and back (via getsockopt
	// SO_IP_SET in the rule's network namespace). When nil, -m set is
	// refused.
	IPSets IPSetResolver
	// Dialect is the iptables-nft version the rule is written for or,
	// when decoding, the one whose save output Save follows (the
	// host's); empty is 1.8.9. Only a few forms differ (tcpudp.go, opts.go).
	Dialect dialect.Dialect
	// Prints187 is set when a decoded rule is printed as iptables-nft
	// 1.8.7 prints it: its string match prints the default --to 65535.
	Prints187 bool
}

// IPSetResolver maps ipset names to the kernel's set indexes, which is what
// the set match's info blob holds.
type IPSetResolver interface {
	// Index returns the index of the named set; an error when it does not
	// exist.
	Index(name string) (uint16, error)
	// Name returns the name of the set with the given index.
	Name(index uint16) (string, error)
}

// Ext is one parsed (or decoded) match or target.
type Ext interface {
	// Name is the extension's name as iptables spells it: "tcp", "MARK".
	Name() string
	// Exprs returns the expressions iptables-nft 1.8.9 emits for it, in
	// order.
	Exprs(ctx Context) ([]expr.Any, error)
	// Save renders it as iptables-nft-save prints it, e.g.
	// "-m tcp --dport 80" or "-j MARK --set-xmark 0x4000/0x4000", with no
	// leading or trailing space.
	Save(ctx Context) string
	// Revision names the xt extension the kernel must have for it: compat
	// is false for native forms (which need no xt extension).
	Revision() (name string, rev uint8, isTarget bool, compat bool)
}

// Lister is implemented by the extensions whose -L text cannot be derived
// from their save form (which may print less than the rule holds, as
// 1.8.9's icmp prints type 255 with any codes as "any"): List returns the
// text iptables -L prints for it, with its leading space.
type Lister interface {
	List(numeric bool) string
}

// Warner is implemented by the extensions whose print functions write a
// warning on stderr each time a rule with them is printed (save, -S, -L,
// -v): Warnings returns those lines, without newlines, in order.
type Warner interface {
	Warnings() []string
}

// Warnings returns the stderr lines printing e gives (see Warner).
func Warnings(e Ext) []string {
	if w, ok := e.(Warner); ok {
		return w.Warnings()
	}
	return nil
}

// ParseWarner is implemented by the extensions whose parse makes iptables
// 1.8.9 print a warning on standard error and go on (NFLOG's
// --nflog-range): ParseWarnings returns those lines, without their
// newline, in the order it prints them.
type ParseWarner interface {
	ParseWarnings() []string
}

// ParseWarnings returns what iptables 1.8.9 warns about e while it parses
// it (see ParseWarner).
func ParseWarnings(e Ext) []string {
	if w, ok := e.(ParseWarner); ok {
		return w.ParseWarnings()
	}
	return nil
}

// WarnsWhenMissing reports whether iptables-nft 1.8.9, on a kernel without
// the named match (target false) or target, warns ("Warning: Extension
// NAME revision 0 not supported, missing kernel module?") and uses it
// anyway, so that the kernel refuses the rule: true for the extensions
// whose only revision is 0 and whose module a stock kernel may lack (the
// ipvs match without ip_vs, the LED and CLUSTERIP targets).
func WarnsWhenMissing(name string, target bool) bool {
	if target {
		return name == "LED" || name == "CLUSTERIP"
	}
	return name == "ipvs"
}

// MissingWarning is that warning line, without its newline.
func MissingWarning(match string) string {
	return "Warning: Extension " + match + " revision 0 not supported, missing kernel module?"
}

// CompareAll reports whether iptables-nft compares the whole info blob of
// the named match when it looks a rule up (-C, -D): libxt_connlabel
// declares none of its blob significant, so any connlabel match equals any
// other.
func CompareAll(match string) bool { return match != "connlabel" }

// saveAppender is implemented by the extensions a save of a large ruleset
// meets on nearly every rule: appendSave appends what Save returns without
// building a string for each.
type saveAppender interface {
	appendSave(dst []byte, ctx Context) []byte
}

// AppendSave appends e's Save text to dst.
func AppendSave(dst []byte, e Ext, ctx Context) []byte {
	if a, ok := e.(saveAppender); ok {
		return a.appendSave(dst, ctx)
	}
	return append(dst, e.Save(ctx)...)
}

// ParseMatch parses one match of the shared model.
func ParseMatch(ctx Context, m syntax.Match) (Ext, error) {
	if m.Implicit {
		// "-p 6 --dport 80" loads the tcp match by the protocol's name.
		if n, ok := protoNum(m.Name); ok {
			for name, num := range protoNames() {
				if num == n && matchParsers()[name] != nil {
					m.Name = name
				}
			}
		}
	}
	p, ok := matchParsers()[m.Name]
	// Options the model collected without knowing the extension may be cut
	// wrongly: leave them to a real iptables.
	if !ok || !m.Known {
		return nil, unsupported("match", m.Name)
	}
	return p(ctx, m)
}

// ParseTarget parses a target extension. The core handles ACCEPT, DROP,
// RETURN and jumps/gotos to chains itself and does not call it for those.
func ParseTarget(ctx Context, t syntax.Target) (Ext, error) {
	if t.Goto {
		return nil, paramErr("goto '%s' is not a chain", t.Name)
	}
	p, ok := targetParsers()[t.Name]
	if !ok || !t.Known {
		return nil, unsupported("target", t.Name)
	}
	return p(ctx, t)
}

// DecodeMatch decodes the match that starts at exprs[0] and reports how many
// expressions it consumed. It refuses, with an error naming the expression,
// anything it does not understand completely.
func DecodeMatch(ctx Context, exprs []expr.Any) (Ext, int, error) {
	if len(exprs) == 0 {
		return nil, 0, decodeErr("no expression to decode as a match")
	}
	if m, ok := exprs[0].(*expr.Match); ok {
		d, ok := compatMatchDecoders()[m.Name]
		if !ok {
			return nil, 0, unsupported("match", m.Name)
		}
		blob, err := infoBytes(ctx, m.Rev, m.Info)
		if err != nil {
			return nil, 0, err
		}
		e, err := d(ctx, m.Rev, blob)
		if err != nil {
			return nil, 0, err
		}
		return e, 1, nil
	}
	return decodeNative(ctx, exprs)
}

// DecodeTarget decodes the target that starts at exprs[0] (an xt target
// expression) and reports how many expressions it consumed.
func DecodeTarget(ctx Context, exprs []expr.Any) (Ext, int, error) {
	if len(exprs) == 0 {
		return nil, 0, decodeErr("no expression to decode as a target")
	}
	switch exprs[0].(type) {
	case *expr.Log:
		return decodeNFLOGNative(ctx, exprs)
	case *expr.Immediate:
		return decodeTraceNative(ctx, exprs)
	}
	t, ok := exprs[0].(*expr.Target)
	if !ok {
		return nil, 0, decodeErr("cannot decode %s as a target", describe(exprs[0]))
	}
	d, ok := targetDecoders()[t.Name]
	if !ok {
		return nil, 0, unsupported("target", t.Name)
	}
	blob, err := infoBytes(ctx, t.Rev, t.Info)
	if err != nil {
		return nil, 0, err
	}
	e, err := d(ctx, t.Rev, blob)
	if err != nil {
		return nil, 0, err
	}
	return e, 1, nil
}

type (
	matchParser  func(Context, syntax.Match) (Ext, error)
	targetParser func(Context, syntax.Target) (Ext, error)
	blobDecoder  func(ctx Context, rev uint32, blob []byte) (Ext, error)
)
