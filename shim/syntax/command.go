package syntax

import (
	"fmt"
	"math/bits"
	"strings"
)

// instance is one loaded extension (a -m match, an implicit protocol match
// or the -j target) while a command line is parsed. ext is nil for an
// extension this package does not describe.
type instance struct {
	ext    *extension
	name   string
	target bool
	match  int    // index in Rule.Matches; -1 for the target
	used   uint64 // bit i: option i of ext was given
}

// pendingOption is an option parsed for instance inst. Options are kept in
// parse order and grouped per match when the rule is built, because an
// option may belong to any loaded extension, not only the latest.
type pendingOption struct {
	inst int
	opt  Option
}

// optBit are the generic options iptables' legality table covers, in the
// order of its columns "nsdpjvxio0cf".
type optBit uint

const (
	optNumeric optBit = 1 << iota
	optSource
	optDest
	optProto
	optJump
	optVerbose
	optExact
	optIn
	optOut
	optLineNumbers
	optCounters
	optFragment
)

const optChars = "nsdpjvxio0cf"

// cmdBits mirrors iptables' CMD_* flags so that "-L -Z" can be combined and
// "Cannot use -X with -Y" is reported the same way.
type cmdBits uint

const (
	cmdInsert cmdBits = 1 << iota
	cmdDelete
	cmdDeleteNum
	cmdReplace
	cmdAppend
	cmdList
	cmdFlush
	cmdZero
	cmdNewChain
	cmdDeleteChain
	cmdPolicy
	cmdRename
	cmdListRules
	cmdZeroNum
	cmdCheck
)

// cmdInfo follows iptables' commands_v_options table: for each
// command, 'x' marks an option of optChars it refuses.
var cmdInfo = []struct {
	bit     cmdBits
	char    byte
	illegal string
}{
	{cmdInsert, 'I', "x     x  x  "},
	{cmdDelete, 'D', "x     x  xx "},
	{cmdDeleteNum, 'D', "xxxxx xxxxxx"},
	{cmdReplace, 'R', "x     x  x  "},
	{cmdAppend, 'A', "x     x  x  "},
	{cmdList, 'L', " xxxx  xx xx"},
	{cmdFlush, 'F', "xxxxx xxxxxx"},
	{cmdZero, 'Z', "xxxxx xxxxxx"},
	{cmdNewChain, 'N', "xxxxx xxxxxx"},
	{cmdDeleteChain, 'X', "xxxxx xxxxxx"},
	{cmdPolicy, 'P', "xxxxx xxxx x"},
	{cmdRename, 'E', "xxxxx xxxxxx"},
	{cmdListRules, 'S', "xxxxx xxxxxx"},
	{cmdZeroNum, 'Z', "xxxxx xxxxxx"},
	{cmdCheck, 'C', "x     x  xx "},
}

func cmdChar(b cmdBits) byte {
	for _, c := range cmdInfo {
		if b&c.bit != 0 {
			return c.char
		}
	}
	return '?'
}

// parser is the state of one command line parse; it follows the order of
// iptables 1.8.9's do_parse so that the first error reported is the same.
// A restore reuses one parser for all its lines: the scratch lists keep
// their arrays, and the model is cut from the shared slab.
type parser struct {
	args    []string
	i       int // getopt's optind
	fam     Family
	restore bool
	mem     *slab

	block     *commandBlock
	cmd       *Command
	rule      *Rule // in block; Command.Rule points to it for rule commands
	bits      cmdBits
	opts      optBit
	invert    bool
	protoUsed bool
	tableSet  bool
	targetSet bool

	// Scratch, reused from line to line.
	insts   []instance
	matches []Match
	pending []pendingOption
	view    []Option
}

// ParseCommand parses an iptables/ip6tables command line (the arguments
// after argv[0]) for the program of family fam. Errors are *ipterr.Error
// with the text iptables 1.8.9 prints (see FormatError).
func ParseCommand(args []string, fam Family) (*Command, error) {
	c := new(commandParser)
	c.p = parser{fam: fam, mem: &c.mem}
	c.p.insts, c.p.matches = c.scratch.insts[:0], c.scratch.matches[:0]
	c.p.pending, c.p.view = c.scratch.pending[:0], c.scratch.view[:0]
	return c.p.parse(args)
}

// commandParser is a parser for one command line, with its slab and room
// for the scratch lists of a typical rule, so that they cost one
// allocation.
type commandParser struct {
	p       parser
	mem     slab
	scratch struct {
		insts   [6]instance
		matches [6]Match
		pending [12]pendingOption
		view    [6]Option
	}
}

// parse parses one command line with p's family and mode, reusing p's
// scratch lists.
func (p *parser) parse(args []string) (*Command, error) {
	p.mem.reserveArgs(len(args))
	p.block = p.mem.block()
	p.block.cmd = Command{Table: "filter", Family: p.fam}
	p.args, p.i, p.cmd, p.rule = args, 0, &p.block.cmd, &p.block.rule
	p.bits, p.opts, p.invert = 0, 0, false
	p.protoUsed, p.tableSet, p.targetSet = false, false, false
	p.insts, p.matches, p.pending = p.insts[:0], p.matches[:0], p.pending[:0]
	if err := p.run(); err != nil {
		return nil, err
	}
	return p.cmd, nil
}

// hasArg is iptables' xs_has_arg: the next word exists and is not an
// option or "!".
func (p *parser) hasArg() bool {
	return p.i < len(p.args) && !strings.HasPrefix(p.args[p.i], "-") && !strings.HasPrefix(p.args[p.i], "!")
}

func (p *parser) next() string {
	s := p.args[p.i]
	p.i++
	return s
}

func (p *parser) run() error {
	for p.i < len(p.args) {
		tok := p.next()
		switch {
		case tok == "--":
			for p.i < len(p.args) {
				return bareErr("Bad argument `%s'", p.next())
			}
		case strings.HasPrefix(tok, "--"):
			if err := p.long(tok); err != nil {
				return err
			}
		case len(tok) > 1 && tok[0] == '-':
			if done, err := p.shortCluster(tok); err != nil || done {
				return err
			}
		case tok == "!":
			if p.invert {
				return paramErr("multiple consecutive ! not allowed")
			}
			p.invert = true
		default:
			return bareErr("Bad argument `%s'", tok)
		}
		if p.cmd.Op == OpVersion || p.cmd.Op == OpHelp || p.cmd.Ignored {
			return nil
		}
	}
	return p.finish()
}

// long handles "--name[=value]".
func (p *parser) long(tok string) error {
	name, val, hasVal := strings.Cut(tok[2:], "=")
	ref, ok, ambiguous := p.resolveLong(name)
	if ambiguous {
		return paramErr("unknown option \"%s\"", tok)
	}
	if !ok {
		return p.unknownLong(tok, name, val, hasVal)
	}
	var arg *string
	switch p.arity(ref) {
	case argNone:
		if hasVal {
			return paramErr("unknown option \"%s\"", tok)
		}
	case argOptional:
		if hasVal {
			arg = &val
		}
	case argPeek:
		if hasVal {
			return paramErr("unknown option \"%s\"", tok)
		}
		if p.hasArg() {
			s := p.next()
			arg = &s
		}
	default:
		if hasVal {
			arg = &val
		} else if p.i < len(p.args) {
			s := p.next()
			arg = &s
		} else {
			return paramErr("option \"%s\" requires an argument", tok)
		}
	}
	if ref.global != nil {
		_, err := p.global(ref.global.short, arg, tok)
		return err
	}
	return p.extOption(ref.inst, ref.opt, arg)
}

// unknownLong is iptables' command_default for an option getopt did not
// know: load the protocol's match once and retry, else fall back to an
// unknown extension, else fail.
func (p *parser) unknownLong(tok, name, val string, hasVal bool) error {
	if !p.protoUsed && p.rule.Protocol.Set {
		if m := implicitMatch(p.rule.Protocol.Value, p.fam); m != "" {
			p.protoUsed = true
			p.loadMatch(m, true)
			p.i--
			return nil
		}
	}
	for k := len(p.insts) - 1; k >= 0 && name != ""; k-- {
		if p.insts[k].ext != nil {
			continue
		}
		o := Option{Name: name, Invert: p.invert}
		p.invert = false
		start := p.i
		for p.hasArg() {
			p.i++
		}
		if hasVal {
			o.Args = take(&p.mem.strs, 1+p.i-start, p.mem.chunk)
			o.Args[0] = val
			copy(o.Args[1:], p.args[start:p.i])
		} else {
			o.Args = p.mem.args(p.args[start:p.i]...)
		}
		p.addOption(k, o)
		return nil
	}
	return paramErr("unknown option \"%s\"", tok)
}

// shortCluster handles "-abc" (several flags), "-jACCEPT", "-w5".
// done reports that the command line is finished (-V, -h).
func (p *parser) shortCluster(tok string) (bool, error) {
	for k := 1; k < len(tok); k++ {
		c := tok[k]
		ar, ok := shortArity[c].arity, shortArity[c].ok
		if !ok {
			shown := tok
			if k < len(tok)-1 {
				shown = "iptables"
				if p.i >= 2 {
					shown = p.args[p.i-2]
				}
			}
			return false, paramErr("unknown option \"%s\"", shown)
		}
		var arg *string
		rest := tok[k+1:]
		switch ar {
		case argOne:
			if rest != "" {
				arg = &rest
			} else if p.i < len(p.args) {
				s := p.next()
				arg = &s
			} else {
				return false, paramErr("option \"-%c\" requires an argument", c)
			}
		case argOptional:
			if rest != "" {
				arg = &rest
			}
		}
		if _, err := p.global(c, arg, tok); err != nil {
			return false, err
		}
		if p.cmd.Op == OpVersion || p.cmd.Op == OpHelp || p.cmd.Ignored {
			return true, nil
		}
		if arg != nil {
			return false, nil
		}
	}
	return false, nil
}

// opFor maps the command bits to the model's Op.
func opFor(b cmdBits) Op {
	switch {
	case b&cmdList != 0:
		return OpList
	case b&cmdListRules != 0:
		return OpListRules
	}
	for _, m := range opOfBits {
		if b&m.b != 0 {
			return m.op
		}
	}
	return OpNone
}

// opOfBits maps the other command bits to the model's Op, in the order
// opFor tries them.
var opOfBits = []struct {
	b  cmdBits
	op Op
}{{cmdAppend, OpAppend}, {cmdInsert, OpInsert}, {cmdReplace, OpReplace}, {cmdDelete | cmdDeleteNum, OpDelete},
	{cmdCheck, OpCheck}, {cmdNewChain, OpNewChain}, {cmdDeleteChain, OpDeleteChain}, {cmdFlush, OpFlush},
	{cmdZero | cmdZeroNum, OpZero}, {cmdRename, OpRename}, {cmdPolicy, OpPolicy}}

// finish runs iptables' checks after the option loop.
func (p *parser) finish() error {
	if p.invert {
		return paramErr("nothing appropriate following !")
	}
	if err := p.protoChecks(); err != nil {
		return err
	}
	if err := p.finalChecks(); err != nil {
		return err
	}
	if p.bits == 0 {
		return paramErr("no command specified")
	}
	cmd := p.cmd
	cmd.Op = opFor(p.bits)
	cmd.Zero = p.bits&(cmdZero|cmdZeroNum) != 0 && (cmd.Op == OpList || cmd.Op == OpListRules)
	cmd.ZeroRule = cmd.Zero && p.bits&cmdZeroNum != 0
	if err := p.legalOptions(); err != nil {
		return err
	}
	if err := natDrop(cmd.Table, cmd.Op, cmd.Policy, p.rule.Target); err != nil {
		return err
	}
	switch cmd.Op {
	case OpAppend, OpInsert, OpReplace, OpDelete, OpCheck:
		for _, f := range []*Field{&p.rule.Source, &p.rule.Dest} {
			if !f.Set {
				continue
			}
			v, err := checkAddresses(f.Value, p.fam)
			if err != nil {
				return err
			}
			f.Value = v
		}
		if (p.rule.Source.Invert || p.rule.Dest.Invert) &&
			(strings.Contains(p.rule.Source.Value, ",") || strings.Contains(p.rule.Dest.Value, ",")) {
			return errInvertMultiple()
		}
	}
	if len(cmd.Chain) > maxChainNameLen {
		return paramErr("chain name `%s' too long (must be under %d chars)", cmd.Chain, maxChainNameLen+1)
	}
	switch cmd.Op {
	case OpAppend, OpInsert, OpReplace, OpDelete, OpCheck:
		if p.rule.OutIface.Set && (cmd.Chain == "PREROUTING" || cmd.Chain == "INPUT") {
			return paramErr("Can't use -o with %s\n", cmd.Chain)
		}
		if p.rule.InIface.Set && (cmd.Chain == "POSTROUTING" || cmd.Chain == "OUTPUT") {
			return paramErr("Can't use -i with %s\n", cmd.Chain)
		}
		if !(cmd.Op == OpDelete && cmd.RuleNum > 0) {
			cmd.Rule = p.buildRule()
		}
	}
	return nil
}

// legalOptions is iptables' generic_opt_check: an option is legal when
// one of the given commands allows it.
func (p *parser) legalOptions() error {
	var legal optBit
	for _, c := range cmdInfo {
		if p.bits&c.bit == 0 {
			continue
		}
		// Read from the table on each call rather than precomputed: a
		// command line sets one or two commands, and a table built at
		// program start would cost every run of the binary.
		for i := 0; i < len(optChars); i++ {
			if c.illegal[i] != 'x' {
				legal |= 1 << i
			}
		}
	}
	if bad := p.opts &^ legal; bad != 0 {
		i := bits.TrailingZeros(uint(bad))
		return paramErrWorded("Illegal option `%s' with this command", "Illegal option `%s' with this command", optName(i), optLongNames[i])
	}
	return nil
}

func optName(i int) string {
	return fmt.Sprintf("-%c", optChars[i])
}

// optLongNames are the options of optChars as iptables 1.8.11 names them
// in its messages (ip46t_option_name).
var optLongNames = [len(optChars)]string{"--numeric", "--source", "--destination", "--protocol", "--jump",
	"--verbose", "--exact", "--in-interface", "--out-interface", "--line-numbers", "--set-counters", "--fragments"}

// natDrop is iptables' refusal of DROP in the nat table, made while
// parsing, whatever the command and whether the chain exists; a restore
// line is judged with its section's table.
func natDrop(table string, op Op, policy string, target *Target) error {
	if table == "nat" && (op == OpPolicy && policy == "DROP" || target != nil && target.Name == "DROP") {
		return paramErr("\nThe \"nat\" table is not intended for filtering, the use of DROP is therefore inhibited.\n\n")
	}
	return nil
}
