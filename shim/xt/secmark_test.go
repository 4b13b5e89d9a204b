package xt

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// secmarkSent is the target info the real iptables-nft 1.8.9 sends for
// "-t security -A INPUT -j SECMARK --selctx
// system_u:object_r:firewalld_exec_t:s0" (SECMARK rev 1), read from its
// netlink batch with strace: no golden can hold it, for the kernel
// refuses the rule without SELinux (see kernelRefusesHere).
var secmarkSent = "01" + hex.EncodeToString([]byte("system_u:object_r:firewalld_exec_t:s0")) +
	strings.Repeat("00", 264-1-len("system_u:object_r:firewalld_exec_t:s0"))

func TestSecmarkBlob(t *testing.T) {
	ctx := Context{Family: syntax.IPv4, Table: "security", Chain: "INPUT"}
	e, err := ParseTarget(ctx, syntax.Target{Name: "SECMARK", Known: true,
		Options: []syntax.Option{{Name: "selctx", Args: []string{"system_u:object_r:firewalld_exec_t:s0"}}}})
	if err != nil {
		t.Fatal(err)
	}
	es, err := e.Exprs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tg := es[0].(*expr.Target)
	want, _ := hex.DecodeString(secmarkSent)
	got, _ := infoBytes(ctx, tg.Rev, tg.Info)
	if tg.Name != "SECMARK" || tg.Rev != 1 || !bytes.Equal(got, want) {
		t.Fatalf("SECMARK rev %d info %x, iptables-nft sends rev 1 %x", tg.Rev, got, want)
	}
	d, n, err := DecodeTarget(ctx, es)
	if err != nil || n != 1 {
		t.Fatalf("decode: %v", err)
	}
	if s := d.Save(ctx); s != "-j SECMARK --selctx system_u:object_r:firewalld_exec_t:s0" {
		t.Errorf("save %q", s)
	}
	if l := d.(Lister).List(false); l != " SECMARK selctx system_u:object_r:firewalld_exec_t:s0" {
		t.Errorf("list %q", l)
	}
}
