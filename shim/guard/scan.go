package guard

import (
	"bytes"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// MayJumpToUndeclared is a quick look at restore input, far cheaper than
// parsing it: false when every -j/-g target in the tables the restore
// applies is a verdict, a target extension, a built-in chain or a chain the
// input itself declares (":CHAIN" or "-N CHAIN"). Only then can the guard
// have nothing to do without parsing. When unsure (quotes around a target,
// bundled or abbreviated options) it says true, and parsing decides.
func MayJumpToUndeclared(data []byte, flags syntax.RestoreFlags, fam syntax.Family) bool {
	return mayJump(data, flags, fam, nil)
}

// MayNeedChains is MayJumpToUndeclared for what the guard with settings s
// may create: when it creates only catalog chains (unknown-chains=refuse),
// a jump to any other undeclared chain is left for the backend to judge,
// so a payload that jumps only to such chains (a kube-proxy partial sync
// jumps to thousands it declared in earlier syncs) needs no parse at all.
func MayNeedChains(data []byte, flags syntax.RestoreFlags, fam syntax.Family, s Settings) bool {
	if s.CreateUnknown {
		return mayJump(data, flags, fam, nil)
	}
	return mayJump(data, flags, fam, func(table, chain string) bool {
		_, known := s.Catalog.Lookup(table, chain)
		return known
	})
}

// mayJump is MayJumpToUndeclared counting only the undeclared references
// counts accepts (all when nil).
func mayJump(data []byte, flags syntax.RestoreFlags, fam syntax.Family, counts func(table, chain string) bool) bool {
	declared := map[string]bool{}
	type ref struct{ table, chain string }
	var refs []ref
	table := ""
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimLeft(line, " \t")
		if len(line) == 0 {
			continue
		}
		switch line[0] {
		case '*':
			// The table is the line's first word, as the restore
			// parsers take it ("*nat 0" is table nat).
			table = ""
			if f := bytes.Fields(line[1:]); len(f) > 0 {
				table = string(f[0])
			}
			continue
		case ':':
			name, _, _ := bytes.Cut(line[1:], []byte(" "))
			declared[table+"/"+string(name)] = true
			continue
		case '-', '[':
		default:
			continue
		}
		if flags.Table != "" && table != flags.Table {
			continue
		}
		var prev []byte
		for rest := line; ; {
			w, ok := nextWord(&rest)
			if !ok {
				break
			}
			if w.quoted {
				// A quoted word can still be an option to getopt
				// (`"-j"FOO`): unsure when it looks like one that may
				// jump; and never a chain name to trust.
				if w.dash && w.jg || (prev != nil && isJumpOption(prev)) {
					return true
				}
				prev = quotedArg
				continue
			}
			t := w.text
			switch {
			case prev != nil && string(prev) == "-N":
				declared[table+"/"+string(t)] = true
			case prev != nil && isJumpOption(prev):
				refs = append(refs, ref{table, string(t)})
			case isJumpOption(t):
			case len(t) > 1 && t[0] == '-' && t[1] != '-' && w.jg:
				return true // bundled short options such as -vj or -jFOO
			case bytes.HasPrefix(t, []byte("--j")) || bytes.HasPrefix(t, []byte("--g")):
				return true // an abbreviation or --jump=FOO
			}
			prev = t
		}
		if prev != nil && isJumpOption(prev) {
			return true // a jump option without its target
		}
	}
	for _, r := range refs {
		if declared[r.table+"/"+r.chain] || isBuiltin(r.chain) || isKernelTarget(r.chain) || (counts != nil && !counts(r.table, r.chain)) {
			continue
		}
		t := syntax.Target{Name: r.chain}
		if !t.ChainJump(fam) {
			continue // a verdict or a target extension
		}
		return true
	}
	return false
}

func isJumpOption(w []byte) bool {
	switch string(w) {
	case "-j", "-g", "--jump", "--goto":
		return true
	}
	return false
}

// quotedArg stands for a quoted word that is an argument, not an option.
var quotedArg = []byte{0}

// word is one word of a restore line.
type word struct {
	text   []byte // the word as written (for unquoted words)
	quoted bool   // it has a quoted part
	dash   bool   // its first character (quotes removed) is '-'
	jg     bool   // it holds a 'j' or 'g' after its first character
}

// nextWord returns the next word of *rest as iptables-restore's tokenizer
// splits a line (see syntax.Tokenize), without allocating: blanks separate
// words; a double quote opens a quoted part anywhere in a word, inside it a
// backslash takes the next character, and the closing quote ends the word;
// an unterminated quote runs to the end of the line.
func nextWord(rest *[]byte) (word, bool) {
	b := *rest
	i := 0
	for i < len(b) && isBlank(b[i]) {
		i++
	}
	if i == len(b) {
		*rest = nil
		return word{}, false
	}
	var w word
	n := 0 // characters seen, quotes and escapes removed
	see := func(c byte) {
		if n == 0 {
			w.dash = c == '-'
		} else if c == 'j' || c == 'g' {
			w.jg = true
		}
		n++
	}
	j := i
	for j < len(b) && !isBlank(b[j]) && b[j] != '"' {
		see(b[j])
		j++
	}
	if j == len(b) || b[j] != '"' {
		w.text = b[i:j]
		*rest = b[j:]
		return w, true
	}
	w.quoted = true
	j++ // the opening quote
	for j < len(b) && b[j] != '"' {
		if b[j] == '\\' && j+1 < len(b) {
			j++
		}
		see(b[j])
		j++
	}
	if j < len(b) {
		j++ // the closing quote ends the word
	}
	*rest = b[j:]
	return w, true
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }
