package syntax

import (
	"errors"
	"fmt"
	"strings"

	"github.com/iptables-shim/iptables-shim/shim/ipterr"
)

// Version is the iptables version whose behaviour and messages this package
// reproduces; it appears in the "PROG v1.8.9 (LABEL): " prefix.
const Version = "1.8.9"

// Form is how iptables prints a diagnostic around its message. The forms
// differ because iptables 1.8.9 prints through different paths: the
// versioned xtables_error path, a bare fprintf before exit_tryhelp, and the
// restore loop's own "PROG: ..." lines.
type Form int

const (
	// FormVersioned is "PROG v1.8.9 (LABEL): MSG" followed (in restore) by
	// "Error occurred at line: N" and the "Try `PROG -h' ..." line.
	FormVersioned Form = iota
	// FormBare is "MSG" without any prefix (e.g. "Bad argument `x'"),
	// followed like FormVersioned. An empty Msg prints only the Try line.
	FormBare
	// FormShort is "PROG: MSG" alone, no Try line: restore's
	// "COMMIT expected at line N" and "line N failed".
	FormShort
	// FormPlain is the message alone (it may name the program itself and
	// span lines): getopt's complaints about iptables-restore/-save
	// arguments and "Unknown arguments found on commandline".
	FormPlain
	// FormVersionProblem is exit 3's "PROG v1.8.9 (LABEL): MSG" followed
	// by "Perhaps iptables (ip6tables) or your kernel needs to be upgraded.".
	FormVersionProblem
)

// progToken stands for the program name inside a message template; a few
// iptables messages name the program ("The -t option cannot be used in
// iptables-restore."), and the caller knows the name only when printing.
const progToken = "\x00PROG\x00"

// argv0Token stands for argv[0] exactly as the program was invoked: glibc's
// getopt names the program that way in its complaints ("/usr/sbin/
// iptables-save: invalid option -- 'h'").
const argv0Token = "\x00ARGV0\x00"

// Diagnostic is the cause attached (as ipterr.Error.Err) to every error this
// package returns. It records the print form and the message template, so
// FormatError can render the exact text for any program name.
type Diagnostic struct {
	Form     Form
	Template string // the message; progToken marks the program name
	// Prelude is printed before the diagnostic: lines an extension
	// writes on stderr before it fails (libxt_connlabel's warning that
	// its label file cannot be opened), each ending in a newline.
	Prelude string
	// Since1811 is the message as iptables 1.8.11 words it, when it does
	// otherwise ("multiple --exact options not allowed" for "multiple -x
	// flags not allowed"); empty when the same.
	Since1811 string
}

// Error returns the message with the program named as iptables.
func (d *Diagnostic) Error() string { return d.text(defaultProg(IPv4, false)) }

func (d *Diagnostic) text(prog string) string {
	return strings.ReplaceAll(strings.ReplaceAll(d.Template, progToken, prog), argv0Token, prog)
}

// textAs is the message as iptables version words it.
func (d *Diagnostic) textAs(prog, version string) string {
	if d.Since1811 != "" && wordsAs1811(version) {
		c := *d
		c.Template = d.Since1811
		return c.text(prog)
	}
	return d.text(prog)
}

// wordsAs1811 reports whether iptables version ("1.8.11", "" for Version)
// is 1.8.11 or later, which names options by their long names in its
// messages.
func wordsAs1811(version string) bool {
	var a, b, c int
	if _, err := fmt.Sscanf(version, "%d.%d.%d", &a, &b, &c); err != nil {
		return false
	}
	return a > 1 || a == 1 && (b > 8 || b == 8 && c >= 11)
}

// defaultProg is the name the program has when the caller does not say:
// what kube-proxy and kubelet invoke.
func defaultProg(fam Family, restore bool) string {
	p := "iptables"
	if fam == IPv6 {
		p = "ip6tables"
	}
	if restore {
		p += "-restore"
	}
	return p
}

// paramErr is a parameter problem (exit 2) printed in the versioned form.
func paramErr(format string, args ...any) *ipterr.Error {
	return diagErr(ipterr.Parameter, FormVersioned, fmt.Sprintf(format, args...))
}

// paramErrWorded is paramErr for a message that names an option: 1.8.9
// says format with the option's letter (name), 1.8.11 says format1811
// with its long name (long).
func paramErrWorded(format, format1811, name, long string) *ipterr.Error {
	e := paramErr(format, name)
	e.Err.(*Diagnostic).Since1811 = fmt.Sprintf(format1811, long)
	return e
}

// bareErr is a parameter problem printed without the program prefix.
func bareErr(format string, args ...any) *ipterr.Error {
	return diagErr(ipterr.Parameter, FormBare, fmt.Sprintf(format, args...))
}

func diagErr(c ipterr.Class, f Form, template string) *ipterr.Error {
	d := &Diagnostic{Form: f, Template: template}
	return &ipterr.Error{Class: c, Msg: d.text(defaultProg(IPv4, false)), Err: d}
}

// atLine ties err to restore input line n and renames the program in its
// message for the restore binary of fam.
func atLine(err error, n int, fam Family) error {
	var e *ipterr.Error
	if !errors.As(err, &e) {
		return err
	}
	out := *e
	out.Line = n
	if d, ok := e.Err.(*Diagnostic); ok {
		out.Msg = d.text(defaultProg(fam, true))
	}
	return &out
}

// DiagnosticOf returns the diagnostic of an error from this package, or nil.
func DiagnosticOf(err error) *Diagnostic {
	var d *Diagnostic
	if errors.As(err, &d) {
		return d
	}
	return nil
}

// Banner is what iptables prints after its own name in --version and in
// its versioned messages: "v1.8.9 (nf_tables)" for version "1.8.9" (empty:
// Version) and label "nf_tables".
func Banner(version, label string) string {
	if version == "" {
		version = Version
	}
	return "v" + version + " (" + label + ")"
}

// FormatError renders err as the full stderr text iptables prints for it,
// ending in a newline. prog is the program name as invoked (e.g.
// "iptables", "ip6tables-restore", "iptables-nft-restore") and version the
// iptables-nft version that speaks ("" for Version): its number is in the
// versioned messages, and 1.8.11 words a few otherwise. An error with Line
// set is taken to come from a restore and gets restore's "Error occurred
// at line: N" line.
//
// Errors that are not from this package are rendered as "PROG: MSG" (the
// shape iptables uses for kernel-side failures). An ipterr.Error whose text
// was already printed renders as "".
func FormatError(prog, version string, err error) string {
	return FormatErrorArgv0(prog, prog, version, err)
}

// FormatErrorArgv0 is FormatError for a program invoked as argv0, which
// getopt's complaints name.
func FormatErrorArgv0(prog, argv0, version string, err error) string {
	if d := DiagnosticOf(err); d != nil && argv0 != "" && strings.Contains(d.Template, argv0Token) {
		c := *d
		c.Template = strings.ReplaceAll(c.Template, argv0Token, argv0)
		err = &argv0Error{err: err, d: &c}
	}
	return formatError(prog, version, err)
}

// argv0Error carries a diagnostic with argv[0] filled in.
type argv0Error struct {
	err error
	d   *Diagnostic
}

func (e *argv0Error) Error() string { return e.err.Error() }
func (e *argv0Error) Unwrap() []error {
	return []error{e.d, e.err}
}

func formatError(prog, version string, err error) string {
	if err == nil {
		return ""
	}
	var e *ipterr.Error
	if errors.As(err, &e) && e.Printed {
		return ""
	}
	line := 0
	if e != nil {
		line = e.Line
	}
	d := DiagnosticOf(err)
	if d == nil {
		return prog + ": " + err.Error() + "\n"
	}
	msg := d.textAs(prog, version)
	banner := Banner(version, "nf_tables")
	var b strings.Builder
	b.WriteString(d.Prelude)
	switch d.Form {
	case FormShort:
		return d.Prelude + prog + ": " + msg + "\n"
	case FormPlain:
		return d.Prelude + msg + "\n"
	case FormVersionProblem:
		base := "iptables"
		if strings.HasPrefix(prog, "ip6tables") {
			base = "ip6tables"
		}
		return fmt.Sprintf("%s%s %s: %s\nPerhaps %s or your kernel needs to be upgraded.\n", d.Prelude, prog, banner, msg, base)
	case FormVersioned:
		fmt.Fprintf(&b, "%s %s: %s\n", prog, banner, msg)
	case FormBare:
		if msg != "" {
			b.WriteString(msg + "\n")
		}
	}
	if line > 0 {
		fmt.Fprintf(&b, "Error occurred at line: %d\n", line)
	}
	fmt.Fprintf(&b, "Try `%s -h' or '%s --help' for more information.\n", prog, prog)
	return b.String()
}
