package main

import (
	"github.com/iptables-shim/iptables-shim/detect"
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/config"
	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"github.com/iptables-shim/iptables-shim/shim/execbackend"
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
	o.FallbackStamp = func() string { return dialect.HostStamp(cfg.HostRoot) }
}

// skewCheck compares the dialect of the image's iptables-nft with the
// host's, for the router's nft=auto choice (kubernetes#112477: an image's
// 1.8.7 misreads a newer host's rules and writes them back wrong).
func skewCheck(nb route.Native, store *detect.DialectStore) func(ex route.ExecBackend, c *backend.Call) (string, bool) {
	np, ok := nb.(native.Program)
	if !ok {
		return nil
	}
	return func(ex route.ExecBackend, c *backend.Call) (string, bool) {
		l, ok := ex.(*execbackend.Located)
		if !ok || l.Binary.Kind.Mode() != backend.NFT {
			return "", false
		}
		return dialect.ImageSkew(store.ImageVersion(l.Binary.Path), func() dialect.Finding { return np.Backend.HostDialect(c.Family) })
	}
}
