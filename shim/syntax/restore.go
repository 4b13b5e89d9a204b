package syntax

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/iptables-shim/iptables-shim/shim/ipterr"
)

// RestoreOptions adjust how a restore payload is parsed.
type RestoreOptions struct {
	Family Family
	// Counters is iptables-restore's --counters: the [p:b] prefix of a
	// rule line becomes "-c p b" (and is then checked), and chain policy
	// counters are checked. Without it both are parsed leniently and kept.
	Counters bool
	// PolicyCountersChecked is iptables 1.8.11's check of a built-in
	// chain's counters whenever the line has them, --counters or not
	// (":FORWARD ACCEPT bar" is refused; 1.8.9 ignores the word).
	PolicyCountersChecked bool
}

// isRestoreTable reports whether name is a table iptables accepts: after
// '*' in restore input, and for -t.
func isRestoreTable(name string) bool {
	switch name {
	case "filter", "nat", "mangle", "raw", "security":
		return true
	}
	return false
}

// ParseRestore parses iptables-restore input for family fam as
// iptables-restore 1.8.9 without --counters does. Errors carry the input
// line (ipterr.Error.Line).
func ParseRestore(r io.Reader, fam Family) (*Payload, error) {
	return ParseRestoreWith(r, RestoreOptions{Family: fam})
}

// ParseRestoreWith is ParseRestore with options.
func ParseRestoreWith(r io.Reader, o RestoreOptions) (*Payload, error) {
	lr := lineReader{r: r}
	rp := restoreParser{opts: o, p: parser{fam: o.Family, restore: true, mem: &slab{chunk: restoreChunk}}}
	p := &Payload{Family: o.Family}
	table, inTable, n := "", false, 0
	for {
		text, complete, err := lr.line()
		if err != nil && err != io.EOF {
			return nil, ipterr.Wrap(ipterr.Other, err, fmt.Sprintf("reading restore input: %v", err))
		}
		if text == "" && !complete {
			break
		}
		n++
		if !complete {
			p.NoFinalNewline = true
		}
		ln := Line{Num: n, Raw: text, Table: table}
		switch {
		case text == "":
			ln.Kind = LineBlank
		case text[0] == '#':
			ln.Kind = LineComment
		case inTable && text == "COMMIT":
			ln.Kind = LineCommit
			inTable = false
		case text[0] == '*' && !inTable:
			name, _ := nextField(text[1:])
			if name == "" {
				return nil, atLine(paramErr("%s: line %d table name invalid", progToken, n), n, o.Family)
			}
			if !isRestoreTable(name) {
				return nil, atLine(paramErr("%s: line %d table name '%s' invalid", progToken, n, name), n, o.Family)
			}
			ln.Kind, table, inTable = LineTable, name, true
			ln.Table = table
		case !inTable:
			return nil, lineFailed(n)
		case text[0] == ':':
			d, err := parseChainDecl(text[1:], n, o, rp.p.mem)
			if err != nil {
				return nil, atLine(err, n, o.Family)
			}
			ln.Kind, ln.Chain = LineChain, d
		default:
			cmd, err := rp.command(text, table, n)
			if err != nil {
				return nil, atLine(err, n, o.Family)
			}
			ln.Kind, ln.Cmd = LineCommand, cmd
		}
		if p.Lines == nil {
			p.Lines = make([]Line, 0, lr.lineEstimate())
		}
		p.Lines = append(p.Lines, ln)
		if !complete {
			break
		}
	}
	if inTable {
		e := diagErr(ipterr.Other, FormShort, fmt.Sprintf("COMMIT expected at line %d", n+1))
		e.Line = n + 1
		return nil, e
	}
	return p, nil
}

// restoreChunk is how many strings or options one slab array holds in a
// restore: large enough that allocations are rare, small enough that a
// payload of a few lines does not hold much memory.
const restoreChunk = 4096

// lineReader splits its input into lines as bufio.Reader.ReadString('\n')
// does, with the same order of lines and read errors, but reads large
// blocks and hands out lines as substrings of them, so that a line costs no
// allocation and Line.Raw shares the block.
type lineReader struct {
	r    io.Reader
	buf  []byte // the read buffer, reused from block to block
	rest string // read, not yet handed out
	err  error  // the reader's error, once it returned one
	// lines counts the newlines read so far, to size Payload.Lines.
	lines int
}

// readBlock is how much a lineReader reads before it hands out lines.
const readBlock = 256 << 10

// line returns the next line without its newline; complete reports that
// the newline was there. At the end of the input (or on a read error) it
// returns what is left with complete false and the error (io.EOF at the
// end).
func (l *lineReader) line() (text string, complete bool, err error) {
	searched := 0
	for {
		if i := strings.IndexByte(l.rest[searched:], '\n'); i >= 0 {
			i += searched
			text, l.rest = l.rest[:i], l.rest[i+1:]
			return text, true, nil
		}
		if l.err != nil {
			text, l.rest = l.rest, ""
			return text, false, l.err
		}
		searched = len(l.rest)
		l.fill()
	}
}

// fill reads the next block after what is left of the last one.
func (l *lineReader) fill() {
	if lr, ok := l.r.(interface{ Len() int }); ok && l.rest == "" {
		// An in-memory reader (strings, bytes) is copied once, whole.
		var b strings.Builder
		b.Grow(lr.Len())
		if _, err := io.Copy(&b, l.r); err != nil {
			l.err = err
		} else {
			l.err = io.EOF
		}
		l.rest = b.String()
		l.lines += strings.Count(l.rest, "\n")
		return
	}
	// The buffer grows with a long unfinished line so that reading one
	// stays linear.
	if size := max(readBlock, 2*len(l.rest)); cap(l.buf) < size {
		l.buf = make([]byte, 0, size)
	}
	buf := append(l.buf[:0], l.rest...)
	// Like bufio, give up on a reader that keeps returning nothing.
	for empty := 0; len(buf) < cap(buf); {
		n, err := l.r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			l.err = err
			break
		}
		if n > 0 {
			empty = 0
		} else if empty++; empty == 100 {
			l.err = io.ErrNoProgress
			break
		}
	}
	l.lines += bytes.Count(buf[len(l.rest):], newline)
	l.rest = string(buf)
}

var newline = []byte{'\n'}

// lineEstimate is how many lines the input read so far holds.
func (l *lineReader) lineEstimate() int { return l.lines + 1 }

// lineFailed is restore's "line N failed" (exit 1): a line outside any
// table section, which iptables-nft only notices when it commits.
func lineFailed(n int) error {
	e := diagErr(ipterr.Other, FormShort, fmt.Sprintf("line %d failed", n))
	e.Line = n
	return e
}

// nextField is strtok(s, " \t\n"): the first blank-separated field of s,
// and what follows it ("" when s is all blanks).
func nextField(s string) (field, rest string) {
	i := 0
	for i < len(s) && isBlank(s[i]) {
		i++
	}
	j := i
	for j < len(s) && !isBlank(s[j]) {
		j++
	}
	return s[i:j], s[j:]
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }

// parseChainDecl parses what follows ':' on a chain line.
func parseChainDecl(s string, n int, o RestoreOptions, mem *slab) (*ChainDecl, error) {
	name, s := nextField(s)
	if name == "" {
		return nil, paramErr("%s: line %d chain name invalid", progToken, n)
	}
	if len(name) > maxChainNameLen {
		return nil, paramErr("chain name `%s' too long (must be under %d chars)", name, maxChainNameLen+1)
	}
	policy, s := nextField(s)
	if policy == "" {
		return nil, paramErr("%s: line %d policy invalid", progToken, n)
	}
	if name[0] == '-' || name[0] == '!' {
		return nil, paramErr("chain name not allowed to start with `%c'", name[0])
	}
	b := mem.decl()
	b.decl = ChainDecl{Name: name, Policy: policy}
	ctrs, _ := nextField(s)
	if ctrs != "" {
		if c, ok := scanBracketCounters(ctrs); ok {
			b.ctr = c
			b.decl.Counters = &b.ctr
		}
	}
	if (o.Counters || o.PolicyCountersChecked && ctrs != "") && b.decl.Policy != "-" && b.decl.Counters == nil {
		return nil, paramErr("invalid policy counters for chain '%s'", name)
	}
	return &b.decl, nil
}

// scanBracketCounters is sscanf("[%llu:%llu]") == 2.
func scanBracketCounters(s string) (Counters, bool) {
	if !strings.HasPrefix(s, "[") {
		return Counters{}, false
	}
	pk, rest, ok := scanUint64Prefix(s[1:])
	if !ok || !strings.HasPrefix(rest, ":") {
		return Counters{}, false
	}
	by, _, ok := scanUint64Prefix(rest[1:])
	if !ok {
		return Counters{}, false
	}
	return Counters{Packets: pk, Bytes: by}, true
}

// restoreParser parses the command lines of one restore payload with one
// parser and one word list, reused from line to line.
type restoreParser struct {
	opts  RestoreOptions
	p     parser
	words []string
}

// parseRestoreCommand parses one command line inside a table section on
// its own.
func parseRestoreCommand(text, table string, n int, o RestoreOptions) (*Command, error) {
	rp := restoreParser{opts: o, p: parser{fam: o.Family, restore: true, mem: &slab{}}}
	return rp.command(text, table, n)
}

// command parses a command line inside a table section.
func (rp *restoreParser) command(text, table string, n int) (*Command, error) {
	words := rp.words[:0]
	var ctr Counters
	hasCtr := false
	if text[0] == '[' {
		colon := strings.IndexByte(text, ':')
		end := -1
		if colon >= 0 {
			end = strings.IndexByte(text[colon:], ']')
		}
		if end < 0 {
			return nil, paramErr("Bad line %d: need ]", n)
		}
		end += colon
		pcnt, bcnt := text[1:colon], text[colon+1:end]
		text = text[end+1:]
		if rp.opts.Counters {
			words = append(words, "-c", pcnt, bcnt)
		} else if pk, ok := scanUint64(pcnt); ok {
			if by, ok := scanUint64(bcnt); ok {
				ctr, hasCtr = Counters{Packets: pk, Bytes: by}, true
			}
		}
	}
	words = appendWords(words, text)
	rp.words = words
	cmd, err := rp.p.parse(words)
	if err != nil {
		return nil, err
	}
	cmd.Table = table
	var target *Target
	if cmd.Rule != nil {
		target = cmd.Rule.Target
	}
	if err := natDrop(table, cmd.Op, cmd.Policy, target); err != nil {
		return nil, err
	}
	if hasCtr && cmd.Rule != nil {
		rp.p.block.ctr = ctr
		cmd.Rule.Counters = &rp.p.block.ctr
	}
	return cmd, nil
}
