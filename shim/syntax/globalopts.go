package syntax

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/iptables-shim/iptables-shim/shim/ipterr"
)

// addCommand is iptables' add_command.
func (p *parser) addCommand(b cmdBits, c byte, others cmdBits) error {
	if p.invert {
		return paramErr("unexpected ! flag before --%s", longOf(c))
	}
	if p.bits&^others != 0 {
		return paramErr("Cannot use -%c with -%c", cmdChar(b), cmdChar(p.bits&^others))
	}
	p.bits |= b
	return nil
}

func longOf(c byte) string {
	for _, o := range globalOpts {
		if o.short == c {
			return o.long
		}
	}
	return string(c)
}

// ruleCmdBits is the command bit of -A, -C, -D, -R or -I.
func ruleCmdBits(c byte) cmdBits {
	switch c {
	case 'A':
		return cmdAppend
	case 'C':
		return cmdCheck
	case 'D':
		return cmdDelete
	case 'R':
		return cmdReplace
	}
	return cmdInsert
}

// setOption is iptables' set_option for the generic options.
func (p *parser) setOption(b optBit, invertible bool) (bool, error) {
	i := bitIndex(b)
	if p.opts&b != 0 {
		return false, paramErrWorded("multiple %s flags not allowed", "multiple %s options not allowed", optName(i), optLongNames[i])
	}
	p.opts |= b
	inv := p.invert
	if inv && !invertible {
		return false, paramErrWorded("cannot have ! before %s", "cannot have ! before %s", optName(i), optLongNames[i])
	}
	p.invert = false
	return inv, nil
}

func bitIndex(b optBit) int {
	for i := 0; i < len(optChars); i++ {
		if b == 1<<i {
			return i
		}
	}
	return 0
}

func parseRuleNumber(s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 31)
	if err != nil || n < 1 {
		return 0, paramErr("Invalid rule number `%s'", s)
	}
	return int(n), nil
}

// optionalChain takes the optional chain of -L/-S/-F/-Z/-X: the attached
// value, or the next word when it is not an option.
func (p *parser) optionalChain(arg *string) {
	if arg != nil {
		p.cmd.Chain = *arg
	} else if p.hasArg() {
		p.cmd.Chain = p.next()
	}
}

// global handles one of iptables' own options. tok is the word it came
// from, for messages.
func (p *parser) global(c byte, arg *string, tok string) (bool, error) {
	cmd := p.cmd
	var err error
	switch c {
	case 'A', 'C', 'D', 'R', 'I':
		bits := ruleCmdBits(c)
		if err = p.addCommand(bits, c, 0); err != nil {
			return false, err
		}
		cmd.Chain = *arg
		switch c {
		case 'D':
			if p.hasArg() {
				if cmd.RuleNum, err = parseRuleNumber(p.next()); err != nil {
					return false, err
				}
				p.bits = p.bits&^cmdDelete | cmdDeleteNum
			}
		case 'R':
			if !p.hasArg() {
				return false, paramErr("-%c requires a rule number", c)
			}
			if cmd.RuleNum, err = parseRuleNumber(p.next()); err != nil {
				return false, err
			}
		case 'I':
			if p.hasArg() {
				if cmd.RuleNum, err = parseRuleNumber(p.next()); err != nil {
					return false, err
				}
			}
		}
	case 'L', 'S':
		bits := cmdList
		if c == 'S' {
			bits = cmdListRules
		}
		if err = p.addCommand(bits, c, cmdZero|cmdZeroNum); err != nil {
			return false, err
		}
		p.optionalChain(arg)
		if p.hasArg() {
			if cmd.RuleNum, err = parseRuleNumber(p.next()); err != nil {
				return false, err
			}
		}
	case 'F', 'X':
		bits := cmdFlush
		if c == 'X' {
			bits = cmdDeleteChain
		}
		if err = p.addCommand(bits, c, 0); err != nil {
			return false, err
		}
		p.optionalChain(arg)
	case 'Z':
		if err = p.addCommand(cmdZero, c, cmdList|cmdListRules); err != nil {
			return false, err
		}
		p.optionalChain(arg)
		if p.hasArg() {
			if cmd.RuleNum, err = parseRuleNumber(p.next()); err != nil {
				return false, err
			}
			// iptables sets the command to this alone: -L or -S
			// given before is forgotten.
			p.bits = cmdZeroNum
		}
	case 'N':
		if err = p.addCommand(cmdNewChain, c, 0); err != nil {
			return false, err
		}
		if err = checkNewChainName(*arg, p.fam); err != nil {
			return false, err
		}
		cmd.Chain = *arg
	case 'E':
		if err = p.addCommand(cmdRename, c, 0); err != nil {
			return false, err
		}
		cmd.Chain = *arg
		if !p.hasArg() {
			return false, paramErr("-%c requires old-chain-name and new-chain-name", c)
		}
		cmd.NewName = p.next()
		if err = checkNewChainName(cmd.NewName, p.fam); err != nil {
			return false, err
		}
	case 'P':
		if err = p.addCommand(cmdPolicy, c, 0); err != nil {
			return false, err
		}
		cmd.Chain = *arg
		if !p.hasArg() {
			return false, paramErr("-%c requires a chain and a policy", c)
		}
		cmd.Policy = p.next()
	case 'h':
		cmd.Op = OpHelp
		cmd.Help = p.helpRequest()
	case 'V':
		cmd.Op = OpVersion
	case 'p':
		inv, err := p.setOption(optProto, true)
		if err != nil {
			return false, err
		}
		if err := checkProtocol(*arg); err != nil {
			return false, err
		}
		if n, _ := ProtocolNumber(*arg); n == 0 && inv {
			return false, paramErr("rule would never match protocol")
		}
		p.rule.Protocol = Field{Set: true, Invert: inv, Value: *arg}
	case 's', 'd':
		b, f := optSource, &p.rule.Source
		if c == 'd' {
			b, f = optDest, &p.rule.Dest
		}
		inv, err := p.setOption(b, true)
		if err != nil {
			return false, err
		}
		*f = Field{Set: true, Invert: inv, Value: *arg}
	case 'i', 'o':
		b, f := optIn, &p.rule.InIface
		if c == 'o' {
			b, f = optOut, &p.rule.OutIface
		}
		inv, err := p.setOption(b, true)
		if err != nil {
			return false, err
		}
		if err := checkInterface(*arg); err != nil {
			return false, err
		}
		*f = Field{Set: true, Invert: inv, Value: *arg}
	case 'f':
		if p.fam == IPv6 {
			return false, paramErr("`-f' is not supported in IPv6, use -m frag instead")
		}
		inv, err := p.setOption(optFragment, true)
		if err != nil {
			return false, err
		}
		p.rule.Fragment = Field{Set: true, Invert: inv}
	case 'j', 'g':
		// -g shares -j's option bit, so iptables names -j in both
		// messages.
		if _, err := p.setOption(optJump, false); err != nil {
			return false, err
		}
		if err := p.loadTarget(*arg, c == 'g'); err != nil {
			return false, err
		}
	case 'm':
		if p.invert {
			return false, paramErr("unexpected ! flag before --match")
		}
		p.loadMatch(*arg, false)
	case 'n', 'x', '0':
		b := optLineNumbers
		switch c {
		case 'n':
			b = optNumeric
		case 'x':
			b = optExact
		}
		if _, err := p.setOption(b, false); err != nil {
			return false, err
		}
		switch c {
		case 'n':
			cmd.Numeric = true
		case 'x':
			cmd.Exact = true
		default:
			cmd.LineNumbers = true
		}
	case 'v':
		if !cmd.Verbose {
			if _, err := p.setOption(optVerbose, false); err != nil {
				return false, err
			}
		}
		cmd.Verbose = true
	case 't':
		if p.invert {
			return false, paramErr("unexpected ! flag before --table")
		}
		if p.restore {
			return false, paramErr("The -t option cannot be used in %s.\n", progToken)
		}
		if !isRestoreTable(*arg) {
			return false, diagErr(ipterr.Version, FormVersionProblem, fmt.Sprintf("table '%s' does not exist", *arg))
		}
		cmd.Table = *arg
		p.tableSet = true
	case 'w', 'W':
		if p.restore {
			// 1.8.9 names iptables-restore here for both families.
			return false, paramErr("You cannot use `-%c' from iptables-restore", c)
		}
		return false, p.wait(c, arg)
	case 'M':
		cmd.Modprobe = *arg
	case 'c':
		return false, p.counters(*arg)
	case '4', '6':
		if (c == '4') != (p.fam == IPv4) {
			if !p.restore {
				return false, bareErr("")
			}
			cmd.Ignored = true
		}
	default:
		return false, paramErr("unknown option \"%s\"", tok)
	}
	return false, nil
}

// scanInt is C sscanf("%i"): leading blanks, a sign, 0x/0 prefixes, and
// trailing garbage ignored.
func scanInt(s string) (int, bool) {
	s = trimCSpace(s)
	end := 0
	if end < len(s) && (s[end] == '-' || s[end] == '+') {
		end++
	}
	base := 10
	digits := "0123456789"
	if strings.HasPrefix(s[end:], "0x") || strings.HasPrefix(s[end:], "0X") {
		if end+2 < len(s) && strings.ContainsRune("0123456789abcdefABCDEF", rune(s[end+2])) {
			base, digits, end = 16, "0123456789abcdefABCDEF", end+2
		}
	} else if strings.HasPrefix(s[end:], "0") {
		base, digits = 8, "01234567"
	}
	start := end
	for end < len(s) && strings.IndexByte(digits, s[end]) >= 0 {
		end++
	}
	if end == start {
		return 0, false
	}
	n, err := strconv.ParseInt(s[start:end], base, 64)
	if err != nil {
		return 0, true
	}
	if s[0] == '-' {
		n = -n
	}
	return int(int32(n)), true
}

func (p *parser) wait(c byte, arg *string) error {
	w := &p.cmd.Wait
	val := arg
	if val == nil && p.hasArg() {
		s := p.next()
		val = &s
	}
	if c == 'w' {
		w.Given = true
		w.Bare = val == nil
		if val != nil {
			n, ok := scanInt(*val)
			if !ok {
				return paramErr("wait seconds not numeric")
			}
			if n < 0 {
				n = 0
			}
			w.Seconds = n
		}
		return nil
	}
	if val == nil {
		return paramErr("wait interval value required")
	}
	n, ok := scanInt(*val)
	if !ok {
		return paramErr("wait interval not numeric")
	}
	if uint32(n) > 999999 {
		return paramErr("too long usec wait %d > 999999 usec", uint32(n))
	}
	w.IntervalGiven = true
	w.IntervalUsec = n
	return nil
}

// counters is -c PKTS BYTES (or -c PKTS,BYTES).
func (p *parser) counters(pcnt string) error {
	if _, err := p.setOption(optCounters, false); err != nil {
		return err
	}
	var bcnt string
	if i := strings.IndexByte(pcnt, ','); i >= 1 {
		pcnt, bcnt = pcnt[:i], pcnt[i+1:]
	} else if p.hasArg() {
		bcnt = p.next()
	} else {
		return paramErr("-c requires packet and byte counter")
	}
	pk, ok1 := scanUint64(pcnt)
	if !ok1 {
		return paramErr("-c packet counter not numeric")
	}
	by, ok2 := scanUint64(bcnt)
	if !ok2 {
		return paramErr("-c byte counter not numeric")
	}
	p.cmd.SetCounters = true
	p.block.ctr = Counters{Packets: pk, Bytes: by}
	p.rule.Counters = &p.block.ctr
	return nil
}

// trimCSpace drops the leading bytes C's isspace accepts, as sscanf's
// numeric conversions do.
func trimCSpace(s string) string {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	return s[i:]
}

// scanUint64 is sscanf("%llu"): leading digits count, trailing garbage is
// ignored; a leading '-' wraps as C does.
func scanUint64(s string) (uint64, bool) {
	n, _, ok := scanUint64Prefix(s)
	return n, ok
}

// scanUint64Prefix is scanUint64 that also returns what follows the
// number, where sscanf goes on matching its format.
func scanUint64Prefix(s string) (uint64, string, bool) {
	s = trimCSpace(s)
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == 0 {
		return 0, s, false
	}
	n, err := strconv.ParseUint(s[:end], 10, 64)
	if err != nil {
		n = ^uint64(0)
	}
	if neg {
		n = -n
	}
	return n, s[end:], true
}

// helpRequest records the extensions loaded before -h.
func (p *parser) helpRequest() *HelpRequest {
	h := &HelpRequest{Protocol: p.rule.Protocol.Value}
	for _, m := range p.matches {
		h.Matches = append(h.Matches, m.Name)
	}
	if t := p.rule.Target; t != nil && !t.Goto {
		h.Target = t.Name
		if isStandardVerdict(t.Name) {
			h.Target = "standard"
		}
	}
	return h
}
