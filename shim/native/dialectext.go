package native

import (
	"strings"

	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
	"github.com/iptables-shim/iptables-shim/shim/xt"
)

// dialectRefusesMatch refuses the match forms iptables-nft 1.8.7 has no
// syntax for: the sctp chunk types its libxt_sctp does not name (I_DATA,
// RE_CONFIG, PAD, I_FORWARD_TSN came with 1.8.8), which its save would
// print without a name.
func dialectRefusesMatch(d dialect.Dialect, m syntax.Match) error {
	if d != dialect.V187 || m.Name != "sctp" {
		return nil
	}
	for _, o := range m.Options {
		if o.Name != "chunk-types" || len(o.Args) != 2 {
			continue
		}
		for _, c := range strings.Split(o.Args[1], ",") {
			name, _, _ := strings.Cut(c, ":")
			switch strings.ToUpper(name) {
			case "I_DATA", "RE_CONFIG", "PAD", "I_FORWARD_TSN":
				return xt.OlderDialect("sctp --chunk-types "+name, string(d))
			}
		}
	}
	return nil
}

// dialectRefusesTarget refuses the target forms iptables-nft 1.8.7 (the
// V187 dialect) has no syntax for, so that a host running it never meets a
// rule its own parser refuses: its DNAT takes no service names for ports
// (checked with the real 1.8.7 by TestSkewVectors). (NFLOG, whose native
// log expression 1.8.7 does not read, is written in its xt form:
// dialectCompatTarget.)
func dialectRefusesTarget(d dialect.Dialect, t *syntax.Target, ext xt.Ext) error {
	if d != dialect.V187 {
		return nil
	}
	switch ext.Name() {
	case "DNAT":
		for _, o := range t.Options {
			if o.Name != "to-destination" || len(o.Args) != 1 {
				continue
			}
			a := o.Args[0]
			port := ""
			if i := strings.LastIndex(a, "]:"); i >= 0 {
				port = a[i+2:]
			} else if !strings.HasPrefix(a, "[") && strings.Count(a, ":") == 1 {
				port = a[strings.Index(a, ":")+1:]
			}
			if strings.ContainsAny(port, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
				return xt.OlderDialect("DNAT --to-destination "+a, string(d))
			}
		}
	}
	return nil
}
