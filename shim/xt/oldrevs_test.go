package xt

import (
	"bytes"
	"testing"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// TestOlderTargetRevisions decodes target revisions iptables-nft 1.8.9
// does not write but older writers do (iptables before 1.8.5 writes
// IDLETIMER rev 0; TPROXY rev 0 is the pre-2.6.37 IPv4 form), prints them
// as 1.8.9's save functions for those revisions do, and writes them back
// byte for byte.
func TestOlderTargetRevisions(t *testing.T) {
	label := make([]byte, 28)
	copy(label, "foo")
	idle := append(append(le32s(42), label...), make([]byte, 8)...)
	tproxy := append(le32s(0xff, 0x23), 10, 0, 0, 1, 0x30, 0x39, 0, 0)
	for _, c := range []struct {
		name string
		info []byte
		save string
	}{
		{"IDLETIMER", idle, "-j IDLETIMER --timeout 42 --label foo"},
		{"TPROXY", tproxy, "-j TPROXY --on-port 12345 --on-ip 10.0.0.1 --tproxy-mark 0x23/0xff"},
	} {
		ctx := Context{Family: syntax.IPv4, Protocol: syntax.Field{Set: true, Value: "tcp"}}
		e, _, err := DecodeTarget(ctx, []expr.Any{&expr.Target{Name: c.name, Rev: 0, Info: rawInfo(c.info)}})
		if err != nil {
			t.Fatalf("%s rev 0: %v", c.name, err)
		}
		if got := e.Save(ctx); got != c.save {
			t.Errorf("%s rev 0: save %q, want %q", c.name, got, c.save)
		}
		if name, rev, _, _ := e.Revision(); name != c.name || rev != 0 {
			t.Errorf("%s rev 0: Revision says %s %d", c.name, name, rev)
		}
		again, err := e.Exprs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		x := again[0].(*expr.Target)
		if got, _ := infoBytes(ctx, x.Rev, x.Info); x.Rev != 0 || !bytes.Equal(got, c.info) {
			t.Errorf("%s rev 0: written back as rev %d %x, want %x", c.name, x.Rev, got, c.info)
		}
	}
}
