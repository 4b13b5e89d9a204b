package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/iptables-shim/iptables-shim/shim/install"
)

// installUsage is printed for -h and on argument errors.
const installUsage = `Usage: iptables-shim install [--dest DIR] [--alternatives auto|yes|no] [--repair] [--copy] [--dry-run]

Points iptables, iptables-save, iptables-restore and the ip6tables twins in
DIR at this binary with relative symlinks. Needs no shell (works as
RUN ["/usr/sbin/iptables-shim","install"]).

  --dest DIR             directory for the six names (default: the directory
                         holding this binary)
  --alternatives MODE    auto: register with alternatives where it manages a
                         name; yes: require that; no: replace links directly
                         (default auto)
  --repair               re-point names an iptables package update rewrote;
                         silent when nothing drifted
  --copy                 copy this binary into DIR first and link the names
                         to the copy (an emptyDir shared with another
                         container)
  --dry-run              print the steps without doing them
`

// runInstall is the `iptables-shim install` subcommand. Exit status: 0 done,
// 1 the install failed or was refused, 2 bad arguments.
func runInstall(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("iptables-shim install", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	dest := fl.String("dest", "", "")
	altMode := fl.String("alternatives", "auto", "")
	repair := fl.Bool("repair", false, "")
	dryRun := fl.Bool("dry-run", false, "")
	copyShim := fl.Bool("copy", false, "")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, installUsage)
			return 0
		}
		fmt.Fprintf(stderr, "iptables-shim install: %v\n%s", err, installUsage)
		return 2
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "iptables-shim install: unexpected argument %q\n%s", fl.Arg(0), installUsage)
		return 2
	}
	mode, err := install.ParseAltMode(*altMode)
	if err != nil {
		fmt.Fprintf(stderr, "iptables-shim install: %v\n", err)
		return 2
	}
	self, err := selfPath()
	if err != nil {
		fmt.Fprintf(stderr, "iptables-shim install: cannot tell where this binary is: %v\n", err)
		return 1
	}
	if *dest == "" {
		*dest = filepath.Dir(self)
	}
	absDest, err := filepath.Abs(*dest)
	if err != nil {
		fmt.Fprintf(stderr, "iptables-shim install: %v\n", err)
		return 2
	}
	err = install.Run(context.Background(), install.Options{
		Shim:         self,
		Dest:         absDest,
		Alternatives: mode,
		Repair:       *repair,
		DryRun:       *dryRun,
		Copy:         *copyShim,
		Out:          stdout,
	})
	if err != nil {
		fmt.Fprintf(stderr, "iptables-shim install: %v\n", err)
		return 1
	}
	return 0
}

// selfPath is the absolute path this binary was started from. The kernel's
// answer (/proc/self/exe) is preferred; argv[0] is the fallback for a build
// sandbox without /proc.
func selfPath() (string, error) {
	if p, err := os.Executable(); err == nil {
		return p, nil
	}
	if filepath.IsAbs(os.Args[0]) {
		return os.Args[0], nil
	}
	return "", errors.New("/proc/self/exe unreadable and argv[0] is not absolute")
}
