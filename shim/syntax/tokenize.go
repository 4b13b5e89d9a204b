package syntax

import "strings"

// Tokenize splits one restore command line into words the way
// iptables-restore 1.8.9 does (add_param_to_argv):
//   - blanks (space, tab, newline) separate words;
//   - a double quote opens a quoted part anywhere in a word; inside it a
//     backslash takes the next character literally and the closing quote
//     ends the word (so `"a b"c` is two words, `a"b c"` is one);
//   - a quoted empty string is an empty word;
//   - an unterminated quote runs to the end of the line;
//   - outside quotes a backslash is an ordinary character.
func Tokenize(line string) []string {
	return appendWords(nil, line)
}

// appendWords appends the words of line (see Tokenize) to dst. A word that
// is one stretch of line, as nearly all are, is a substring of line and
// costs no copy; only words joined across quotes or with escapes are built.
func appendWords(dst []string, line string) []string {
	w := wordScanner{line: line, start: -1, words: dst}
	inQuote := false
	for i := 0; i < len(line); {
		// Take the run of ordinary bytes at once.
		j := i
		if inQuote {
			for j < len(line) && line[j] != '\\' && line[j] != '"' {
				j++
			}
		} else {
			for j < len(line) && line[j] != '"' && !isBlank(line[j]) {
				j++
			}
		}
		if j > i {
			w.add(i, j)
			i = j
			continue
		}
		switch c := line[i]; {
		case inQuote && c == '\\':
			// The next byte is taken literally; a backslash ending the
			// line takes nothing.
			if i+1 < len(line) {
				w.add(i+1, i+2)
			}
			i += 2
		case inQuote: // the closing quote
			inQuote = false
			w.emit()
			i++
		case c == '"':
			inQuote = true
			i++
		default: // a blank
			if w.nonEmpty() {
				w.emit()
			}
			i++
		}
	}
	if w.nonEmpty() {
		w.emit()
	}
	return w.words
}

// wordScanner collects the current word of a line: as line[start:end]
// while its bytes are one stretch of the line, and in buf from the first
// bytes that do not follow on (a quote or an escape was skipped).
type wordScanner struct {
	line       string
	start, end int // start < 0: no byte yet
	buf        []byte
	built      bool
	words      []string
}

// add appends line[i:j] to the current word.
func (w *wordScanner) add(i, j int) {
	switch {
	case w.built:
		w.buf = append(w.buf, w.line[i:j]...)
	case w.start < 0:
		w.start, w.end = i, j
	case i == w.end:
		w.end = j
	default:
		w.buf = append(append(w.buf[:0], w.line[w.start:w.end]...), w.line[i:j]...)
		w.built = true
	}
}

func (w *wordScanner) nonEmpty() bool { return w.built || w.start >= 0 }

// emit ends the current word (possibly empty: a quoted "").
func (w *wordScanner) emit() {
	switch {
	case w.built:
		w.words = append(w.words, string(w.buf))
	case w.start < 0:
		w.words = append(w.words, "")
	default:
		w.words = append(w.words, w.line[w.start:w.end])
	}
	w.start, w.built = -1, false
}

// Quote renders one word so that Tokenize reads it back unchanged: plain
// words stay bare, others are double-quoted with '"' and '\' escaped.
func Quote(w string) string {
	if w != "" && !strings.ContainsAny(w, " \t\n\"\\") {
		return w
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(w); i++ {
		if w[i] == '"' || w[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(w[i])
	}
	b.WriteByte('"')
	return b.String()
}

// JoinWords renders words as one restore line (the inverse of Tokenize).
func JoinWords(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = Quote(w)
	}
	return strings.Join(q, " ")
}
