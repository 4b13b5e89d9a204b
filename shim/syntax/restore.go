package syntax

import (
	"bufio"
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
}

// restoreTables are the tables iptables-restore accepts after '*'.
var restoreTables = map[string]bool{"filter": true, "nat": true, "mangle": true, "raw": true, "security": true}

// ParseRestore parses iptables-restore input for family fam as
// iptables-restore 1.8.9 without --counters does. Errors carry the input
// line (ipterr.Error.Line).
func ParseRestore(r io.Reader, fam Family) (*Payload, error) {
	return ParseRestoreWith(r, RestoreOptions{Family: fam})
}

// ParseRestoreWith is ParseRestore with options.
func ParseRestoreWith(r io.Reader, o RestoreOptions) (*Payload, error) {
	br := bufio.NewReader(r)
	p := &Payload{Family: o.Family}
	table, inTable, n := "", false, 0
	for {
		raw, err := br.ReadString('\n')
		if err != nil && err != io.EOF {
			return nil, ipterr.Wrap(ipterr.Other, err, fmt.Sprintf("reading restore input: %v", err))
		}
		if raw == "" && err == io.EOF {
			break
		}
		n++
		text := strings.TrimSuffix(raw, "\n")
		if !strings.HasSuffix(raw, "\n") {
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
			name := firstField(text[1:])
			if name == "" {
				return nil, atLine(paramErr("%s: line %d table name invalid", progToken, n), n, o.Family)
			}
			if !restoreTables[name] {
				return nil, atLine(paramErr("%s: line %d table name '%s' invalid", progToken, n, name), n, o.Family)
			}
			ln.Kind, table, inTable = LineTable, name, true
			ln.Table = table
		case !inTable:
			return nil, lineFailed(n)
		case text[0] == ':':
			d, err := parseChainDecl(text[1:], n, o)
			if err != nil {
				return nil, atLine(err, n, o.Family)
			}
			ln.Kind, ln.Chain = LineChain, d
		default:
			cmd, err := parseRestoreCommand(text, table, n, o)
			if err != nil {
				return nil, atLine(err, n, o.Family)
			}
			ln.Kind, ln.Cmd = LineCommand, cmd
		}
		p.Lines = append(p.Lines, ln)
		if err == io.EOF {
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

// lineFailed is restore's "line N failed" (exit 1): a line outside any
// table section, which iptables-nft only notices when it commits.
func lineFailed(n int) error {
	e := diagErr(ipterr.Other, FormShort, fmt.Sprintf("line %d failed", n))
	e.Line = n
	return e
}

// firstField is strtok(s, " \t\n"): the first blank-separated field.
func firstField(s string) string {
	f := strings.FieldsFunc(s, isBlank)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

func isBlank(r rune) bool { return r == ' ' || r == '\t' || r == '\n' }

// parseChainDecl parses what follows ':' on a chain line.
func parseChainDecl(s string, n int, o RestoreOptions) (*ChainDecl, error) {
	f := strings.FieldsFunc(s, isBlank)
	if len(f) == 0 {
		return nil, paramErr("%s: line %d chain name invalid", progToken, n)
	}
	d := &ChainDecl{Name: f[0]}
	if len(d.Name) > maxChainNameLen {
		return nil, paramErr("chain name `%s' too long (must be under %d chars)", d.Name, maxChainNameLen+1)
	}
	if len(f) < 2 {
		return nil, paramErr("%s: line %d policy invalid", progToken, n)
	}
	if d.Name[0] == '-' || d.Name[0] == '!' {
		return nil, paramErr("chain name not allowed to start with `%c'", d.Name[0])
	}
	d.Policy = f[1]
	if len(f) >= 3 {
		d.Counters = scanBracketCounters(f[2])
	}
	if o.Counters && d.Policy != "-" && d.Counters == nil {
		return nil, paramErr("invalid policy counters for chain '%s'", d.Name)
	}
	return d, nil
}

// scanBracketCounters is sscanf("[%llu:%llu]") == 2.
func scanBracketCounters(s string) *Counters {
	if !strings.HasPrefix(s, "[") {
		return nil
	}
	ps, rest, ok := strings.Cut(s[1:], ":")
	if !ok || strings.HasPrefix(ps, " ") {
		return nil
	}
	pk, ok1 := scanUint64(ps)
	by, ok2 := scanUint64(strings.TrimRight(rest, "]"))
	if !ok1 || !ok2 {
		return nil
	}
	return &Counters{Packets: pk, Bytes: by}
}

// parseRestoreCommand parses a command line inside a table section.
func parseRestoreCommand(text, table string, n int, o RestoreOptions) (*Command, error) {
	var pre []string
	var ctr *Counters
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
		if o.Counters {
			pre = []string{"-c", pcnt, bcnt}
		} else if pk, ok := scanUint64(pcnt); ok {
			if by, ok := scanUint64(bcnt); ok {
				ctr = &Counters{Packets: pk, Bytes: by}
			}
		}
	}
	cmd, err := parseCommand(append(pre, Tokenize(text)...), o.Family, true)
	if err != nil {
		return nil, err
	}
	cmd.Table = table
	if ctr != nil && cmd.Rule != nil {
		cmd.Rule.Counters = ctr
	}
	return cmd, nil
}
