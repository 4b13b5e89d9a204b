package native

import (
	"bytes"
	"errors"
	"time"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// payloadSource hands the planner a restore payload, whole or in pieces.
type payloadSource interface {
	// each calls fn with consecutive pieces of the payload, in order.
	each(fn func(*syntax.Payload) error) error
	// lines is the number of lines that are neither blank nor comments.
	lines() int
	// before is the payload cut after the last COMMIT line before line
	// (1-based), nil when there is none.
	before(line int) payloadSource
}

// wholePayload is a payload already parsed by the caller.
type wholePayload struct{ p *syntax.Payload }

func (w wholePayload) each(fn func(*syntax.Payload) error) error { return fn(w.p) }

// before is never needed: a parsed payload has no parse errors.
func (w wholePayload) before(int) payloadSource { return nil }

func (w wholePayload) lines() int {
	n := 0
	for i := range w.p.Lines {
		if k := w.p.Lines[i].Kind; k != syntax.LineBlank && k != syntax.LineComment {
			n++
		}
	}
	return n
}

// errPieceMismatch says a piece failed to parse although the whole text
// parses: the caller must plan again from the start (each then parses the
// whole text).
var errPieceMismatch = errors.New("restore text parsed in pieces differs from the whole")

// chunkLines is how many input lines are parsed at a time.
const chunkLines = 4096

// chunkedText parses restore text a few thousand lines at a time, so only
// one piece of parsed lines is alive while the batch grows: parsed lines
// take several times the memory of their text, and a large payload held
// whole next to its batch would dominate the call's peak memory.
//
// A piece that starts or ends inside a table section gets a synthetic
// "*table" / "COMMIT" line for the parser, which are dropped again, and
// line numbers are shifted back to the input's. Text whose structure is not
// plain (a line outside any table, a missing COMMIT) or that fails to parse
// is parsed whole instead, so every error is syntax's own, with its lines.
type chunkedText struct {
	text    []byte
	opts    syntax.RestoreOptions
	timings *Timings // Parse is added to; may be nil
	// starts[i] is the byte offset of line i+1, table[i] the table
	// section it is in ("" outside any); both filled by scan.
	starts []int
	// table[i] indexes names: the table section line i+1 is in (0 for
	// none); last[i] the table of the last "*table" line up to it, which
	// syntax records as the Table of every line, sections or not.
	table, last []uint8
	names       []string
	counted     int
	plain       bool
	// size is the number of lines per piece (chunkLines; tests use less).
	size int
}

func newChunkedText(text []byte, o syntax.RestoreOptions, tm *Timings) *chunkedText {
	c := &chunkedText{text: text, opts: o, timings: tm, size: chunkLines}
	c.scan()
	return c
}

// scan splits the text into lines the way syntax does (at '\n', a last
// line without one included) and follows the table sections.
func (c *chunkedText) scan() {
	c.plain = true
	c.names = []string{""}
	inTable, table := false, uint8(0)
	for off := 0; off < len(c.text); {
		end := bytes.IndexByte(c.text[off:], '\n')
		next := len(c.text)
		line := c.text[off:]
		if end >= 0 {
			line, next = c.text[off:off+end], off+end+1
		}
		c.starts = append(c.starts, off)
		switch {
		case len(line) == 0 || line[0] == '#':
		case inTable && string(line) == "COMMIT":
			inTable = false
			c.counted++
		case line[0] == '*' && !inTable:
			inTable, table = true, c.nameIndex(firstField(line[1:]))
			c.counted++
		case !inTable:
			c.plain = false
		default:
			c.counted++
		}
		if inTable || string(line) == "COMMIT" {
			c.table = append(c.table, table)
		} else {
			c.table = append(c.table, 0)
		}
		c.last = append(c.last, table)
		off = next
	}
	if inTable {
		c.plain = false
	}
}

func (c *chunkedText) lines() int { return c.counted }

// nameIndex returns the index of a table name in names, adding it; a
// payload naming more than 255 tables is not plain (syntax refuses it).
func (c *chunkedText) nameIndex(name string) uint8 {
	for i, n := range c.names {
		if n == name {
			return uint8(i)
		}
	}
	if len(c.names) == 255 {
		c.plain = false
		return 0
	}
	c.names = append(c.names, name)
	return uint8(len(c.names) - 1)
}

func (c *chunkedText) parse(b []byte) (*syntax.Payload, error) {
	start := time.Now()
	p, err := syntax.ParseRestoreWith(bytes.NewReader(b), c.opts)
	if c.timings != nil {
		c.timings.Parse += time.Since(start)
	}
	if err != nil {
		return nil, &parseFailure{err}
	}
	return p, nil
}

// before cuts the text after the last COMMIT line that ends a table
// section before line.
func (c *chunkedText) before(line int) payloadSource {
	for i := min(line-1, len(c.starts)) - 1; i >= 0; i-- {
		if c.table[i] != 0 && string(c.lineText(i)) == "COMMIT" {
			end := len(c.text)
			if i+1 < len(c.starts) {
				end = c.starts[i+1]
			}
			p := newChunkedText(c.text[:end], c.opts, c.timings)
			p.size = c.size
			return p
		}
	}
	return nil
}

func (c *chunkedText) each(fn func(*syntax.Payload) error) error {
	whole := func() error {
		p, err := c.parse(c.text)
		if err != nil {
			return err
		}
		return fn(p)
	}
	if !c.plain || len(c.starts) <= c.size {
		return whole()
	}
	// Pieces are parsed and checked before any is planned only as far as
	// needed: a piece that fails to parse sends the whole text to the
	// parser, which reports the first error with its real line number. An
	// error in a later piece surfaces after earlier pieces were planned,
	// which is fine: nothing reaches the kernel before all are planned.
	for first := 0; first < len(c.starts); first += c.size {
		last := min(first+c.size, len(c.starts)) // exclusive, 0-based
		end := len(c.text)
		if last < len(c.starts) {
			end = c.starts[last]
		}
		var b []byte
		shift := first // real line number = parsed number + shift
		head := c.table[first] != 0 && !isTableLine(c.lineText(first))
		if head {
			b = append(b, '*')
			b = append(b, c.names[c.table[first]]...)
			b = append(b, '\n')
			shift--
		}
		b = append(b, c.text[c.starts[first]:end]...)
		if len(b) > 0 && b[len(b)-1] != '\n' {
			b = append(b, '\n')
		}
		tail := c.table[last-1] != 0 && string(c.lineText(last-1)) != "COMMIT"
		if tail {
			b = append(b, "COMMIT\n"...)
		}
		p, err := c.parse(b)
		if err != nil {
			if first == 0 {
				return whole()
			}
			// Earlier pieces were planned already: report the whole
			// text's error, or, if it parses whole, have the caller
			// start over with the whole text.
			c.plain = false
			if _, werr := c.parse(c.text); werr != nil {
				return werr
			}
			return errPieceMismatch
		}
		if head {
			p.Lines = p.Lines[1:]
		}
		if tail {
			p.Lines = p.Lines[:len(p.Lines)-1]
		}
		for i := range p.Lines {
			p.Lines[i].Num += shift
			p.Lines[i].Table = c.names[c.last[p.Lines[i].Num-1]]
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return nil
}

func (c *chunkedText) lineText(i int) []byte {
	end := len(c.text)
	if i+1 < len(c.starts) {
		end = c.starts[i+1]
	}
	return bytes.TrimSuffix(c.text[c.starts[i]:end], []byte{'\n'})
}

func isTableLine(b []byte) bool { return len(b) > 0 && b[0] == '*' }

// firstField is strtok(s, " \t\n"), as iptables-restore reads a table name.
func firstField(s []byte) string {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	j := i
	for j < len(s) && s[j] != ' ' && s[j] != '\t' {
		j++
	}
	return string(s[i:j])
}
