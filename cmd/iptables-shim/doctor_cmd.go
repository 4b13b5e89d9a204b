package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/shim/config"
	"github.com/iptables-shim/iptables-shim/shim/doctor"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
)

// doctorUsage is printed for doctor -h.
const doctorUsage = `Usage: iptables-shim [flags] doctor [--json] [flags]

Examines this node for the split-backend problem: chains in one backend
that callers of the other expect, the shim's decision and where the host's
own iptables points. Needs root: without it the kernel's tables cannot be
read: run as anyone else, a check that could not run makes the verdict
UNKNOWN. Exit status 0 when healthy, 1 when a problem is found, 2 for bad
arguments, 3 when a check could not run (verdict unknown).

  --json    print the report as a JSON document

The setting flags of iptables-shim -h are accepted here too.
`

// runDoctor examines the node for the split-backend problem and prints the
// report (--json: the doctor.Report document). Exit 0 when healthy, 1 when a
// problem is found, 2 for bad arguments, 3 when a check could not run
// (verdict unknown; see doctor.ExitCode).
func runDoctor(cfg config.Config, args []string, stdout, stderr io.Writer) int {
	fs := subcommandFlags("doctor", &cfg)
	asJSON := fs.Bool("json", false, "")
	if code, done := parseSubcommand(fs, args, doctorUsage, stdout, stderr); done {
		return code
	}
	r := doctor.Run(context.Background(), doctor.Options{
		Detect:      detectOptions(cfg),
		CallLog:     cfg.Log,
		BackendDirs: cfg.BackendDirs,
		NFT:         cfg.NFT,
		Native:      nativeBackend(cfg, nil) != nil,
		NFTDialect:  cfg.NFTDialect,
	})
	for _, w := range cfg.Warnings {
		r.Warnings = append(r.Warnings, "config: "+w)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			fmt.Fprintf(stderr, "iptables-shim doctor: %v\n", err)
			return int(ipterr.Other)
		}
	} else {
		doctor.Render(stdout, r, isTerminal(stdout))
	}
	return doctor.ExitCode(r)
}

// isTerminal reports whether w is a terminal that wants colour.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
