package syntax

import (
	"strings"
	"testing"
)

// TestRateestOptions checks libxt_rateest's old-style option handling:
// rates taken from the next word unless it looks like an option, aliases
// sharing one option, and its own words for "!" and repeats.
func TestRateestOptions(t *testing.T) {
	for _, c := range []struct {
		args string
		want string // the match's options as NAME[=ARG] joined by spaces, or the error
	}{
		{"--rateest RE1 --rateest-lt --rateest-bps 8bit", "rateest1=RE1 rateest-lt rateest-bps2=8bit"},
		{"--rateest1 RE1 --rateest-bps --rateest2 RE2 --rateest-lt", "rateest1=RE1 rateest-bps2 rateest2=RE2 rateest-lt"},
		{"--rateest RE1 ! --rateest-gt --rateest-pps1 ! --rateest-lt", "rateest1=RE1 rateest-gt rateest-pps1 rateest-lt"},
		{"--rateest RE1 --rateest-lt ! --rateest-pps1 1", "error: rateest: rateest-pps can't be inverted"},
		{"! --rateest RE1", "error: rateest: rateest can't be inverted"},
		{"--rateest RE1 --rateest1 RE2", "error: rateest: can't specify --rateest1 twice"},
		{"--rateest-eq --rateest-eq", "error: rateest: can't specify lt/gt/eq twice"},
		{"--rateest-lt --rateest-gt --rateest-eq", "rateest-lt rateest-gt rateest-eq"},
		{"--rateest-bps=1", `error: unknown option "--rateest-bps=1"`},
	} {
		cmd, err := ParseCommand(append([]string{"-A", "INPUT", "-m", "rateest"}, strings.Fields(c.args)...), IPv4)
		var got string
		if err != nil {
			got = "error: " + err.Error()
		} else {
			var parts []string
			for _, o := range cmd.Rule.Matches[0].Options {
				p := o.Name
				if len(o.Args) > 0 {
					p += "=" + strings.Join(o.Args, ",")
				}
				parts = append(parts, p)
			}
			got = strings.Join(parts, " ")
		}
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.args, got, c.want)
		}
	}
}
