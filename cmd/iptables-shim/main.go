// Command iptables-shim stands in for iptables, iptables-save,
// iptables-restore and their ip6tables twins (chosen by the name it is called
// by), and sends each call to the backend the host really uses. Called as
// iptables-shim it takes subcommands; see usage.
//
// This package is wiring: it picks the mode from argv[0], parses the
// iptables-shim form's flags (one per setting of shim/config), and hands
// over to the packages that do the work.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/config"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// version is set at build time with -ldflags "-X main.version=..." from the
// VERSION file (make build, make shims, the Dockerfile).
var version = "0.0.0-dev"

// program is one of the six iptables names the shim answers to.
type program struct {
	tool   backend.Tool
	family syntax.Family
}

var programs = map[string]program{
	"iptables":          {backend.Iptables, syntax.IPv4},
	"iptables-save":     {backend.Save, syntax.IPv4},
	"iptables-restore":  {backend.Restore, syntax.IPv4},
	"ip6tables":         {backend.Iptables, syntax.IPv6},
	"ip6tables-save":    {backend.Save, syntax.IPv6},
	"ip6tables-restore": {backend.Restore, syntax.IPv6},
}

// subcommand is one command of the iptables-shim form; cfg holds the
// settings with the form's flags applied.
type subcommand func(cfg config.Config, args []string, stdout, stderr io.Writer) int

// subcommands of the iptables-shim form.
var subcommands = map[string]subcommand{
	"version": runVersion,
	"help":    runHelp,
	"detect":  runDetect,
	"doctor":  runDoctor,
	"install": func(_ config.Config, args []string, stdout, stderr io.Writer) int {
		return runInstall(args, stdout, stderr)
	},
}

// mainStart is when main began: the call log's phases (see calllog.Phases)
// count from it, so what comes before it (starting the process, the Go
// runtime and package initialisation) is the wall time they do not cover.
var mainStart time.Time

func main() {
	mainStart = time.Now()
	// A call lives for milliseconds and allocates a few large buffers
	// (netlink receive buffers): sampling them for a heap profile nobody
	// reads costs a stack walk each.
	runtime.MemProfileRate = 0
	growStack(0)
	os.Exit(dispatch(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

// stackReserve is the goroutine stack a call grows into anyway.
const stackReserve = 32 << 10

// growStack makes main's goroutine stack as large as a call needs while it
// is still shallow. A goroutine starts with a small stack and doubles it on
// demand, copying it and walking every frame on it each time; doubling
// deep inside a call (a netlink read, a parse) costs far more than doing
// it once here, where there is almost nothing to copy.
//
//go:noinline
func growStack(i int) byte {
	var reserve [stackReserve]byte
	reserve[i] = 1
	return reserve[i/2]
}

// dispatch picks what to do from argv[0]'s basename and returns the exit
// status.
func dispatch(argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	name := filepath.Base(argv[0])
	if p, ok := programs[name]; ok {
		return runProgram(p, argv[0], argv[1:], config.Load(os.LookupEnv), stdin, stdout, stderr)
	}
	if strings.HasPrefix(name, "iptables-shim") {
		return runShim(argv[1:], stdin, stdout, stderr)
	}
	if isBackendName(name) {
		fmt.Fprintf(stderr, "iptables-shim: refusing to run as %q: that name belongs to a real iptables backend, which the shim never replaces\n", name)
		return int(ipterr.Other)
	}
	fmt.Fprintf(stderr, "iptables-shim: called as %q, which is none of %s\n", name, strings.Join(programNames(), ", "))
	return int(ipterr.Parameter)
}

// isBackendName reports names of real backends and their tools
// (iptables-nft, iptables-legacy-save, xtables-legacy-multi, ...).
func isBackendName(name string) bool {
	return strings.HasPrefix(name, "xtables") || strings.Contains(name, "-legacy") || strings.Contains(name, "-nft") ||
		strings.HasPrefix(name, "iptables") || strings.HasPrefix(name, "ip6tables")
}

// runShim handles the iptables-shim form: setting flags, then a subcommand
// or one of the six program names (whose arguments are iptables' own).
func runShim(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg := config.Load(os.LookupEnv)
	fs := flag.NewFlagSet("iptables-shim", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg.RegisterFlags(fs)
	showVersion := fs.Bool("version", false, "print the shim's version")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return 0
		}
		fmt.Fprintf(stderr, "iptables-shim: %s\n", flagError(err, settingNames()))
		fmt.Fprintln(stderr, "Try `iptables-shim -h' for the flags.")
		return int(ipterr.Parameter)
	}
	if *showVersion {
		return runVersion(cfg, nil, stdout, stderr)
	}
	args = fs.Args()
	if len(args) == 0 {
		usage(stderr)
		return int(ipterr.Parameter)
	}
	if p, ok := programs[args[0]]; ok {
		return runProgram(p, args[0], args[1:], cfg, stdin, stdout, stderr)
	}
	if run, ok := subcommands[args[0]]; ok {
		return run(cfg, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "iptables-shim: unknown command %q%s\n", args[0], didYouMean(args[0], commandNames(), false))
	fmt.Fprintln(stderr, "Try `iptables-shim -h' for the commands.")
	return int(ipterr.Parameter)
}

// flagError rewrites the flag package's complaint in the shim's --flag
// spelling, with a suggestion for a misspelt flag.
func flagError(err error, known []string) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		name = strings.TrimLeft(name, "-")
		return fmt.Sprintf("unknown flag --%s%s", name, didYouMean(name, known, true))
	}
	return strings.Replace(msg, " flag -", " flag --", 1)
}

// settingNames are the flags every subcommand of the form accepts.
func settingNames() []string {
	out := []string{"version", "help"}
	for _, s := range config.Settings {
		out = append(out, s.Name)
	}
	return out
}

// commandNames are the subcommands and the program names, for suggestions.
func commandNames() []string {
	out := programNames()
	for name := range subcommands {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

func programNames() []string {
	return []string{"iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore"}
}

func runVersion(_ config.Config, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintf(stdout, "iptables-shim %s\n", version)
	return 0
}

func runHelp(_ config.Config, args []string, stdout, stderr io.Writer) int {
	usage(stdout)
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `iptables-shim %s: one binary in place of iptables, iptables-save,
iptables-restore and the ip6tables twins, sending every call to the backend
(legacy x_tables or nf_tables) the host really uses.

Called by one of the names %s
it behaves as that program. Called as iptables-shim:

  iptables-shim [flags] NAME ARGS...     run as NAME (one of the names above)
  iptables-shim [flags] detect [--json] [--fresh]
                                         which backend this host uses, and why
  iptables-shim [flags] doctor [--json]  check the node for the split-backend
                                         problem (needs root)
  iptables-shim install [...]            point the iptables names at the shim
                                         (install -h for its flags)
  iptables-shim version                  print the shim's version
  iptables-shim help, -h                 this text

Flags: every setting, overriding %s (or the file in
IPTABLES_SHIM_CONFIG) and the environment; a switch alone means true
(--guard), --guard=false turns it off:
`, version, strings.Join(programNames(), ", "), config.DefaultFile)
	config.WriteFlagHelp(w)
}
