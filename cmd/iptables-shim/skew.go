package main

import (
	"fmt"
	"io"
	"sync"
	"text/tabwriter"

	"github.com/iptables-shim/iptables-shim/detect"
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
	o.FallbackStamp = func() string { return dialect.HostStamp(cfg.HostRoot) }
}

// dialectStore keeps the host's dialect findings and the image binaries'
// versions between calls, in the calling network namespace's record
// (detect.DialectRecord), read at most once per call.
type dialectStore struct {
	cacheDir string
	record   func() detect.DialectRecord
}

func newDialectStore(cacheDir string) *dialectStore {
	return &dialectStore{cacheDir: cacheDir, record: sync.OnceValue(func() detect.DialectRecord {
		r, _ := detect.LoadDialect(cacheDir) // unreadable: found again
		return r
	})}
}

// LoadDialect is the cached finding for fam.
func (s *dialectStore) LoadDialect(fam syntax.Family) (dialect.Cached, bool) {
	c, ok := s.record().Families[detect.FamilyName(fam)]
	return c, ok
}

// StoreDialect records fam's finding; a read-only cache only costs the
// next call the fingerprint again.
func (s *dialectStore) StoreDialect(fam syntax.Family, c dialect.Cached) {
	_ = detect.RecordDialect(s.cacheDir, func(r *detect.DialectRecord) {
		if r.Families == nil {
			r.Families = map[string]dialect.Cached{}
		}
		r.Families[detect.FamilyName(fam)] = c
	})
}

// imageVersion is the version built into the binary at path: the one
// recorded while the file is the same (device, inode, size, time), else
// read from the binary and recorded.
func (s *dialectStore) imageVersion(path string) string {
	if v, ok := s.record().Images[path]; ok && v.Holds(path) {
		return v.Version
	}
	v := dialect.ReadImageVersion(path)
	if v.Stamp != "" && v.Stamp != "-" {
		_ = detect.RecordDialect(s.cacheDir, func(r *detect.DialectRecord) {
			if r.Images == nil {
				r.Images = map[string]dialect.ImageVersion{}
			}
			r.Images[path] = v
		})
	}
	return v.Version
}

// skewCheck compares the dialect of the image's iptables-nft with the
// host's, for the router's nft=auto choice (kubernetes#112477: an image's
// 1.8.7 misreads a newer host's rules and writes them back wrong).
func skewCheck(nb route.Native, store *dialectStore) func(ex route.ExecBackend, c *backend.Call) (string, bool) {
	na, ok := nb.(nativeAdapter)
	if !ok {
		return nil
	}
	return func(ex route.ExecBackend, c *backend.Call) (string, bool) {
		ec, ok := ex.(execChoice)
		if !ok || ec.bin.Kind.Mode() != backend.NFT {
			return "", false
		}
		v := store.imageVersion(ec.bin.Path)
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
