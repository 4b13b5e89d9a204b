package xt

import (
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// TestDialect1811Options checks the options iptables-nft 1.8.11 parses or
// prints differently from 1.8.9 (measured with both binaries on their .t
// corpora, test/native Test1811TCorpus): each in both dialects.
func TestDialect1811Options(t *testing.T) {
	tcp := syntax.Field{Set: true, Value: "tcp"}
	udp := syntax.Field{Set: true, Value: "udp"}
	for _, c := range []struct {
		proto     syntax.Field
		m         syntax.Match
		err189    string // "" when 1.8.9 takes it
		err1811   string
		save189   string
		save1811  string
		exprs1811 int // expressions 1.8.11 writes, when both take it
	}{
		{m: syntax.Match{Name: "ah", Known: true, Options: []syntax.Option{{Name: "ahspi", Args: []string{"4:3"}}}},
			err1811: `ah: bad value for option "--ahspi" near "3", or out of range (4-4294967295).`,
			save189: "-m ah --ahspi 4:3"},
		{m: syntax.Match{Name: "ah", Known: true, Options: []syntax.Option{{Name: "ahspi", Invert: true, Args: []string{":"}}}},
			save189: "-m ah", save1811: "-m ah ! --ahspi 0:4294967295"},
		{proto: udp, m: syntax.Match{Name: "udp", Known: true, Options: []syntax.Option{{Name: "sport", Args: []string{"4:3"}}}},
			err189: "invalid portrange (min > max)", err1811: "Port range 4-3 is negative."},
		{proto: tcp, m: syntax.Match{Name: "tcp", Known: true, Options: []syntax.Option{{Name: "sport", Args: []string{"4:3"}}}},
			err189: "invalid portrange (min > max)", err1811: "invalid portrange (min > max)"},
		{proto: tcp, m: syntax.Match{Name: "tcp", Known: true, Options: []syntax.Option{{Name: "sport", Invert: true, Args: []string{":"}}}},
			save189: "-m tcp", save1811: "-m tcp ! --sport 0:65535", exprs1811: 2},
	} {
		for _, d := range []dialect.Dialect{dialect.V189, dialect.V1811} {
			ctx := Context{Family: syntax.IPv4, Table: "filter", Chain: "INPUT", Protocol: c.proto, Dialect: d}
			wantErr, wantSave := c.err189, c.save189
			if d == dialect.V1811 {
				wantErr = c.err1811
				if c.save1811 != "" {
					wantSave = c.save1811
				}
			}
			e, err := ParseMatch(ctx, c.m)
			if wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), wantErr) {
					t.Errorf("%s %v in %s: error %v, want %q", c.m.Name, c.m.Options, d, err, wantErr)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s %v in %s: %v", c.m.Name, c.m.Options, d, err)
				continue
			}
			if got := e.Save(ctx); wantSave != "" && got != wantSave {
				t.Errorf("%s %v in %s: save %q, want %q", c.m.Name, c.m.Options, d, got, wantSave)
			}
			if d == dialect.V1811 && c.exprs1811 != 0 {
				es, err := e.Exprs(ctx)
				if err != nil || len(es) != c.exprs1811 {
					t.Errorf("%s %v in %s: %d expressions (%v), want %d", c.m.Name, c.m.Options, d, len(es), err, c.exprs1811)
				}
			}
		}
	}
}
