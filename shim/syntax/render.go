package syntax

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Render writes the payload back as restore text. A line with Raw set is
// written exactly as read; a line a caller built (Raw == "") is rendered
// from its Kind and fields. So Render(ParseRestore(x)) == x, and inserting
// new lines changes nothing else.
func (p *Payload) Render(w io.Writer) error {
	var b strings.Builder
	for i, l := range p.Lines {
		if l.Raw != "" || l.Kind == LineBlank {
			b.WriteString(l.Raw)
		} else {
			b.WriteString(l.Text())
		}
		if i < len(p.Lines)-1 || !p.NoFinalNewline {
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("writing restore payload: %w", err)
	}
	return nil
}

// Text renders a line from its fields (ignoring Raw).
func (l Line) Text() string {
	switch l.Kind {
	case LineComment:
		return "#"
	case LineTable:
		return "*" + l.Table
	case LineChain:
		if l.Chain != nil {
			return l.Chain.Text()
		}
	case LineCommand:
		if l.Cmd != nil {
			return RestoreLine(l.Cmd)
		}
	case LineCommit:
		return "COMMIT"
	}
	return ""
}

// Text renders a chain declaration as ":NAME POLICY [p:b]" ([0:0] when the
// declaration has no counters, as iptables-save prints it).
func (d *ChainDecl) Text() string {
	c := Counters{}
	if d.Counters != nil {
		c = *d.Counters
	}
	pol := d.Policy
	if pol == "" {
		pol = "-"
	}
	return fmt.Sprintf(":%s %s [%d:%d]", d.Name, pol, c.Packets, c.Bytes)
}

// NewChainLine builds a chain declaration line for table.
func NewChainLine(table string, d ChainDecl) Line {
	return Line{Kind: LineChain, Table: table, Chain: &d}
}

// NewCommandLine builds a command line for table; its Cmd.Table is set.
func NewCommandLine(table string, c *Command) Line {
	cc := *c
	cc.Table = table
	return Line{Kind: LineCommand, Table: table, Cmd: &cc}
}

// RestoreLine renders a command as a restore line: no -t and no wait flags
// (iptables-restore refuses them), rule counters as a "[p:b]" prefix, words
// quoted as iptables-restore tokenizes them.
func RestoreLine(c *Command) string {
	words := commandWords(c, false)
	s := JoinWords(words)
	if c.Rule != nil && c.Rule.Counters != nil {
		s = fmt.Sprintf("[%d:%d] %s", c.Rule.Counters.Packets, c.Rule.Counters.Bytes, s)
	}
	return s
}

// FormatCommand renders a command as an iptables argv (without argv[0]),
// suitable for exec'ing the real binary: wait flags first, then the
// command, "-t TABLE" unless the table is filter, then the rule.
func FormatCommand(c *Command) []string {
	var out []string
	if c.Wait.Given {
		out = append(out, "-w")
		if c.Wait.Seconds > 0 {
			out = append(out, strconv.Itoa(c.Wait.Seconds))
		}
	}
	if c.Wait.IntervalGiven {
		out = append(out, "-W", strconv.Itoa(c.Wait.IntervalUsec))
	}
	out = append(out, commandWords(c, true)...)
	return out
}

// opFlags is indexed by Op.
var opFlags = [...]string{OpAppend: "-A", OpInsert: "-I", OpReplace: "-R", OpDelete: "-D", OpCheck: "-C",
	OpNewChain: "-N", OpDeleteChain: "-X", OpFlush: "-F", OpZero: "-Z", OpRename: "-E", OpPolicy: "-P",
	OpListRules: "-S", OpList: "-L", OpVersion: "-V", OpHelp: "-h"}

// String returns the short flag of the op ("-A"), or "" for OpNone.
func (o Op) String() string {
	if o < 0 || int(o) >= len(opFlags) {
		return ""
	}
	return opFlags[o]
}

func commandWords(c *Command, withTable bool) []string {
	var out []string
	if c.ZeroRule {
		// -Z with a rule number sets the command alone: the listing
		// must come after it.
		out = append(out, "-Z", c.Chain, strconv.Itoa(c.RuleNum), c.Op.String())
		return commandTail(c, withTable, out)
	}
	switch c.Op {
	case OpNone:
	case OpList, OpListRules, OpFlush, OpZero, OpDeleteChain:
		// The chain is optional here: iptables takes the next word only
		// when it does not look like an option, so such a name is
		// attached ("-L-x") as getopt's optional argument.
		switch {
		case c.Chain == "":
			out = append(out, c.Op.String())
		case strings.HasPrefix(c.Chain, "-") || strings.HasPrefix(c.Chain, "!"):
			out = append(out, c.Op.String()+c.Chain)
		default:
			out = append(out, c.Op.String(), c.Chain)
		}
	default:
		out = append(out, c.Op.String(), c.Chain)
	}
	if c.RuleNum > 0 {
		out = append(out, strconv.Itoa(c.RuleNum))
	}
	switch c.Op {
	case OpRename:
		out = append(out, c.NewName)
	case OpPolicy:
		out = append(out, c.Policy)
	}
	if c.Zero {
		out = append(out, "-Z")
	}
	return commandTail(c, withTable, out)
}

// commandTail appends to a command's words the table, the global flags and
// the rule.
func commandTail(c *Command, withTable bool, out []string) []string {
	if withTable && c.Table != "" && c.Table != "filter" {
		out = append(out, "-t", c.Table)
	}
	if withTable && c.Modprobe != "" {
		out = append(out, "-M", c.Modprobe)
	}
	for _, f := range []struct {
		on   bool
		flag string
	}{{c.Numeric, "-n"}, {c.Verbose, "-v"}, {c.Exact, "-x"}, {c.LineNumbers, "--line-numbers"}} {
		if f.on {
			out = append(out, f.flag)
		}
	}
	if c.Rule != nil {
		out = append(out, RuleWords(c.Rule, withTable && c.SetCounters)...)
	}
	return out
}

// RuleWords renders a rule specification as words, in iptables-save's
// order. Matches are always written with "-m NAME", also the implicit
// ones, so that each option is read back by the extension it was parsed
// for. A rule with extensions parsed by the generic fallback (see
// Rule.UnknownExtensions) is rendered best effort only: where its options
// belong depended on word order that the model does not keep, so callers
// should pass such a rule's original words on. withCounters adds "-c P B".
func RuleWords(r *Rule, withCounters bool) []string {
	var out []string
	field := func(f Field, flag string) {
		if !f.Set {
			return
		}
		if f.Invert {
			out = append(out, "!")
		}
		out = append(out, flag)
		if flag != "-f" {
			out = append(out, f.Value)
		}
	}
	field(r.Source, "-s")
	field(r.Dest, "-d")
	field(r.InIface, "-i")
	field(r.OutIface, "-o")
	field(r.Protocol, "-p")
	field(r.Fragment, "-f")
	if withCounters && r.Counters != nil {
		out = append(out, "-c", strconv.FormatUint(r.Counters.Packets, 10), strconv.FormatUint(r.Counters.Bytes, 10))
	}
	for _, m := range r.Matches {
		out = append(out, "-m", m.Name)
		out = appendOptions(out, m.Options)
	}
	if r.Target != nil {
		flag := "-j"
		if r.Target.Goto {
			flag = "-g"
		}
		out = append(out, flag, r.Target.Name)
		out = appendOptions(out, r.Target.Options)
	}
	return out
}

func appendOptions(out []string, opts []Option) []string {
	for _, o := range opts {
		if o.Invert {
			out = append(out, "!")
		}
		out = append(out, "--"+o.Name)
		out = append(out, o.Args...)
	}
	return out
}
