package doctor

import (
	"fmt"

	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"github.com/iptables-shim/iptables-shim/shim/native"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// KindDialectSkew is an image iptables-nft that misreads the host's rules
// (or whose rules the host misreads) and is handed the calls (nft=exec).
const KindDialectSkew = "dialect-skew"

// DialectReport is which iptables-nft dialect (shim/dialect) the host
// speaks, why, and how this image's iptables-nft relates to it.
type DialectReport struct {
	// Host is the host's dialect and its evidence: the host's rules, its
	// package database or binary under host-root, or the setting.
	Host dialect.Finding `json:"host"`
	// ImageVersion and ImageDialect are this image's newest iptables-nft.
	ImageVersion string          `json:"image_version,omitempty"`
	ImageDialect dialect.Dialect `json:"image_dialect,omitempty"`
	// Skew says in words what the difference does; "" when none.
	Skew string `json:"skew,omitempty"`
	// Unsafe is set when one side misreads the other's rules.
	Unsafe bool `json:"unsafe,omitempty"`
}

// hostDialect fingerprints the rules of this network namespace (IPv4), as
// the native backend does before writing, falling back to the host's
// package database or binary.
func hostDialect(o Options, image []Binary) *DialectReport {
	no := native.Options{Open: o.nftOpener()}
	if o.NFTDialect != "" && o.NFTDialect != dialect.Auto {
		no.Dialect = dialect.Dialect(o.NFTDialect)
	} else {
		root := hostRoot(o)
		if root == "" {
			root = "/"
		}
		no.DetectDialect = true
		no.Fallback = func() dialect.Finding { return dialect.FromHost(root) }
	}
	dr := &DialectReport{Host: native.New(no).HostDialect(syntax.IPv4)}
	if v := newestNFT(image); v != "" {
		if d, ok := dialect.OfVersion(v); ok {
			dr.ImageVersion, dr.ImageDialect = v, d
			if dr.Host.Source != "default" {
				dr.Skew = dialect.Skew(v, d, dr.Host.Dialect)
				dr.Unsafe = dialect.Unsafe(d, dr.Host.Dialect)
			}
		}
	}
	return dr
}

// dialectFindings turns a skew into a warning when the shim keeps the
// image's binary away from the host's rules (nft=auto or native with the
// native backend built in), and into a problem when it hands it every
// call (nft=exec).
func dialectFindings(r *Report, nft string, nativeBuiltIn bool) {
	dr := r.Dialect
	if dr == nil || dr.Skew == "" {
		return
	}
	if !dr.Unsafe {
		r.Warnings = append(r.Warnings, dr.Skew)
		return
	}
	if nativeBuiltIn && nft != "exec" {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%s; the shim writes and reads the host's %s dialect natively instead (nft=%s)", dr.Skew, dr.Host.Dialect, dash(nft)))
		return
	}
	r.Problems = append(r.Problems, Finding{Kind: KindDialectSkew, Summary: dr.Skew + "; set nft=auto so the shim writes the host's dialect natively"})
}

// dialectLines is the report's text form of the dialect.
func dialectLines(dr *DialectReport) []string {
	if dr == nil {
		return nil
	}
	out := []string{fmt.Sprintf("host dialect:\tiptables-nft %s (%s: %s)", dr.Host.Dialect, dr.Host.Source, dr.Host.Why)}
	for _, c := range dr.Host.Clues {
		out = append(out, fmt.Sprintf("  evidence:\t%s", c.What))
	}
	if dr.ImageVersion != "" {
		out = append(out, fmt.Sprintf("image dialect:\tiptables-nft %s (speaks %s)", dr.ImageVersion, dr.ImageDialect))
	}
	return out
}
