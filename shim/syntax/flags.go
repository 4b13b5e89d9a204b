package syntax

import (
	"fmt"
	"strings"

	"github.com/iptables-shim/iptables-shim/shim/ipterr"
)

// RestoreFlags are iptables-restore's (and ip6tables-restore's) options.
type RestoreFlags struct {
	NoFlush  bool   // -n, --noflush
	Counters bool   // -c, --counters
	Test     bool   // -t, --test
	Verbose  bool   // -v, --verbose
	Table    string // -T, --table: restore only this table
	// Wait is -w/--wait and -W/--wait-interval. iptables-restore 1.8.9
	// (nf_tables) takes the word after -w or -W when it is not an option,
	// without checking it, and ignores both.
	Wait     Wait
	Modprobe string // -M, --modprobe
	Version  bool   // -V, --version
	Help     bool   // -h, --help
	// Binary is -b/--binary, which iptables-restore 1.8.9 only warns
	// about ("-b/--binary option is not implemented").
	Binary bool
	// File is the input file given as the one non-option argument ("" =
	// standard input).
	File string
}

// SaveFlags are iptables-save's options.
type SaveFlags struct {
	Table    string // -t, --table
	Counters bool   // -c, --counters
	Modprobe string // -M, --modprobe
	Version  bool   // -V, --version
	Help     bool   // -h, --help
	Dump     bool   // -d, --dump (accepted, no effect)
	File     string // -f, --file: write to this file
	// Binary is -b/--binary: iptables-save 1.8.9 warns that it is not
	// implemented and saves as usual.
	Binary bool
}

// flagSpec is one option of a getopt-parsed tool.
type flagSpec struct {
	long  string
	short byte
	arity arity
}

var restoreFlagSpecs = []flagSpec{
	{"binary", 'b', argNone}, {"counters", 'c', argNone}, {"verbose", 'v', argNone},
	{"version", 'V', argNone}, {"test", 't', argNone}, {"help", 'h', argNone},
	{"noflush", 'n', argNone}, {"modprobe", 'M', argOne}, {"table", 'T', argOne},
	{"wait", 'w', argOptional}, {"wait-interval", 'W', argOptional},
}

var saveFlagSpecs = []flagSpec{
	{"counters", 'c', argNone}, {"dump", 'd', argNone}, {"table", 't', argOne},
	{"modprobe", 'M', argOne}, {"file", 'f', argOne}, {"version", 'V', argNone},
	{"binary", 'b', argNone},
}

// getoptUsage is a glibc getopt complaint followed by the tool's hint line.
func getoptUsage(hint, format string, args ...any) *ipterr.Error {
	return diagErr(ipterr.Other, FormPlain, argv0Token+": "+fmt.Sprintf(format, args...)+"\n"+hint)
}

const (
	restoreHint = "Try `" + progToken + " -h' for more information."
	saveHint    = "Look at manual page `" + progToken + ".8' for more information."
)

// getoptFlags runs a permuting glibc getopt_long over args and calls fn for
// each option (arg nil when none). Non-options are returned in order.
// takesNext reports options that consume the next non-option word.
func getoptFlags(args []string, specs []flagSpec, hint string, takesNext func(byte) bool, fn func(c byte, arg *string)) ([]string, error) {
	var rest []string
	hasArg := func(i int) bool {
		return i < len(args) && !strings.HasPrefix(args[i], "-") && !strings.HasPrefix(args[i], "!")
	}
	for i := 0; i < len(args); i++ {
		tok := args[i]
		switch {
		case tok == "--":
			return append(rest, args[i+1:]...), nil
		case strings.HasPrefix(tok, "--"):
			name, val, hasVal := strings.Cut(tok[2:], "=")
			var found *flagSpec
			ambiguous := false
			for k := range specs {
				if specs[k].long == name {
					found, ambiguous = &specs[k], false
					break
				}
				if strings.HasPrefix(specs[k].long, name) {
					if found != nil {
						ambiguous = true
					}
					found = &specs[k]
				}
			}
			if found == nil {
				return nil, getoptUsage(hint, "unrecognized option '%s'", tok)
			}
			if ambiguous {
				return nil, getoptUsage(hint, "option '%s' is ambiguous", tok)
			}
			var arg *string
			switch found.arity {
			case argNone:
				if hasVal {
					return nil, getoptUsage(hint, "option '--%s' doesn't allow an argument", found.long)
				}
			case argOne:
				if hasVal {
					arg = &val
				} else if i+1 < len(args) {
					i++
					arg = &args[i]
				} else {
					return nil, getoptUsage(hint, "option '--%s' requires an argument", found.long)
				}
			case argOptional:
				if hasVal {
					arg = &val
				}
			}
			if arg == nil && takesNext(found.short) && hasArg(i+1) {
				i++
				arg = &args[i]
			}
			fn(found.short, arg)
		case len(tok) > 1 && tok[0] == '-':
			for k := 1; k < len(tok); k++ {
				c := tok[k]
				var sp *flagSpec
				for j := range specs {
					if specs[j].short == c && specs[j].arity != argOptional {
						sp = &specs[j]
					}
				}
				// -w and -W are plain flags in the optstring; only their
				// long forms take "=value".
				if sp == nil && (c != 'w' && c != 'W' || !takesNext(c)) {
					return nil, getoptUsage(hint, "invalid option -- '%c'", c)
				}
				var arg *string
				if sp != nil && sp.arity == argOne {
					if rest := tok[k+1:]; rest != "" {
						arg = &rest
					} else if i+1 < len(args) {
						i++
						arg = &args[i]
					} else {
						return nil, getoptUsage(hint, "option requires an argument -- '%c'", c)
					}
					fn(c, arg)
					break
				}
				if takesNext(c) && k == len(tok)-1 && hasArg(i+1) {
					i++
					arg = &args[i]
				}
				fn(c, arg)
			}
		default:
			rest = append(rest, tok)
		}
	}
	return rest, nil
}

// ParseRestoreArgs parses iptables-restore's arguments (after argv[0]) as
// iptables-restore 1.8.9 (nf_tables) does. kube-proxy passes "-w 5" and
// "-W 100000" as separate words; both are accepted.
func ParseRestoreArgs(args []string) (RestoreFlags, error) {
	var f RestoreFlags
	rest, err := getoptFlags(args, restoreFlagSpecs, restoreHint,
		func(c byte) bool { return c == 'w' || c == 'W' },
		func(c byte, arg *string) {
			switch c {
			case 'b':
				f.Binary = true
			case 'c':
				f.Counters = true
			case 'v':
				f.Verbose = true
			case 'V':
				f.Version = true
			case 't':
				f.Test = true
			case 'h':
				f.Help = true
			case 'n':
				f.NoFlush = true
			case 'M':
				f.Modprobe = *arg
			case 'T':
				f.Table = *arg
			case 'w':
				f.Wait.Given = true
				if arg != nil {
					if n, ok := scanInt(*arg); ok && n > 0 {
						f.Wait.Seconds = n
					}
				}
			case 'W':
				f.Wait.IntervalGiven = true
				if arg != nil {
					if n, ok := scanInt(*arg); ok && n > 0 {
						f.Wait.IntervalUsec = n
					}
				}
			}
		})
	if err != nil {
		return RestoreFlags{}, err
	}
	switch {
	case len(rest) == 1:
		f.File = rest[0]
	case len(rest) > 1:
		return RestoreFlags{}, diagErr(ipterr.Other, FormPlain, "Unknown arguments found on commandline")
	}
	return f, nil
}

// ParseSaveArgs parses iptables-save's arguments (after argv[0]) as
// iptables-save 1.8.9 (nf_tables) does.
func ParseSaveArgs(args []string) (SaveFlags, error) {
	var f SaveFlags
	rest, err := getoptFlags(args, saveFlagSpecs, saveHint,
		func(byte) bool { return false },
		func(c byte, arg *string) {
			switch c {
			case 'c':
				f.Counters = true
			case 'd':
				f.Dump = true
			case 't':
				f.Table = *arg
			case 'M':
				f.Modprobe = *arg
			case 'f':
				f.File = *arg
			case 'V':
				f.Version = true
			case 'h':
				f.Help = true
			case 'b':
				f.Binary = true
			}
		})
	if err != nil {
		return SaveFlags{}, err
	}
	if len(rest) > 0 {
		return SaveFlags{}, diagErr(ipterr.Other, FormPlain, "Unknown arguments found on commandline")
	}
	return f, nil
}
