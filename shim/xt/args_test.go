package xt

import (
	"fmt"
	"strings"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// splitWords splits a test case's command line like a shell would for the
// simple quoting the cases use ("..." groups words).
func splitWords(s string) ([]string, error) {
	var (
		out   []string
		cur   strings.Builder
		inQ   bool
		inTok bool
	)
	for _, r := range s {
		switch {
		case r == '"':
			inQ = !inQ
			inTok = true
		case (r == ' ' || r == '\t') && !inQ:
			if inTok {
				out = append(out, cur.String())
				cur.Reset()
				inTok = false
			}
		default:
			cur.WriteRune(r)
			inTok = true
		}
	}
	if inQ {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inTok {
		out = append(out, cur.String())
	}
	return out, nil
}

// testRule is what the golden cases use from a rule: -p, the matches and
// the target. It stands in for shim/syntax's parser so this package's
// tests do not depend on it; the option names follow the model's
// convention (long name without dashes).
type testRule struct {
	Protocol syntax.Field
	Matches  []syntax.Match
	Target   *syntax.Target
}

func parseTestRule(words []string) (testRule, error) {
	var (
		r      testRule
		invert bool
		opts   *[]syntax.Option
	)
	for i := 0; i < len(words); i++ {
		w := words[i]
		next := func() (string, error) {
			if i+1 >= len(words) {
				return "", fmt.Errorf("%s needs an argument", w)
			}
			i++
			return words[i], nil
		}
		switch {
		case w == "!":
			invert = true
		case w == "-p":
			v, err := next()
			if err != nil {
				return r, err
			}
			r.Protocol = syntax.Field{Set: true, Invert: invert, Value: v}
			invert = false
		case w == "-m":
			v, err := next()
			if err != nil {
				return r, err
			}
			r.Matches = append(r.Matches, syntax.Match{Name: v, Known: true})
			opts = &r.Matches[len(r.Matches)-1].Options
		case w == "-j" || w == "-g":
			v, err := next()
			if err != nil {
				return r, err
			}
			r.Target = &syntax.Target{Name: v, Goto: w == "-g", Known: true}
			opts = &r.Target.Options
		case strings.HasPrefix(w, "--"):
			if opts == nil {
				if !r.Protocol.Set {
					return r, fmt.Errorf("option %s before any extension", w)
				}
				r.Matches = append(r.Matches, syntax.Match{Name: r.Protocol.Value, Implicit: true, Known: true})
				opts = &r.Matches[len(r.Matches)-1].Options
			}
			*opts = append(*opts, syntax.Option{Name: strings.TrimPrefix(w, "--"), Invert: invert})
			invert = false
		default:
			if opts == nil || len(*opts) == 0 {
				return r, fmt.Errorf("stray argument %q", w)
			}
			o := &(*opts)[len(*opts)-1]
			o.Args = append(o.Args, w)
		}
	}
	return r, nil
}
