package native

import (
	"github.com/iptables-shim/iptables-shim/shim/nftread"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// The native backend's refusals, in one table: every command or restore
// line form it does not carry out, and the words it says so with (each
// completed with "is not supported by the native nf_tables backend", exit
// 2; see nftread.Unsupportedf). Supports (without the kernel) and the
// planner (with it) both refuse through refuseCommand and the refusal
// constants below, so they cannot disagree on what is refused, nor on the
// message. Encoding refusals of a rule's matches and targets come from
// encodeRule (and shim/xt), which both run alike.

// refusal is one class of what the native backend refuses.
type refusal int

const (
	// refuseNoCommand: a call without a command.
	refuseNoCommand refusal = iota
	// refuseTable: a table iptables has no nf_tables twin of here
	// (broute, ...): "table NAME".
	refuseTable
	// refuseRestoreCommand: a command a restore line does not carry
	// out (-S, -L, -V, -h inside a restore): "command -S".
	refuseRestoreCommand
	// refuseChanged: a line acting on a chain's existing rules (-C, -D,
	// -Z, -E, -X of a built-in chain, a rule number) after earlier
	// lines of the restore changed that chain or table (see
	// positional.go), including a number naming a rule this restore
	// added (iptables-nft refers to those by batch-local ids).
	refuseChanged
	// refuseBuiltinDelete: -X of a built-in chain where the kernel's
	// rules are not at hand.
	refuseBuiltinDelete
	// refuseNumberedInsert: -I with a rule number where numbers are not
	// resolved against the kernel's rules.
	refuseNumberedInsert
	// refuseTarget: a target iptables has that the backend does not
	// encode (QUEUE, AUDIT, ...).
	refuseTarget
	// refuseRevision: an extension revision the running kernel lacks
	// (known only once the kernel is asked).
	refuseRevision
	// refuseXedBuiltin: a rule for a built-in chain after a -X without
	// a chain of the same restore, which iptables-nft 1.8.9 re-sends
	// with an ACCEPT policy (see positional.go).
	refuseXedBuiltin
	// refuseXedAgain: a second -X without a chain of one table in a
	// restore.
	refuseXedAgain
)

// refusalText is each refusal's message, a format for its arguments.
var refusalText = [...]string{
	refuseNoCommand:      "a call without a command",
	refuseTable:          "table %s",
	refuseRestoreCommand: "command %s",
	refuseChanged:        "%s on %s after earlier lines of the restore changed it",
	refuseBuiltinDelete:  "deleting built-in chain %s",
	refuseNumberedInsert: "-I with a rule number",
	refuseTarget:         "target %s",
	refuseRevision:       "%s %s revision %d (the kernel lacks it)",
	refuseXedBuiltin:     "a rule in built-in chain %s after -X of its table in the same restore",
	refuseXedAgain:       "-X on table %s after an earlier -X of the same restore",
}

// err is the refusal as the error both Supports and the planner return.
func (r refusal) err(args ...any) error {
	return nftread.Unsupportedf(refusalText[r], args...)
}

// restoreCarries reports whether a restore line with this command is
// carried out natively (the others print or answer, which a restore of
// iptables-nft 1.8.9 does not do either).
func restoreCarries(op syntax.Op) bool {
	switch op {
	case syntax.OpAppend, syntax.OpInsert, syntax.OpReplace, syntax.OpDelete, syntax.OpCheck,
		syntax.OpNewChain, syntax.OpDeleteChain, syntax.OpFlush, syntax.OpZero, syntax.OpRename, syntax.OpPolicy:
		return true
	}
	return false
}

// refuseCommand is the one check of a command against what the backend
// carries out at all, before any rule or kernel state is looked at: nil
// when it is carried out. inRestore is set for a restore line; single
// commands cover every command of iptables 1.8.9 in the five iptables
// tables.
func refuseCommand(c *syntax.Command, inRestore bool) error {
	switch c.Op {
	case syntax.OpNone:
		return refuseNoCommand.err()
	case syntax.OpVersion, syntax.OpHelp:
		if !inRestore {
			return nil
		}
	}
	if nftread.LookupTable(c.Table) == nil {
		return refuseTable.err(c.Table)
	}
	if inRestore && !restoreCarries(c.Op) {
		return refuseRestoreCommand.err(opName(c.Op))
	}
	return nil
}

// opName is a command's short option as messages name it.
func opName(op syntax.Op) string {
	switch op {
	case syntax.OpAppend:
		return "-A"
	case syntax.OpInsert:
		return "-I"
	case syntax.OpReplace:
		return "-R"
	case syntax.OpDelete:
		return "-D"
	case syntax.OpCheck:
		return "-C"
	case syntax.OpNewChain:
		return "-N"
	case syntax.OpDeleteChain:
		return "-X"
	case syntax.OpFlush:
		return "-F"
	case syntax.OpZero:
		return "-Z"
	case syntax.OpRename:
		return "-E"
	case syntax.OpPolicy:
		return "-P"
	case syntax.OpListRules:
		return "-S"
	case syntax.OpList:
		return "-L"
	case syntax.OpVersion:
		return "-V"
	case syntax.OpHelp:
		return "-h"
	}
	return "?"
}
