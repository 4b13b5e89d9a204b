package syntax

// Op is the one command of an iptables command line (-A, -D, -L, ...).
type Op int

const (
	// OpNone means no command was given (an error for iptables, but a
	// restore line may still be classified before it is checked).
	OpNone Op = iota
	// OpAppend is -A/--append.
	OpAppend
	// OpInsert is -I/--insert.
	OpInsert
	// OpReplace is -R/--replace.
	OpReplace
	// OpDelete is -D/--delete.
	OpDelete
	// OpCheck is -C/--check.
	OpCheck
	// OpNewChain is -N/--new-chain.
	OpNewChain
	// OpDeleteChain is -X/--delete-chain.
	OpDeleteChain
	// OpFlush is -F/--flush.
	OpFlush
	// OpZero is -Z/--zero.
	OpZero
	// OpRename is -E/--rename-chain.
	OpRename
	// OpPolicy is -P/--policy.
	OpPolicy
	// OpListRules is -S/--list-rules.
	OpListRules
	// OpList is -L/--list.
	OpList
	// OpVersion is -V/--version.
	OpVersion
	// OpHelp is -h/--help.
	OpHelp
)

// Command is one parsed iptables/ip6tables command line, or one command line
// of a restore payload.
type Command struct {
	Op      Op
	Table   string // "filter" when not given
	Chain   string // "" when the op allows none and none was given
	RuleNum int    // position for -I/-R/-D/-S/-L/-Z; 0 when absent
	NewName string // -E new name
	Policy  string // -P policy
	Rule    *Rule  // rule spec for -A/-I/-R/-D/-C (nil for -D N)
	Wait    Wait
	// Numeric, Verbose, Exact and LineNumbers are -n, -v, -x and
	// --line-numbers.
	Numeric, Verbose, Exact, LineNumbers bool
	// Family is the family of the program (iptables=IPv4, ip6tables=IPv6).
	// -4 on ip6tables (and -6 on iptables) makes iptables ignore the line,
	// which Ignored records.
	Family Family
	// Ignored is set when -4/-6 names the other family: iptables (and
	// iptables-restore) then silently skip the command and exit 0.
	Ignored bool
	// Modprobe is the -M/--modprobe argument (accepted and unused by nft).
	Modprobe string
	// Help is what -h/--help met before it: the extensions whose help
	// iptables appends to its own (OpHelp only).
	Help *HelpRequest
	// Zero is set for -L/-S combined with -Z (list, then zero counters).
	Zero bool
	// ZeroRule, with Zero, says -Z came first with a rule number
	// ("-Z CHAIN N -L"): only rule RuleNum is zeroed after the listing.
	// (A rule number after -Z makes the command -Z alone, even after -L
	// or -S: "-L -Z CHAIN N" only zeroes, as iptables parses it.)
	ZeroRule bool
	// SetCounters is set when -c/--set-counters was given (the values are
	// in Rule.Counters).
	SetCounters bool
}

// Wait is the -w/--wait and -W/--wait-interval options.
type Wait struct {
	Given   bool
	Seconds int // 0 = wait forever
	// Bare is set when -w came without a number (wait without limit);
	// an explicit "-w 0" leaves it unset.
	Bare         bool
	IntervalUsec int // -W; 0 when not given
	// IntervalGiven is set when -W was given: iptables-nft 1.8.9 then
	// warns "Ignoring deprecated --wait-interval option." on stderr.
	IntervalGiven bool
}

// Field is one of the fixed rule fields (-p, -s, -d, -i, -o, -f): whether it
// was given, whether it was negated with "!", and its value as given.
type Field struct {
	Set, Invert bool
	Value       string
}

// Counters are packet and byte counters, from -c P B or a [P:B] prefix.
type Counters struct {
	Packets, Bytes uint64
}

// Rule is a rule specification: the fixed fields, the matches and the target.
type Rule struct {
	// Protocol, Source, Dest, InIface and OutIface are -p -s -d -i -o
	// (values as given, e.g. "10.0.0.1" or "10.0.0.0/8"; the long forms
	// --protocol/--source/--src/--destination/--dst/--in-interface/
	// --out-interface map here).
	Protocol, Source, Dest, InIface, OutIface Field

	Fragment Field     // -f (Value empty)
	Matches  []Match   // in command-line order
	Target   *Target   // nil = rule without -j/-g
	Counters *Counters // -c P B, or the [P:B] prefix on a restore rule line
}

// Match is one match extension with its options.
type Match struct {
	Name     string
	Implicit bool // loaded by -p proto, not by -m
	Options  []Option
	// Known is false for an extension the option table does not describe;
	// its options were collected by the generic fallback (every following
	// non-option token is an argument) and may be wrong.
	Known bool
}

// UnknownExtensions names the matches and targets of r that this package
// does not describe and parsed with the generic fallback. A target is
// listed when it has options or names a module iptables ships; otherwise
// it is a chain jump. Callers that need exact semantics hand such rules to
// a real binary.
func (r *Rule) UnknownExtensions() []string {
	var out []string
	for _, m := range r.Matches {
		if !m.Known {
			out = append(out, m.Name)
		}
	}
	if t := r.Target; t != nil && !t.Known &&
		(len(t.Options) > 0 || ExtensionShipped(t.Name, true, IPv4) || ExtensionShipped(t.Name, true, IPv6)) {
		out = append(out, t.Name)
	}
	return out
}

// Option is one option of a match or target.
type Option struct {
	Name   string // canonical long name without dashes, e.g. "dport", "set-xmark", "match-set"
	Invert bool
	Args   []string
}

// Target is the -j/-g target with its options. Name is a standard verdict
// (ACCEPT, DROP, RETURN, QUEUE), a target extension or a chain name.
type Target struct {
	Name    string
	Goto    bool // -g
	Options []Option
	// Known is false for a name that is neither a standard verdict nor a
	// described target extension: iptables treats such a name as a chain
	// jump when it has no options, and Known stays false whenever options
	// were collected by the generic fallback.
	Known bool
}

// LineKind classifies one line of a restore payload.
type LineKind int

const (
	// LineBlank is an empty or all-blank line.
	LineBlank LineKind = iota
	// LineComment is a line starting with '#'.
	LineComment
	// LineTable is "*table".
	LineTable
	// LineChain is ":CHAIN POLICY [p:b]".
	LineChain
	// LineCommand is a command line ("-A ...", "-N ...", ...).
	LineCommand
	// LineCommit is "COMMIT".
	LineCommit
)

// Line is one line of a restore payload.
type Line struct {
	Num   int // 1-based input line number; 0 for a line built by a caller
	Kind  LineKind
	Raw   string     // the line exactly as read, without the newline
	Table string     // the table in effect
	Chain *ChainDecl // LineChain
	Cmd   *Command   // LineCommand (Table filled from the *table line)
}

// ChainDecl is a ":CHAIN POLICY [p:b]" declaration.
type ChainDecl struct {
	Name     string
	Policy   string // "-" for user chains
	Counters *Counters
}

// Payload is a parsed iptables-restore input.
type Payload struct {
	Family Family
	Lines  []Line
	// NoFinalNewline records that the input's last line had no newline,
	// so that Render reproduces the input byte for byte.
	NoFinalNewline bool
}

// HelpRequest is the state of the command line when -h was met: iptables
// prints the help of the target loaded so far, then of each match loaded
// so far, or of the -p protocol's match when no match is loaded.
type HelpRequest struct {
	// Matches are the -m (and implicitly loaded) matches, in order.
	Matches []string
	// Target is the -j target ("standard" for a verdict), empty without
	// one.
	Target string
	// Protocol is -p's value, empty without one.
	Protocol string
}
