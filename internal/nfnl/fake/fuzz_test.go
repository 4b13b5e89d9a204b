package fake

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/nfnl"
)

// dumpAll renders the whole ruleset and the generation.
func dumpAll(t *testing.T, c nfnl.Transport) string {
	t.Helper()
	var b strings.Builder
	gen, _ := c.GenID()
	fmt.Fprintf(&b, "gen %d\n", gen)
	for _, fam := range []uint8{unix.NFPROTO_IPV4, unix.NFPROTO_IPV6} {
		for _, msg := range []int{unix.NFT_MSG_GETTABLE, unix.NFT_MSG_GETCHAIN, unix.NFT_MSG_GETRULE} {
			err := c.Dump(nfnl.MsgType(nfnl.SubsysNFTables, msg), fam, nil, func(m nfnl.Message) error {
				fmt.Fprintf(&b, "%d %x\n", m.Type, m.Attrs)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	return b.String()
}

// batchFrom reads a batch from fuzz input: per message a type (modulo the
// six nf_tables write messages), flags, a family bit, and a length-prefixed
// attribute stream.
func batchFrom(gen uint32, data []byte) *nfnl.Batch {
	msgs := []int{unix.NFT_MSG_NEWTABLE, unix.NFT_MSG_DELTABLE, unix.NFT_MSG_NEWCHAIN, unix.NFT_MSG_DELCHAIN, unix.NFT_MSG_NEWRULE, unix.NFT_MSG_DELRULE}
	b := nfnl.NewBatch(gen, true)
	for n := 0; len(data) >= 5; n++ {
		msg := msgs[int(data[0])%len(msgs)]
		flags := binary.BigEndian.Uint16(data[1:])
		fam := uint8(unix.NFPROTO_IPV4)
		if data[3]&1 != 0 {
			fam = unix.NFPROTO_IPV6
		}
		l := min(int(data[4]), len(data)-5)
		b.Add(msg, flags, fam, data[5:5+l], n)
		data = data[5+l:]
	}
	return b
}

// encode is batchFrom's inverse for seeds.
func encode(msgs ...[]byte) []byte {
	var out []byte
	for _, m := range msgs {
		out = append(out, m...)
	}
	return out
}

func seedMsg(kind byte, flags uint16, build func(a *nfnl.Attrs)) []byte {
	var a nfnl.Attrs
	build(&a)
	out := []byte{kind, byte(flags >> 8), byte(flags), 0, byte(len(a.B))}
	return append(out, a.B...)
}

// FuzzCommitAllOrNothing sends arbitrary batches to a fake holding a small
// ruleset: nothing may panic, and a refused batch must leave the ruleset
// and the generation exactly as they were.
func FuzzCommitAllOrNothing(f *testing.F) {
	table := func(name string) func(a *nfnl.Attrs) {
		return func(a *nfnl.Attrs) { a.String(unix.NFTA_TABLE_NAME, name) }
	}
	chain := func(name string) func(a *nfnl.Attrs) {
		return func(a *nfnl.Attrs) {
			a.String(unix.NFTA_CHAIN_TABLE, "filter")
			a.String(unix.NFTA_CHAIN_NAME, name)
		}
	}
	create := uint16(unix.NLM_F_CREATE)
	f.Add(encode(seedMsg(0, create, table("nat")), seedMsg(2, create, func(a *nfnl.Attrs) {
		a.String(unix.NFTA_CHAIN_TABLE, "nat")
		a.String(unix.NFTA_CHAIN_NAME, "X")
	})))
	f.Add(encode(seedMsg(2, create|unix.NLM_F_EXCL, chain("A")), seedMsg(3, unix.NLM_F_NONREC, chain("B"))))
	f.Add(encode(seedMsg(5, 0, func(a *nfnl.Attrs) {
		a.String(unix.NFTA_RULE_TABLE, "filter")
		a.String(unix.NFTA_RULE_CHAIN, "A")
	}), seedMsg(1, 0, table("filter"))))
	f.Fuzz(func(t *testing.T, data []byte) {
		k := New()
		c, _ := k.Open()
		setup := batchFrom(1, encode(
			seedMsg(0, create, table("filter")),
			seedMsg(2, create|unix.NLM_F_EXCL, chain("A")),
			seedMsg(2, create|unix.NLM_F_EXCL, chain("B")),
		))
		if err := c.Commit(setup); err != nil {
			t.Fatal(err)
		}
		before := dumpAll(t, c)
		gen, _ := c.GenID()
		b := batchFrom(gen, data)
		defer b.Release()
		if err := c.Commit(b); err != nil {
			if after := dumpAll(t, c); after != before {
				t.Fatalf("refused batch (%v) changed the ruleset:\n%s\n%s", err, before, after)
			}
		}
	})
}
