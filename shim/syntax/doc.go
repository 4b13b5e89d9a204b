// Package syntax is the typed model of iptables commands and restore
// payloads, and the parsers every backend shares. It reproduces iptables
// 1.8.9 (nf_tables): the same commands are accepted and refused, with the
// same exit class and message text. It imports no netlink code.
//
// ParseCommand reads an iptables/ip6tables argv; ParseRestore and
// ParseRestoreWith read iptables-restore input into a Payload whose Render
// writes unchanged lines back byte for byte; ParseRestoreArgs and
// ParseSaveArgs read the tools' own options. FormatCommand, RestoreLine,
// NewChainLine and NewCommandLine build new argv and restore lines.
//
// Matches and targets are described by a table of extensions (their
// options, aliases, arity and whether "!" may precede them). An extension
// outside the table is parsed by a generic fallback and marked
// (Match.Known, Target.Known, Rule.UnknownExtensions) so callers can hand
// such rules to a real binary instead of guessing.
//
// Errors are *ipterr.Error: Class is iptables' exit status, Msg the part of
// iptables' message after "PROG vX (LABEL): ", Line the restore input line.
// The print form travels in a *Diagnostic (the Err field); FormatError
// assembles the complete stderr text for a program name and backend label,
// e.g. for a restore:
//
//	iptables-restore v1.8.9 (nf_tables): unknown option "--foo"
//	Error occurred at line: 2
//	Try `iptables-restore -h' or 'iptables-restore --help' for more information.
package syntax
