// Command iptables-shim stands in for iptables, iptables-save,
// iptables-restore and their ip6tables twins (chosen by the name it is called
// by), and sends each call to the backend the host really uses. Called as
// iptables-shim it takes subcommands; see usage.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/config"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

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

// subcommands of the iptables-shim form.
var subcommands = map[string]func(args []string, stdout, stderr io.Writer) int{
	"version": runVersion,
	"help":    runHelp,
	"detect":  runDetect,
	"doctor":  runDoctor,
	"install": runInstall,
}

// mainStart is when main began: the call log's phases (see calllog.Phases)
// count from it, so what comes before it (starting the process, the Go
// runtime and package initialisation) is the wall time they do not cover.
var mainStart time.Time

func main() {
	mainStart = time.Now()
	os.Exit(dispatch(os.Args, os.Stdin, os.Stdout, os.Stderr))
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

// runShim handles the iptables-shim form: global flags, then a subcommand or
// one of the six program names.
func runShim(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg := config.Load(os.LookupEnv)
	for len(args) > 0 && strings.HasPrefix(args[0], "--") && args[0] != "--" {
		flag := strings.TrimPrefix(args[0], "--")
		switch flag {
		case "help":
			return runHelp(nil, stdout, stderr)
		case "version":
			return runVersion(nil, stdout, stderr)
		}
		key, val, ok := strings.Cut(flag, "=")
		if !ok {
			if len(args) < 2 {
				fmt.Fprintf(stderr, "iptables-shim: --%s needs a value\n", key)
				return int(ipterr.Parameter)
			}
			val, args = args[1], args[1:]
		}
		if !isGlobalFlag(key) {
			fmt.Fprintf(stderr, "iptables-shim: unknown flag --%s\n\n", key)
			usage(stderr)
			return int(ipterr.Parameter)
		}
		if err := cfg.Set(key, val, "flag --"+key); err != nil {
			fmt.Fprintf(stderr, "iptables-shim: %v\n", err)
			return int(ipterr.Parameter)
		}
		args = args[1:]
	}
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		usage(stderr)
		return int(ipterr.Parameter)
	}
	if p, ok := programs[args[0]]; ok {
		return runProgram(p, args[0], args[1:], cfg, stdin, stdout, stderr)
	}
	if run, ok := subcommands[args[0]]; ok {
		// Subcommands read settings themselves; flags given here reach
		// them through the environment.
		exportFlags(cfg)
		return run(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "iptables-shim: unknown command %q\n\n", args[0])
	usage(stderr)
	return int(ipterr.Parameter)
}

// globalFlags are the settings the iptables-shim form takes as --name=value.
var globalFlags = []string{"mode", "nft", "log", "host-root", "cache-dir", "backend-dirs", "detect-wait", "default-mode"}

func isGlobalFlag(k string) bool {
	for _, f := range globalFlags {
		if f == k {
			return true
		}
	}
	return false
}

// exportFlags passes settings given as flags to subcommands, which load the
// configuration themselves.
func exportFlags(cfg config.Config) {
	if strings.HasPrefix(cfg.ModeSource, "flag") {
		os.Setenv("IPTABLES_SHIM_MODE", cfg.Mode)
	}
	os.Setenv("IPTABLES_SHIM_NFT", cfg.NFT)
	if cfg.Log != "" {
		os.Setenv("IPTABLES_SHIM_LOG", cfg.Log)
	}
	os.Setenv("IPTABLES_SHIM_HOST_ROOT", cfg.HostRoot)
	os.Setenv("IPTABLES_SHIM_CACHE_DIR", cfg.CacheDir)
	os.Setenv("IPTABLES_SHIM_BACKEND_DIRS", strings.Join(cfg.BackendDirs, ":"))
	os.Setenv("IPTABLES_SHIM_DETECT_WAIT", cfg.DetectWait.String())
	os.Setenv("IPTABLES_SHIM_DEFAULT_MODE", cfg.DefaultMode)
}

func programNames() []string {
	return []string{"iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore"}
}

// printError writes a backend's error as iptables would, unless the backend
// (a real binary) already printed it, and returns the exit status.
func printError(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var e *ipterr.Error
	if errors.As(err, &e) && e.Printed {
		return int(e.Class)
	}
	msg := strings.TrimRight(err.Error(), "\n")
	if msg != "" {
		fmt.Fprintln(stderr, msg)
	}
	return int(ipterr.ClassOf(err))
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintf(stdout, "iptables-shim %s\n", version)
	return 0
}

func runHelp(args []string, stdout, stderr io.Writer) int {
	usage(stdout)
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `iptables-shim %s: one binary in place of iptables, iptables-save,
iptables-restore and the ip6tables twins, sending every call to the backend
(legacy x_tables or nf_tables) the host really uses.

Called by one of the names %s
it behaves as that program. Called as iptables-shim:

  iptables-shim [flags] NAME ARGS...   run as NAME (one of the names above)
  iptables-shim detect [--json]        which backend this host uses, and why
  iptables-shim doctor [--json]        check the node for the split-backend problem
  iptables-shim install [...]          point the iptables names at the shim
  iptables-shim version                print the shim's version
  iptables-shim help                   this text

Flags (also settings in %s and IPTABLES_SHIM_* variables):
  --mode=auto|legacy|nft     force a backend (default auto: detect)
  --nft=auto|exec|native     how nf_tables calls run (default auto)
  --log=PATH|syslog          log every call (default off)
  --host-root=DIR            where the host's / is mounted (default /)
  --cache-dir=DIR            decision cache (default /run/iptables-shim)
  --backend-dirs=D1:D2       where real binaries are looked for
  --detect-wait=DURATION     wait for evidence on an empty host (default 3s)
  --default-mode=legacy|nft  the choice when nothing is found (default nft)
`, version, strings.Join(programNames(), ", "), config.DefaultFile)
}
