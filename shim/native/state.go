package native

import (
	"bytes"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/shim/native/nfnl"
)

// chainInfo is one chain as the kernel reports it.
type chainInfo struct {
	name   string
	handle uint64
	base   bool
	hook   uint32
	prio   int32
	typ    string
	policy uint32
	// hasCounters is set when the chain carries its own counters (base
	// chains iptables-nft-restore declared).
	hasCounters    bool
	packets, bytes uint64
	// use is the kernel's reference count: one per rule of the chain
	// and one per jump or goto to it.
	use uint32
	// order is the chain's place in the kernel's listing of its table
	// (creation order), as iptables-nft's cache keeps it.
	order int
}

// tableInfo is one table of the family with its chains.
type tableInfo struct {
	name   string
	chains map[string]*chainInfo
	// tainted is set when hideIncompatible dropped a base chain of the
	// table: listings then say so in a comment line, as iptables-nft does.
	tainted bool
}

// kernelState is the tables and chains of one family at one generation.
type kernelState struct {
	genID  uint32
	tables map[string]*tableInfo
}

// maxDumpTries bounds the retries of a dump the ruleset changed under.
const maxDumpTries = 8

// readState dumps the family's tables and chains and the generation they
// belong to, retrying while other writers change the ruleset in between.
func readState(c *nfnl.Conn, fam uint8) (*kernelState, error) {
	for try := 0; ; try++ {
		st, err := readStateOnce(c, fam)
		if err == nil || try == maxDumpTries || !errors.Is(err, nfnl.ErrDumpInterrupted) {
			return st, err
		}
	}
}

func readStateOnce(c *nfnl.Conn, fam uint8) (*kernelState, error) {
	gen, err := c.GenID()
	if err != nil {
		return nil, genIDFailure(err)
	}
	st := &kernelState{genID: gen, tables: map[string]*tableInfo{}}
	err = c.Dump(nfnl.MsgType(nfnl.SubsysNFTables, unix.NFT_MSG_GETTABLE), fam, nil, func(m nfnl.Message) error {
		for _, a := range nfnl.ParseAttrs(m.Attrs) {
			if a.Type == unix.NFTA_TABLE_NAME {
				n := a.String()
				st.tables[n] = &tableInfo{name: n, chains: map[string]*chainInfo{}}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing tables: %w", err)
	}
	err = c.Dump(nfnl.MsgType(nfnl.SubsysNFTables, unix.NFT_MSG_GETCHAIN), fam, nil, func(m nfnl.Message) error {
		table, ch := scanChain(m.Attrs)
		if t := st.tables[string(table)]; t != nil {
			ch.order = len(t.chains)
			t.chains[ch.name] = ch
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing chains: %w", err)
	}
	after, err := c.GenID()
	if err != nil {
		return nil, err
	}
	if after != gen {
		return nil, nfnl.ErrDumpInterrupted
	}
	return st, nil
}

// parseChain decodes a chain message: its table's name and the chain.
func parseChain(b []byte) (string, *chainInfo) {
	table, ch := scanChain(b)
	return string(table), ch
}

// scanChain decodes a chain message; table aliases b.
func scanChain(b []byte) ([]byte, *chainInfo) {
	ch := &chainInfo{}
	var table []byte
	for a := nfnl.Scan(b); a.Next(); {
		switch a.Type {
		case unix.NFTA_CHAIN_TABLE:
			table = cString(a.Data)
		case unix.NFTA_CHAIN_NAME:
			ch.name = string(cString(a.Data))
		case unix.NFTA_CHAIN_HANDLE:
			ch.handle = a.U64()
		case unix.NFTA_CHAIN_HOOK:
			ch.base = true
			for h := nfnl.Scan(a.Data); h.Next(); {
				switch h.Type {
				case unix.NFTA_HOOK_HOOKNUM:
					ch.hook = h.U32()
				case unix.NFTA_HOOK_PRIORITY:
					ch.prio = int32(h.U32())
				}
			}
		case unix.NFTA_CHAIN_POLICY:
			ch.policy = a.U32()
		case unix.NFTA_CHAIN_USE:
			ch.use = a.U32()
		case unix.NFTA_CHAIN_TYPE:
			ch.typ = a.String()
		case unix.NFTA_CHAIN_COUNTERS:
			ch.hasCounters = true
			for cnt := nfnl.Scan(a.Data); cnt.Next(); {
				switch cnt.Type {
				case unix.NFTA_COUNTER_PACKETS:
					ch.packets = cnt.U64()
				case unix.NFTA_COUNTER_BYTES:
					ch.bytes = cnt.U64()
				}
			}
		}
	}
	return table, ch
}

// cString returns a NUL-terminated attribute without its terminator.
func cString(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// hideIncompatible drops the base chains iptables-nft's cache leaves out
// (nft_cache_add_base_chain) and marks their table tainted: a base chain
// whose hook is not one of its table's built-in chains, or whose name,
// priority or type differs from the built-in chain of that hook (a chain
// `nft` created with another priority, one `iptables -E INPUT X` renamed).
// No command sees or touches them; -S, -L and save print a comment line.
func (st *kernelState) hideIncompatible() {
	for name, t := range st.tables {
		spec := lookupTable(name)
		if spec == nil {
			continue
		}
		for cn, ch := range t.chains {
			if ch.base && !spec.ownsBaseChain(ch) {
				delete(t.chains, cn)
				t.tainted = true
			}
		}
	}
}

// ownsBaseChain reports whether a base chain is the built-in chain
// iptables-nft expects on its hook.
func (spec *tableSpec) ownsBaseChain(ch *chainInfo) bool {
	for i := range spec.chains {
		bc := &spec.chains[i]
		if bc.hook == ch.hook {
			return bc.name == ch.name && bc.prio == ch.prio && bc.typ == ch.typ
		}
	}
	return false
}

// taintNote is the comment line iptables-nft prints before listing a
// table with base chains it does not own.
func taintNote(table string) string {
	return "# Table `" + table + "' contains incompatible base-chains, use 'nft' tool to list them.\n"
}
