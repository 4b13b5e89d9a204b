package xt

import (
	"encoding/hex"
	"testing"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// ipvsRealBlobs are the ipvs info blobs iptables-nft 1.8.9 sends in its
// netlink batch (read with strace on a kernel without ip_vs, which then
// refuses the rule: no golden can hold them), with the save form libxt_ipvs
// prints for each.
var ipvsRealBlobs = []struct {
	fam        syntax.Family
	args, blob string
	save       string
}{
	{syntax.IPv4, "-m ipvs --vproto 6 --vaddr 1.2.3.4/16 --vport 22 --vdir ORIGINAL --vmethod GATE",
		"01020304000000000000000000000000ffff0000000000000000000000000000001606030000003f",
		"-m ipvs --vproto 6 --vaddr 1.2.3.4/16 --vport 22 --vdir ORIGINAL --vmethod GATE"},
	{syntax.IPv4, "-m ipvs ! --ipvs", "00000000000000000000000000000000000000000000000000000000000000000000000000000101", "-m ipvs ! --ipvs"},
	{syntax.IPv4, "-m ipvs ! --vaddr 1.2.3.4/255.255.255.0 --vdir REPLY ! --vportctl ftp",
		"01020304000000000000000000000000ffffff000000000000000000000000000000000000155455",
		"-m ipvs ! --vaddr 1.2.3.4/24 --vdir REPLY ! --vportctl 21"},
	{syntax.IPv4, "-m ipvs --vaddr 1.2.3.4 ! --vmethod MASQ",
		"01020304000000000000000000000000ffffffffffffffffffffffffffffffff0000000000002025",
		"-m ipvs --vaddr 1.2.3.4 ! --vmethod MASQ"},
	{syntax.IPv4, "-m ipvs --vaddr 1.2.3.4/255.0.255.0 --vmethod ipip",
		"01020304000000000000000000000000ffffffffffffffffffffffffffffffff0000000200000025",
		"-m ipvs --vaddr 1.2.3.4 --vmethod IPIP"},
	{syntax.IPv4, "-m ipvs --vproto tcp", "00000000000000000000000000000000000000000000000000000000000000000000060000000003", "-m ipvs --vproto 6"},
	{syntax.IPv4, "-m ipvs ! --vport ssh", "00000000000000000000000000000000000000000000000000000000000000000016000000000809", "-m ipvs ! --vport 22"},
	{syntax.IPv4, "-m ipvs --vaddr 10.0.0.1/8 --vportctl 21",
		"0a000001000000000000000000000000ff0000000000000000000000000000000000000000150045",
		"-m ipvs --vaddr 10.0.0.1/8 --vportctl 21"},
	{syntax.IPv6, "-m ipvs ! --vaddr fe80::1/64 --vproto udp",
		"fe800000000000000000000000000001ffffffffffffffff00000000000000000000110000000407",
		"-m ipvs --vproto 17 ! --vaddr fe80::1/64"},
}

// TestIPVSRealBlobs encodes each case as iptables-nft 1.8.9 did, decodes
// the blob back and prints it as libxt_ipvs's save does.
func TestIPVSRealBlobs(t *testing.T) {
	for _, c := range ipvsRealBlobs {
		words, err := splitWords(c.args)
		if err != nil {
			t.Fatal(err)
		}
		r, err := parseTestRule(words)
		if err != nil {
			t.Fatal(err)
		}
		ctx := Context{Family: c.fam}
		e, err := ParseMatch(ctx, r.Matches[0])
		if err != nil {
			t.Errorf("%s: %v", c.args, err)
			continue
		}
		es, err := e.Exprs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m, ok := es[0].(*expr.Match)
		if !ok || m.Name != "ipvs" || m.Rev != 0 {
			t.Fatalf("%s: encoded as %#v", c.args, es[0])
		}
		got, _ := infoBytes(ctx, 0, m.Info)
		if hex.EncodeToString(got) != c.blob {
			t.Errorf("%s: blob\n %x\nwant %s", c.args, got, c.blob)
		}
		want, _ := hex.DecodeString(c.blob)
		d, err := decodeIPVSBlob(ctx, 0, want)
		if err != nil {
			t.Errorf("%s: decode: %v", c.args, err)
			continue
		}
		if s := d.Save(ctx); s != c.save {
			t.Errorf("%s: save %q, want %q", c.args, s, c.save)
		}
	}
}
