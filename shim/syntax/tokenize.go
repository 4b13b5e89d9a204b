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
	var words []string
	var cur strings.Builder
	inQuote, escaped := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		if inQuote {
			switch {
			case escaped:
				cur.WriteByte(c)
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inQuote = false
				words = append(words, cur.String())
				cur.Reset()
			default:
				cur.WriteByte(c)
			}
			continue
		}
		switch c {
		case '"':
			inQuote = true
		case ' ', '\t', '\n':
			if cur.Len() > 0 {
				words = append(words, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() > 0 {
		words = append(words, cur.String())
	}
	return words
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
