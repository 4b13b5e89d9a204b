package xt

import (
	"encoding/hex"
	"testing"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// missingTargetBlobs are LED and CLUSTERIP info blobs iptables-nft 1.8.9
// sends in its netlink batch (read with strace; the test kernel has
// neither module and refuses the rule, so no golden can hold them), with
// the save and -L text libxt_LED / libipt_CLUSTERIP 1.8.9 print for them
// (from their print and save functions: the real binary cannot list such
// a rule here).
var missingTargetBlobs = []struct {
	fam        syntax.Family
	args, blob string
	save, list string
}{
	{syntax.IPv4, "-j LED --led-trigger-id foo",
		"6e657466696c7465722d666f6f000000000000000000000000000000000000000000000000000000",
		`-j LED --led-trigger-id "foo"`, ` led-trigger-id:"foo" led-delay:0ms`},
	{syntax.IPv4, "-j LED --led-trigger-id foo --led-delay 42 --led-always-blink",
		"6e657466696c7465722d666f6f0000000000000000000000000000012a0000000000000000000000",
		`-j LED --led-trigger-id "foo" --led-delay 42 --led-always-blink`, ` led-trigger-id:"foo" led-delay:42ms led-always-blink`},
	{syntax.IPv4, "-j LED --led-trigger-id foo --led-delay inf",
		"6e657466696c7465722d666f6f000000000000000000000000000000ffffffff0000000000000000",
		`-j LED --led-trigger-id "foo" --led-delay -1`, ` led-trigger-id:"foo" led-delay:inf`},
	{syntax.IPv4, "-j LED --led-trigger-id 0123456789abcdef --led-delay 0x10",
		"6e657466696c7465722d303132333435363738396162636465660000100000000000000000000000",
		`-j LED --led-trigger-id "0123456789abcdef" --led-delay 16`, ` led-trigger-id:"0123456789abcdef" led-delay:16ms`},
	{syntax.IPv4, "-j CLUSTERIP --new --hashmode sourceip-sourceport --clustermac 01:AA:7B:47:F7:D7 --total-nodes 2 --local-node 1 --hash-init 1",
		"0100000001aa7b47f7d7020001000100000000000000000000000000000000000000000000000000000000000000000001000000010000000000000000000000",
		"-j CLUSTERIP --new --hashmode sourceip-sourceport --clustermac 01:AA:7B:47:F7:D7 --total-nodes 2 --local-node 1 --hash-init 1",
		" CLUSTERIP hashmode=sourceip-sourceport clustermac=01:AA:7B:47:F7:D7 total_nodes=2 local_node=1 hash_init=1"},
	{syntax.IPv4, "-j CLUSTERIP",
		"00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
		"-j CLUSTERIP", " CLUSTERIP"},
	{syntax.IPv4, "-j CLUSTERIP --new --hashmode sourceip-sourceport-destport --clustermac 01:aa:7b:47:f7:d7 --total-nodes 16 --local-node 16 --hash-init 4294967295",
		"0100000001aa7b47f7d7100001001000000000000000000000000000000000000000000000000000000000000000000002000000ffffffff0000000000000000",
		"-j CLUSTERIP --new --hashmode sourceip-sourceport-destport --clustermac 01:AA:7B:47:F7:D7 --total-nodes 16 --local-node 16 --hash-init 4294967295",
		" CLUSTERIP hashmode=sourceip-sourceport-destport clustermac=01:AA:7B:47:F7:D7 total_nodes=16 local_node=16 hash_init=4294967295"},
}

// TestMissingTargetRealBlobs encodes each case as iptables-nft 1.8.9 did,
// decodes the blob back and prints it as 1.8.9 would.
func TestMissingTargetRealBlobs(t *testing.T) {
	for _, c := range missingTargetBlobs {
		words, err := splitWords(c.args)
		if err != nil {
			t.Fatal(err)
		}
		r, err := parseTestRule(words)
		if err != nil {
			t.Fatal(err)
		}
		ctx := Context{Family: c.fam, Table: "filter", Chain: "INPUT"}
		e, err := ParseTarget(ctx, *r.Target)
		if err != nil {
			t.Errorf("%s: %v", c.args, err)
			continue
		}
		es, err := e.Exprs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		x, ok := es[len(es)-1].(*expr.Target)
		if !ok || x.Name != r.Target.Name || x.Rev != 0 {
			t.Fatalf("%s: encoded as %#v", c.args, es[len(es)-1])
		}
		got, _ := infoBytes(ctx, 0, x.Info)
		if hex.EncodeToString(got) != c.blob {
			t.Errorf("%s: blob\n %x\nwant %s", c.args, got, c.blob)
		}
		want, _ := hex.DecodeString(c.blob)
		d, err := targetDecoders()[r.Target.Name](ctx, 0, want)
		if err != nil {
			t.Errorf("%s: decode: %v", c.args, err)
			continue
		}
		if s := d.Save(ctx); s != c.save {
			t.Errorf("%s: save %q, want %q", c.args, s, c.save)
		}
		if l := d.(Lister).List(false); l != c.list {
			t.Errorf("%s: list %q, want %q", c.args, l, c.list)
		}
	}
}
