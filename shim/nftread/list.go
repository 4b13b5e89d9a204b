package nftread

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/nfnl"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
	"github.com/iptables-shim/iptables-shim/shim/xt"
)

// ListFormat is how -L prints: iptables' FMT_* flags as the options set
// them.
type ListFormat struct {
	// Numeric, Verbose, Exact and LineNumbers are -n, -v, -x and
	// --line-numbers.
	Numeric, Verbose, Exact, LineNumbers bool
	// Rule is FMT_PRINT_RULE, the one-line form -v prints for the rules
	// a write command adds, deletes or checks: numeric, no counters,
	// no table columns.
	Rule bool
}

// LinePrinter prints the chain headers and rule lines of one listing.
type LinePrinter struct {
	// Format is how to print, Fam the family of the rules.
	Format ListFormat
	Fam    syntax.Family
	// Protos names protocols; Names names addresses and ports (without
	// -n), see NewNames.
	Protos *Protocols
	Names  *names
	// Warn gets the warnings extensions print with their rules.
	Warn io.Writer
}

// num is xtables_print_num: a counter in a fixed-width column, scaled to
// K/M/G/T unless -x; notable drops the padding (header counters).
func (lp *LinePrinter) num(out []byte, n uint64, notable bool) []byte {
	if lp.Format.Exact {
		if notable {
			return fmt.Appendf(out, "%d ", n)
		}
		return fmt.Appendf(out, "%8d ", n)
	}
	if n <= 99999 {
		if notable {
			return fmt.Appendf(out, "%d ", n)
		}
		return fmt.Appendf(out, "%5d ", n)
	}
	for _, unit := range []string{"K", "M", "G"} {
		n = (n + 500) / 1000
		if n <= 9999 {
			if notable {
				return fmt.Appendf(out, "%d%s ", n, unit)
			}
			return fmt.Appendf(out, "%4d%s ", n, unit)
		}
	}
	n = (n + 500) / 1000
	if notable {
		return fmt.Appendf(out, "%dT ", n)
	}
	return fmt.Appendf(out, "%4dT ", n)
}

// Header prints "Chain NAME (policy P ...)" or "(N references)" and the
// column titles.
func (lp *LinePrinter) Header(out []byte, lc ListChain, rules int) []byte {
	out = fmt.Appendf(out, "Chain %s", lc.Name)
	if lc.Base {
		pol, p, b := "ACCEPT", uint64(0), uint64(0)
		if lc.Info != nil {
			if lc.Info.Policy == PolicyDrop {
				pol = "DROP"
			}
			p, b = lc.Info.Packets, lc.Info.Bytes
		}
		out = fmt.Appendf(out, " (policy %s", pol)
		if lp.Format.Verbose {
			out = append(out, ' ')
			out = lp.num(out, p, true)
			out = append(out, "packets, "...)
			out = lp.num(out, b, true)
			out = append(out, "bytes"...)
		}
		out = append(out, ")\n"...)
	} else {
		// The kernel counts the chain's own rules among its uses.
		refs := int64(lc.Info.Use) - int64(rules)
		out = fmt.Appendf(out, " (%d references)\n", refs)
	}
	if lp.Format.LineNumbers {
		out = fmt.Appendf(out, "%-4s ", "num")
	}
	if lp.Format.Verbose {
		if lp.Format.Exact {
			out = fmt.Appendf(out, "%8s %10s ", "pkts", "bytes")
		} else {
			out = fmt.Appendf(out, "%5s %5s ", "pkts", "bytes")
		}
	}
	out = fmt.Appendf(out, "%-9s  prot opt", "target")
	if lp.Format.Verbose {
		out = fmt.Appendf(out, " %-6s %-6s ", "in", "out")
	}
	return fmt.Appendf(out, " %-19s  %-19s \n", "source", "destination")
}

// Rule prints one rule line.
func (lp *LinePrinter) Rule(out []byte, n int, v *ruleView) ([]byte, error) {
	f := lp.Format
	WriteWarnings(lp.Warn, v.AppendWarnings(nil))
	if f.LineNumbers {
		out = fmt.Appendf(out, "%-4d ", n)
	}
	if f.Verbose && !f.Rule {
		out = lp.num(out, v.packets, false)
		out = lp.num(out, v.bytes, false)
	}
	target, isGoto := "", false
	switch {
	case v.verdict != nil:
		switch v.verdict.Kind {
		case expr.VerdictAccept:
			target = "ACCEPT"
		case expr.VerdictDrop:
			target = "DROP"
		case expr.VerdictReturn:
			target = "RETURN"
		default:
			target, isGoto = v.verdict.Chain, v.verdict.Kind == expr.VerdictGoto
		}
	case v.target != nil:
		target = v.target.Name()
	}
	bf := &v.base
	if f.Rule {
		out = append(out, target...)
		out = append(out, ' ')
		out = append(out, invChar(bf.Proto.Invert, ' '))
		out = append(out, lp.protoName(bf)...)
		out = append(out, " opt "...)
	} else {
		out = fmt.Appendf(out, "%-9s ", target)
		out = append(out, invChar(bf.Proto.Invert, ' '))
		out = lp.Protos.appendProtoColumn(out, lp.protoName(bf))
	}
	switch {
	case lp.Protos.blankOptColumn(lp.Fam):
		out = append(out, ' ', ' ', ' ')
	case bf.frag.Set:
		out = append(out, invChar(bf.frag.Invert, '-'), 'f', ' ')
	default:
		out = append(out, invChar(bf.frag.Invert, '-'), '-', ' ')
	}
	switch {
	case f.Rule:
		out = fmt.Appendf(out, "in %s out %s ", lp.iface(bf.in), lp.iface(bf.out))
	case f.Verbose:
		out = fmt.Appendf(out, " %-6s %-6s ", lp.iface(bf.in), lp.iface(bf.out))
	}
	for i, fl := range []syntax.Field{bf.src, bf.dst} {
		out = append(out, invChar(fl.Invert, ' '))
		s, err := lp.address(fl)
		if err != nil {
			return nil, err
		}
		switch {
		case !f.Rule:
			out = fmt.Appendf(out, "%-19s ", s)
		case i == 0:
			out = append(out, s...)
			out = append(out, ' ')
		default:
			out = append(out, "-> "...)
			out = append(out, s...)
			out = append(out, "  "...)
		}
	}
	if isGoto {
		out = append(out, "[goto] "...)
	}
	lo := listOpts{numeric: f.Numeric, proto: bf.Proto.Value, names: lp.Names}
	for _, m := range v.matches {
		if l, ok := m.(xt.Lister); ok {
			out = append(out, l.List(f.Numeric)...)
			continue
		}
		s, err := listExt(m.Save(v.ctx), lo)
		if err != nil {
			return nil, err
		}
		out = append(out, s...)
	}
	if l, ok := v.target.(xt.Lister); ok {
		out = append(out, l.List(f.Numeric)...)
		if v.spaceIfNoTarget && emptyTCPOptStrip(v.target, v.ctx) {
			// As its save (render.go), 1.8.7's print did not skip an
			// empty option list.
			out = append(out, " TCPOPTSTRIP options "...)
		}
	} else if v.target != nil {
		s, err := listExt(v.target.Save(v.ctx), lo)
		if err != nil {
			return nil, err
		}
		out = append(out, s...)
	}
	return append(out, '\n'), nil
}

func invChar(inv bool, otherwise byte) byte {
	if inv {
		return '!'
	}
	return otherwise
}

// protoName is the prot column: iptables-nft 1.8.9 prints the number with
// -n (0 for any protocol), else the name ("all" for any).
func (lp *LinePrinter) protoName(bf *baseFields) string {
	if lp.Format.Rule {
		// FMT_PRINT_RULE is numeric and tabless: iptables' own names,
		// else the number.
		if s, ok := builtinName(bf.protoNum); ok {
			return s
		}
		return strconv.Itoa(int(bf.protoNum))
	}
	numeric := lp.Format.Numeric && lp.Protos.listsNumbers()
	if !bf.Proto.Set {
		if numeric {
			return "0"
		}
		return "all"
	}
	if numeric {
		return strconv.Itoa(int(bf.protoNum))
	}
	if lp.Format.Numeric {
		return lp.Protos.numericListName(bf.protoNum)
	}
	return lp.Protos.listName(bf.protoNum)
}

func (lp *LinePrinter) iface(fl syntax.Field) string {
	name := fl.Value
	if !fl.Set || name == "" {
		name = "any"
		if lp.Format.Numeric {
			name = "*"
		}
	}
	if fl.Invert {
		return "!" + name
	}
	return name
}

// address prints -s/-d as iptables -L does: "anywhere" for no address
// unless -n, else the address (named unless -n) and the mask ("/N", a
// dotted mask when not contiguous, nothing for a host).
func (lp *LinePrinter) address(fl syntax.Field) (string, error) {
	bits := 32
	if lp.Fam == syntax.IPv6 {
		bits = 128
	}
	if !fl.Set {
		if !lp.Format.Numeric {
			return "anywhere", nil
		}
		if bits == 32 {
			return "0.0.0.0/0", nil
		}
		return "::/0", nil
	}
	a, m, _ := strings.Cut(fl.Value, "/")
	ip, err := netip.ParseAddr(a)
	if err != nil {
		return "", ipterr.Wrap(ipterr.Other, err, err.Error())
	}
	prefix, err := strconv.Atoi(m)
	contiguous := err == nil
	if contiguous && prefix == 0 && !lp.Format.Numeric {
		return "anywhere", nil
	}
	s := ip.String()
	if !lp.Format.Numeric {
		s = lp.Names.addr(ip)
	}
	switch {
	case !contiguous:
		s += "/" + m
	case prefix != bits:
		s += "/" + m
	}
	return s, nil
}

// ListChain is one chain a listing shows: a built-in chain appears even
// when the kernel lacks it (iptables-nft lists its built-in chains as if
// they existed, with policy ACCEPT and zero counters).
type ListChain struct {
	// Name is the chain's name; Base is set for a base chain.
	Name string
	// Info is the kernel's chain, nil for an absent built-in chain.
	Info *ChainInfo
	Base bool
}

// sortedChains returns a table's chains in iptables' listing order: the
// built-in chains in the table's order, then user chains by name.
func sortedChains(t *TableInfo) []*ChainInfo {
	var out []*ChainInfo
	for _, lc := range ListedChains(t, "") {
		if lc.Info != nil {
			out = append(out, lc.Info)
		}
	}
	return out
}

// ListedChains returns the chains -S and -L show, in their order, limited
// to one chain when only is set.
func ListedChains(t *TableInfo, only string) []ListChain {
	spec := LookupTable(t.Name)
	var out []ListChain
	for _, bc := range spec.Chains {
		if only == "" || only == bc.Name {
			out = append(out, ListChain{Name: bc.Name, Info: t.Chains[bc.Name], Base: true})
		}
	}
	var user []string
	for name, ch := range t.Chains {
		if spec.Builtin(name) == nil && (only == "" || only == name) && ch != nil {
			user = append(user, name)
		}
	}
	sort.Strings(user)
	for _, name := range user {
		out = append(out, ListChain{Name: name, Info: t.Chains[name], Base: t.Chains[name].Base})
	}
	return out
}

// DumpChainRulesLenient dumps a chain's rules as shim/native's
// dumpChainRules does, but keeps every rule, each with the error parsing it
// gave (nil when it parsed).
func DumpChainRulesLenient(c nfnl.Transport, fam uint8, table, chain string) ([]DumpedRule, []error, error) {
	var req nfnl.Attrs
	req.String(unix.NFTA_RULE_TABLE, table)
	req.String(unix.NFTA_RULE_CHAIN, chain)
	var rules []DumpedRule
	var errs []error
	err := c.Dump(nfnl.MsgType(nfnl.SubsysNFTables, unix.NFT_MSG_GETRULE), fam, req.B, func(m nfnl.Message) error {
		r, err := ParseRule(fam, append([]byte(nil), m.Attrs...))
		rules = append(rules, r)
		errs = append(errs, err)
		return nil
	})
	if err != nil {
		if errors.Is(err, nfnl.ErrDumpInterrupted) || errors.Is(err, unix.ENOENT) {
			return nil, nil, nfnl.ErrDumpInterrupted
		}
		return nil, nil, ipterr.Wrap(ipterr.Resource, err, fmt.Sprintf("listing rules of chain %s: %v", chain, err))
	}
	return rules, errs, nil
}

// Unparsed marks a listed rule that did not parse (see shim/native's listingRules).
var Unparsed = []expr.Any{nil}

// IsUnparsed reports whether r is a listed rule that did not parse (its
// Exprs are Unparsed).
func IsUnparsed(r *DumpedRule) bool { return len(r.Exprs) == 1 && r.Exprs[0] == nil }
