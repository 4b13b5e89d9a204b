package native

import (
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
	"github.com/iptables-shim/iptables-shim/shim/xt"
)

// listFormat is how -L prints: iptables' FMT_* flags as the options set
// them.
type listFormat struct {
	numeric, verbose, exact, lineNumbers bool
	// rule is FMT_PRINT_RULE, the one-line form -v prints for the rules
	// a write command adds, deletes or checks: numeric, no counters,
	// no table columns.
	rule bool
}

// list renders -L [CHAIN [N]] in iptables-nft 1.8.9's table layout. With
// a rule number only that rule's line is printed, without headers.
func (r *cmdRun) list() ([]byte, error) {
	cmd := r.cmd
	t := r.table()
	if cmd.Chain != "" && lookupTable(cmd.Table).builtin(cmd.Chain) == nil && t.chains[cmd.Chain] == nil {
		return nil, r.incompatibleChain()
	}
	f := listFormat{numeric: cmd.Numeric, verbose: cmd.Verbose, exact: cmd.Exact, lineNumbers: cmd.LineNumbers}
	lp := &linePrinter{f: f, fam: r.call.Family, protos: r.protos, names: newNames(defaultNameFiles), warn: r.call.Stderr}
	env := r.renderEnv()
	var out []byte
	if t.tainted && cmd.Chain == "" {
		out = append(out, taintNote(t.name)...)
	}
	chains := listedChains(t, cmd.Chain)
	all, undecoded, err := r.listingRules(chains)
	if err != nil {
		return nil, err
	}
	for i, lc := range chains {
		rules := all[i]
		if cmd.RuleNum == 0 {
			if i > 0 {
				out = append(out, '\n')
			}
			out = lp.header(out, lc, len(rules))
		}
		for n := range rules {
			if cmd.RuleNum > 0 && n != cmd.RuleNum-1 {
				continue
			}
			if isUnparsed(&rules[n]) {
				continue
			}
			v, err := viewRule(env, &rules[n])
			if err != nil {
				undecoded = append(undecoded, err)
				continue
			}
			if out, err = lp.rule(out, n+1, &v); err != nil {
				return nil, err
			}
		}
	}
	return r.finishListing(out, undecoded)
}

// linePrinter prints the chain headers and rule lines of one listing.
type linePrinter struct {
	f      listFormat
	fam    syntax.Family
	protos *protocols
	names  *names
	// warn gets the warnings extensions print with their rules.
	warn io.Writer
}

// num is xtables_print_num: a counter in a fixed-width column, scaled to
// K/M/G/T unless -x; notable drops the padding (header counters).
func (lp *linePrinter) num(out []byte, n uint64, notable bool) []byte {
	if lp.f.exact {
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

// header prints "Chain NAME (policy P ...)" or "(N references)" and the
// column titles.
func (lp *linePrinter) header(out []byte, lc listChain, rules int) []byte {
	out = fmt.Appendf(out, "Chain %s", lc.name)
	if lc.base {
		pol, p, b := "ACCEPT", uint64(0), uint64(0)
		if lc.info != nil {
			if lc.info.policy == policyDrop {
				pol = "DROP"
			}
			p, b = lc.info.packets, lc.info.bytes
		}
		out = fmt.Appendf(out, " (policy %s", pol)
		if lp.f.verbose {
			out = append(out, ' ')
			out = lp.num(out, p, true)
			out = append(out, "packets, "...)
			out = lp.num(out, b, true)
			out = append(out, "bytes"...)
		}
		out = append(out, ")\n"...)
	} else {
		// The kernel counts the chain's own rules among its uses.
		refs := int64(lc.info.use) - int64(rules)
		out = fmt.Appendf(out, " (%d references)\n", refs)
	}
	if lp.f.lineNumbers {
		out = fmt.Appendf(out, "%-4s ", "num")
	}
	if lp.f.verbose {
		if lp.f.exact {
			out = fmt.Appendf(out, "%8s %10s ", "pkts", "bytes")
		} else {
			out = fmt.Appendf(out, "%5s %5s ", "pkts", "bytes")
		}
	}
	out = fmt.Appendf(out, "%-9s  prot opt", "target")
	if lp.f.verbose {
		out = fmt.Appendf(out, " %-6s %-6s ", "in", "out")
	}
	return fmt.Appendf(out, " %-19s  %-19s \n", "source", "destination")
}

// rule prints one rule line.
func (lp *linePrinter) rule(out []byte, n int, v *ruleView) ([]byte, error) {
	f := lp.f
	writeWarnings(lp.warn, v.appendWarnings(nil))
	if f.lineNumbers {
		out = fmt.Appendf(out, "%-4d ", n)
	}
	if f.verbose && !f.rule {
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
	if f.rule {
		out = append(out, target...)
		out = append(out, ' ')
		out = append(out, invChar(bf.proto.Invert, ' '))
		out = append(out, lp.protoName(bf)...)
		out = append(out, " opt "...)
	} else {
		out = fmt.Appendf(out, "%-9s ", target)
		out = append(out, invChar(bf.proto.Invert, ' '))
		out = lp.protos.appendProtoColumn(out, lp.protoName(bf))
	}
	switch {
	case !f.rule && lp.protos.blankOptColumn(lp.fam):
		out = append(out, ' ', ' ', ' ')
	case bf.frag.Set:
		out = append(out, invChar(bf.frag.Invert, '-'), 'f', ' ')
	default:
		out = append(out, invChar(bf.frag.Invert, '-'), '-', ' ')
	}
	switch {
	case f.rule:
		out = fmt.Appendf(out, "in %s out %s ", lp.iface(bf.in), lp.iface(bf.out))
	case f.verbose:
		out = fmt.Appendf(out, " %-6s %-6s ", lp.iface(bf.in), lp.iface(bf.out))
	}
	for i, fl := range []syntax.Field{bf.src, bf.dst} {
		out = append(out, invChar(fl.Invert, ' '))
		s, err := lp.address(fl)
		if err != nil {
			return nil, err
		}
		switch {
		case !f.rule:
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
	lo := listOpts{numeric: f.numeric, proto: bf.proto.Value, names: lp.names}
	for _, m := range v.matches {
		if l, ok := m.(xt.Lister); ok {
			out = append(out, l.List(f.numeric)...)
			continue
		}
		s, err := listExt(m.Save(v.ctx), lo)
		if err != nil {
			return nil, err
		}
		out = append(out, s...)
	}
	if l, ok := v.target.(xt.Lister); ok {
		out = append(out, l.List(f.numeric)...)
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
func (lp *linePrinter) protoName(bf *baseFields) string {
	if lp.f.rule {
		// FMT_PRINT_RULE is numeric and tabless: iptables' own names,
		// else the number.
		if s, ok := builtinName(bf.protoNum); ok {
			return s
		}
		return strconv.Itoa(int(bf.protoNum))
	}
	numeric := lp.f.numeric && lp.protos.listsNumbers()
	if !bf.proto.Set {
		if numeric {
			return "0"
		}
		return "all"
	}
	if numeric {
		return strconv.Itoa(int(bf.protoNum))
	}
	if lp.f.numeric {
		return lp.protos.numericListName(bf.protoNum)
	}
	return lp.protos.listName(bf.protoNum)
}

func (lp *linePrinter) iface(fl syntax.Field) string {
	name := fl.Value
	if !fl.Set || name == "" {
		name = "any"
		if lp.f.numeric {
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
func (lp *linePrinter) address(fl syntax.Field) (string, error) {
	bits := 32
	if lp.fam == syntax.IPv6 {
		bits = 128
	}
	if !fl.Set {
		if !lp.f.numeric {
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
	if contiguous && prefix == 0 && !lp.f.numeric {
		return "anywhere", nil
	}
	s := ip.String()
	if !lp.f.numeric {
		s = lp.names.addr(ip)
	}
	switch {
	case !contiguous:
		s += "/" + m
	case prefix != bits:
		s += "/" + m
	}
	return s, nil
}
