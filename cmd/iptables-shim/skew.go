package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/config"
	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"github.com/iptables-shim/iptables-shim/shim/native"
	"github.com/iptables-shim/iptables-shim/shim/route"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// hostDialect is the host's iptables-nft dialect as the native backend
// would find it before writing (IPv4 rules, then host-root), for detect.
func hostDialect(cfg config.Config) dialect.Finding {
	var o native.Options
	nativeDialect(cfg, &o)
	return native.New(o).HostDialect(syntax.IPv4)
}

// printDialect prints the host's dialect and its evidence under detect's
// decision.
func printDialect(w io.Writer, f dialect.Finding) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "nft dialect:\tiptables-nft %s\n", f.Dialect)
	fmt.Fprintf(tw, "because:\t%s: %s\n", f.Source, f.Why)
	for _, c := range f.Clues {
		fmt.Fprintf(tw, "evidence:\t%s\n", c.What)
	}
	tw.Flush()
}

// nativeDialect sets the native backend's dialect from the nft-dialect
// setting: a fixed one, or (auto) the host's, from its rules, else from its
// package database or binary under host-root.
func nativeDialect(cfg config.Config, o *native.Options) {
	if cfg.NFTDialect != "" && cfg.NFTDialect != dialect.Auto {
		o.Dialect = dialect.Dialect(cfg.NFTDialect)
		return
	}
	o.DetectDialect = true
	o.Fallback = func() dialect.Finding { return dialect.FromHost(cfg.HostRoot) }
}

// skewCheck compares the dialect of the image's iptables-nft with the
// host's, for the router's nft=auto choice (kubernetes#112477: an image's
// 1.8.7 misreads a newer host's rules and writes them back wrong).
func skewCheck(nb route.Native) func(ex route.ExecBackend, c *backend.Call) (string, bool) {
	na, ok := nb.(nativeAdapter)
	if !ok {
		return nil
	}
	return func(ex route.ExecBackend, c *backend.Call) (string, bool) {
		ec, ok := ex.(execChoice)
		if !ok || ec.bin.Kind.Mode() != backend.NFT {
			return "", false
		}
		v := dialect.BinaryVersion(ec.bin.Path)
		image, ok := dialect.OfVersion(v)
		if !ok {
			return "", false
		}
		host := na.be.HostDialect(c.Family)
		if host.Dialect == image || host.Source == "default" {
			return "", false
		}
		why := "image's iptables-nft " + v + " speaks " + string(image) + ", host speaks " + string(host.Dialect) + " (" + host.Source + ")"
		unsafe := dialect.Misreads(image, host.Dialect) != "" || dialect.Misreads(host.Dialect, image) != ""
		return why, unsafe
	}
}
