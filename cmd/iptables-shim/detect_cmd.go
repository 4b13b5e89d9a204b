package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/iptables-shim/iptables-shim/detect"
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/config"
	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
)

// detectOptions turns the shim's settings into detection options; the
// router's auto mode and the detect and doctor subcommands share it.
func detectOptions(cfg config.Config) detect.Options {
	o := detect.Options{
		HostRoot: cfg.HostRoot,
		CacheDir: cfg.CacheDir,
		Wait:     cfg.DetectWait,
		Default:  backend.Mode(cfg.DefaultMode),
	}
	if cfg.DetectWait == 0 {
		o.Wait = -1 // configured as zero: do not wait
	}
	if cfg.Mode == config.ModeLegacy || cfg.Mode == config.ModeNFT {
		o.Override, o.OverrideSource = backend.Mode(cfg.Mode), cfg.ModeSource
	}
	return o
}

// detectUsage is printed for detect -h.
const detectUsage = `Usage: iptables-shim [flags] detect [--json] [--fresh] [flags]

Says which backend (legacy x_tables or nf_tables) this host uses, the
detection layer that decided, and the evidence per backend and family.

  --json    print the decision as a JSON document
  --fresh   decide again instead of reading the cached decision

The setting flags of iptables-shim -h are accepted here too (for example
--host-root=/host). Reading the kernel's tables needs root (CAP_NET_ADMIN).
`

// runDetect prints the backend decision, the layer that made it, the
// evidence per backend and family, and any warning. --json prints the
// detect.Decision JSON document (see package detect); --fresh ignores the
// cached decision.
func runDetect(cfg config.Config, args []string, stdout, stderr io.Writer) int {
	fs := subcommandFlags("detect", &cfg)
	asJSON := fs.Bool("json", false, "")
	fresh := fs.Bool("fresh", false, "")
	if code, done := parseSubcommand(fs, args, detectUsage, stdout, stderr); done {
		return code
	}
	o := detectOptions(cfg)
	o.Fresh = *fresh
	d, err := detect.Resolve(context.Background(), o)
	if err != nil {
		fmt.Fprintf(stderr, "iptables-shim detect: %v\n", err)
		return int(ipterr.Other)
	}
	if d.Reason == detect.ReasonOverride {
		// The hot path never probes under an override; show the evidence
		// anyway, since this is where people look.
		d.Evidence = detect.Gather(context.Background(), detect.KernelProbers(), cfg.HostRoot, detect.Query{Count: true})
	}
	for _, w := range cfg.Warnings {
		d.Warnings = append(d.Warnings, "config: "+w)
	}
	hd := hostDialect(cfg)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		// The decision's document, plus the host's iptables-nft dialect.
		doc := struct {
			detect.Decision
			Dialect dialect.Finding `json:"dialect"`
		}{d, hd}
		if err := enc.Encode(doc); err != nil {
			fmt.Fprintf(stderr, "iptables-shim detect: %v\n", err)
			return int(ipterr.Other)
		}
		return 0
	}
	detect.Render(stdout, d)
	detect.RenderDialect(stdout, hd)
	return 0
}
