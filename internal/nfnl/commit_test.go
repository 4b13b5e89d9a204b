package nfnl

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// openIn opens a Conn inside ns: a netlink socket stays in the namespace
// it was created in, so the thread only visits ns for the socket() call.
func openIn(t *testing.T, ns *netnstest.NS) *Conn {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	target, err := os.Open("/run/netns/" + ns.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		t.Fatal(err)
	}
	c, openErr := Open()
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread is in the wrong namespace: never let it run
		// anything else.
		panic(err)
	}
	if openErr != nil {
		t.Fatal(openErr)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func tableAttrs(name string) []byte {
	var a Attrs
	a.String(unix.NFTA_TABLE_NAME, name)
	return a.B
}

func chainAttrs(table, name string) []byte {
	var a Attrs
	a.String(unix.NFTA_CHAIN_TABLE, table)
	a.String(unix.NFTA_CHAIN_NAME, name)
	return a.B
}

// emptyRule is a rule without expressions in table/chain.
func emptyRule(table, chain string) []byte {
	var a Attrs
	a.String(unix.NFTA_RULE_TABLE, table)
	a.String(unix.NFTA_RULE_CHAIN, chain)
	return a.B
}

func countRules(t *testing.T, c *Conn, table string) int {
	t.Helper()
	n := 0
	var a Attrs
	a.String(unix.NFTA_RULE_TABLE, table)
	err := c.Dump(MsgType(SubsysNFTables, unix.NFT_MSG_GETRULE), unix.NFPROTO_IPV4, a.B, func(Message) error { n++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCommitLargeBatch commits 160k rules in one batch and checks the
// kernel took them all, then that a batch refused by many messages (far
// more error reports than the receive queue holds) is reported as refused
// and changes nothing, and that a stale generation id is caught.
func TestCommitLargeBatch(t *testing.T) {
	netnstest.Require(t)
	ns := netnstest.New(t)
	c := openIn(t, ns)
	gen, err := c.GenID()
	if err != nil {
		t.Fatal(err)
	}
	const n = 160000
	b := NewBatch(gen, true)
	b.Add(unix.NFT_MSG_NEWTABLE, unix.NLM_F_CREATE, unix.NFPROTO_IPV4, tableAttrs("t"), 0)
	b.Add(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, unix.NFPROTO_IPV4, chainAttrs("t", "c"), 0)
	for i := 0; i < n; i++ {
		b.Add(unix.NFT_MSG_NEWRULE, unix.NLM_F_CREATE|unix.NLM_F_APPEND, unix.NFPROTO_IPV4, emptyRule("t", "c"), i)
	}
	if err := c.Commit(b); err != nil {
		t.Fatalf("commit of %d rules (%d bytes): %v", n, b.Size(), err)
	}
	if got := countRules(t, c, "t"); got != n {
		t.Fatalf("kernel has %d rules, want %d", got, n)
	}

	gen, err = c.GenID()
	if err != nil {
		t.Fatal(err)
	}
	bad := NewBatch(gen, true)
	bad.Add(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, unix.NFPROTO_IPV4, chainAttrs("t", "d"), 1)
	for i := 0; i < 50000; i++ {
		bad.Add(unix.NFT_MSG_NEWRULE, unix.NLM_F_CREATE|unix.NLM_F_APPEND, unix.NFPROTO_IPV4, emptyRule("t", "missing"), 2+i)
	}
	var be *BatchError
	if err := c.Commit(bad); !errors.As(err, &be) {
		t.Fatalf("refused batch: got %v, want a BatchError", err)
	}
	if f := be.Failures[0]; f.Index >= 0 && f.Tag != 2 {
		t.Errorf("first failure %+v, want tag 2 (the first bad rule) or a batch-wide error", f)
	}
	if got := countRules(t, c, "t"); got != n {
		t.Fatalf("after the refused batch the kernel has %d rules, want %d", got, n)
	}

	stale := NewBatch(gen-1, true)
	stale.Add(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, unix.NFPROTO_IPV4, chainAttrs("t", "e"), 0)
	if err := c.Commit(stale); !errors.Is(err, ErrGenerationChanged) {
		t.Fatalf("stale generation: got %v, want ErrGenerationChanged", err)
	}
}

// TestHasExtension probes nfnetlink_compat for revisions that exist and
// ones that do not.
func TestHasExtension(t *testing.T) {
	netnstest.Require(t)
	c := openIn(t, netnstest.New(t))
	for _, p := range []struct {
		name   string
		rev    uint32
		target bool
		want   bool
	}{
		{"comment", 0, false, true},
		{"conntrack", 3, false, true},
		{"MASQUERADE", 0, true, true},
		{"comment", 99, false, false},
		{"no-such-match", 0, false, false},
		{"NO-SUCH-TARGET", 0, true, false},
	} {
		got, err := c.HasExtension(unix.NFPROTO_IPV4, p.name, p.rev, p.target)
		if err != nil || got != p.want {
			t.Errorf("HasExtension(%s, %d, target=%v) = %v, %v; want %v", p.name, p.rev, p.target, got, err, p.want)
		}
	}
}
