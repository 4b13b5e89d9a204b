package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/iptables-shim/iptables-shim/shim/config"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
)

// didYouMean is ` (did you mean "X"?)` (for a flag: ` (did you mean --X?)`)
// for the known word nearest to got, when one is close enough to be a slip
// of the keyboard, else "".
func didYouMean(got string, known []string, flag bool) string {
	best, bestDist := "", 0
	for _, k := range known {
		if d := editDistance(got, k); best == "" || d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" || bestDist > max(1, min(len(got), len(best))/3) {
		return ""
	}
	if flag {
		return fmt.Sprintf(" (did you mean --%s?)", best)
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance counts the insertions, deletions, substitutions and swaps
// of neighbours that turn a into b (optimal string alignment distance).
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// subcommandFlags is the flag set of a subcommand that reads settings: its
// own flags are added by the caller, the setting flags set cfg.
func subcommandFlags(name string, cfg *config.Config) *flag.FlagSet {
	fs := flag.NewFlagSet("iptables-shim "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg.RegisterFlags(fs)
	return fs
}

// parseSubcommand parses a subcommand's arguments. done is true when the
// subcommand should return code at once: help was asked for (usage on
// stdout, 0) or the arguments are wrong (2).
func parseSubcommand(fs *flag.FlagSet, args []string, usage string, stdout, stderr io.Writer) (code int, done bool) {
	err := fs.Parse(args)
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return 0, true
	}
	var known []string
	fs.VisitAll(func(f *flag.Flag) { known = append(known, f.Name) })
	fmt.Fprintf(stderr, "%s: %s\n%s", fs.Name(), flagError(err, known), usage)
	return int(ipterr.Parameter), true
}
