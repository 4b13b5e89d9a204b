package xt

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/google/nftables/expr"
	nfxt "github.com/google/nftables/xt"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
	"github.com/iptables-shim/iptables-shim/shim/xt/internal/kdump"
)

func nfacctMatch(args ...string) syntax.Match {
	m := syntax.Match{Name: "nfacct", Known: true}
	for _, a := range args {
		o := syntax.Option{Name: "nfacct-name", Args: []string{a}}
		if strings.HasPrefix(a, "!") {
			o = syntax.Option{Name: "nfacct-name", Invert: true, Args: []string{a[1:]}}
		}
		m.Options = append(m.Options, o)
	}
	return m
}

// TestNFAcctEncode checks the info blob, save text and decoding without the
// kernel: the name NUL-padded in 32 bytes, the kernel's pointer zero.
func TestNFAcctEncode(t *testing.T) {
	ctx := Context{Family: syntax.IPv4, Table: "filter", Chain: "KUBE-FORWARD"}
	for _, c := range []struct{ arg, name, save string }{
		{"ct_state_invalid_dropped_pkts", "ct_state_invalid_dropped_pkts", "-m nfacct --nfacct-name  ct_state_invalid_dropped_pkts"},
		{"a b", "a b", `-m nfacct --nfacct-name  "a b"`},
		// libxtables cuts a name to the field less its NUL.
		{"0123456789012345678901234567890123", "0123456789012345678901234567890", "-m nfacct --nfacct-name  0123456789012345678901234567890"},
	} {
		e, err := ParseMatch(ctx, nfacctMatch(c.arg))
		if err != nil {
			t.Fatalf("%q: %v", c.arg, err)
		}
		if got := e.Save(ctx); got != c.save {
			t.Errorf("%q: save %q, want %q", c.arg, got, c.save)
		}
		exprs, err := e.Exprs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m, ok := exprs[0].(*expr.Match)
		if len(exprs) != 1 || !ok || m.Name != "nfacct" || m.Rev != 1 {
			t.Fatalf("%q: expressions %#v, want one xt match nfacct rev 1", c.arg, exprs)
		}
		want := make([]byte, 40)
		copy(want, c.name)
		if got := []byte(*m.Info.(*nfxt.Unknown)); !bytes.Equal(got, want) {
			t.Errorf("%q: info %x, want %x", c.arg, got, want)
		}
		back, n, err := DecodeMatch(ctx, exprs)
		if err != nil || n != 1 || back.Save(ctx) != c.save {
			t.Errorf("%q: decoded %v (%d, %v)", c.arg, back, n, err)
		}
	}
	// The kernel's pointer after the name does not matter to the rule.
	withPtr := make([]byte, 40)
	copy(withPtr, "x")
	withPtr[36] = 0xff
	if e, _, err := DecodeMatch(ctx, []expr.Any{&expr.Match{Name: "nfacct", Rev: 1, Info: rawInfo(withPtr)}}); err != nil || e.Save(ctx) != "-m nfacct --nfacct-name  x" {
		t.Errorf("decoding with a kernel pointer: %v, %v", e, err)
	}
	for _, bad := range [][]expr.Any{
		{&expr.Match{Name: "nfacct", Rev: 0, Info: rawInfo(make([]byte, 40))}},
		{&expr.Match{Name: "nfacct", Rev: 1, Info: rawInfo(make([]byte, 32))}},
		{&expr.Match{Name: "nfacct", Rev: 1, Info: rawInfo(bytes.Repeat([]byte{'a'}, 40))}},
	} {
		if _, _, err := DecodeMatch(ctx, bad); !IsUnsupported(err) {
			t.Errorf("decoding %#v: %v, want an unsupported refusal", bad[0], err)
		}
	}
}

// TestNFAcctErrors checks libxt_nfacct's refusals, word for word with
// iptables-nft 1.8.9.
func TestNFAcctErrors(t *testing.T) {
	ctx := Context{Family: syntax.IPv4, Table: "filter", Chain: "INPUT"}
	for _, c := range []struct {
		m    syntax.Match
		want string
	}{
		{nfacctMatch(), "nfacct: option \"--nfacct-name\" must be specified\n"},
		{nfacctMatch(""), "Argument must have a minimum length of 1 characters\n"},
		{nfacctMatch("!x"), "nfacct: option \"--nfacct-name\" cannot be inverted.\n"},
	} {
		_, err := ParseMatch(ctx, c.m)
		if !ipterr.Is(err, ipterr.Parameter) || err.Error() != c.want {
			t.Errorf("%+v: %v, want %q (class 2)", c.m, err, c.want)
		}
	}
}

// nfnetlink_acct's message and attribute numbers (linux/netfilter/
// nfnetlink_acct.h); x/sys/unix does not name them.
const (
	nfnlMsgAcctNew = 0
	nfacctAttrName = 1
)

// testNFAcct are the accounting objects the golden cases count into,
// created in the namespace the goldens are made in.
var testNFAcct = []string{"ct_state_invalid_dropped_pkts", "localhost_nps_accepted_pkts", "a b"}

// addNFAcct creates accounting objects in the named network namespace, as
// kube-proxy does (NFNL_MSG_ACCT_NEW over nfnetlink).
func addNFAcct(t *testing.T, ns string, names ...string) {
	t.Helper()
	f, err := os.Open("/run/netns/" + ns)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: int(f.Fd())})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, n := range names {
		ae := netlink.NewAttributeEncoder()
		ae.String(nfacctAttrName, n)
		attrs, err := ae.Encode()
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Execute(netlink.Message{
			Header: netlink.Header{
				Type:  netlink.HeaderType(unix.NFNL_SUBSYS_ACCT<<8 | nfnlMsgAcctNew),
				Flags: netlink.Request | netlink.Create | netlink.Acknowledge,
			},
			Data: append([]byte{unix.AF_UNSPEC, unix.NFNETLINK_V0, 0, 0}, attrs...),
		})
		if err != nil {
			t.Fatalf("creating nfacct object %q: %v", n, err)
		}
	}
}

// TestNFAcctReal compares the native encoding with what the real
// iptables-nft 1.8.9 puts in the kernel, byte for byte, and its save text,
// for both families.
func TestNFAcctReal(t *testing.T) {
	netnstest.Require(t, "iptables-nft", "ip6tables-nft")
	ns := netnstest.New(t)
	names := []string{"ct_state_invalid_dropped_pkts", "localhost_nps_accepted_pkts", "a b", "0123456789012345678901234567890"}
	addNFAcct(t, ns.Name, names...)
	args := append(names, "0123456789012345678901234567890_cut")
	for _, fam := range []syntax.Family{syntax.IPv4, syntax.IPv6} {
		prog := "iptables-nft"
		if fam == syntax.IPv6 {
			prog = "ip6tables-nft"
		}
		ctx := Context{Family: fam, Table: "filter", Chain: "INPUT"}
		for _, a := range args {
			ns.MustRun(prog, "-A", "INPUT", "-m", "nfacct", "--nfacct-name", a)
		}
		rules, err := kdump.Dump(ns.Name, nfproto(fam))
		if err != nil {
			t.Fatal(err)
		}
		var saves []string
		for _, l := range strings.Split(ns.MustRun(prog+"-save", "-t", "filter"), "\n") {
			if strings.HasPrefix(l, "-A INPUT ") {
				saves = append(saves, strings.TrimPrefix(l, "-A INPUT "))
			}
		}
		if len(rules) != len(args) || len(saves) != len(args) {
			t.Fatalf("%s: %d rules dumped, %d saved, want %d", prog, len(rules), len(saves), len(args))
		}
		for i, a := range args {
			e, err := ParseMatch(ctx, nfacctMatch(a))
			if err != nil {
				t.Fatal(err)
			}
			ours, err := e.Exprs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var theirs []expr.Any
			for _, x := range rules[i].Exprs {
				if _, ok := x.Parsed.(*expr.Counter); ok {
					break
				}
				theirs = append(theirs, x.Parsed)
			}
			gs, err := marshalAll(fam, ours)
			if err != nil {
				t.Fatal(err)
			}
			ws, err := marshalAll(fam, theirs)
			if err != nil {
				t.Fatal(err)
			}
			if gs != ws {
				t.Errorf("%s --nfacct-name %q: expressions differ\n got:\n%s\nwant:\n%s", prog, a, gs, ws)
			}
			d, n, err := DecodeMatch(ctx, theirs)
			if err != nil || n != len(theirs) {
				t.Fatalf("%s --nfacct-name %q: decoding the real rule: %v (%d of %d)", prog, a, err, n, len(theirs))
			}
			if got := d.Save(ctx); got != saves[i] {
				t.Errorf("%s --nfacct-name %q: save %q, iptables-nft-save prints %q", prog, a, got, saves[i])
			}
		}
	}
}
