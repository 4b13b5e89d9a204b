package nftread

import (
	"bytes"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/nfnl"
)

// ChainInfo is one chain as the kernel reports it.
type ChainInfo struct {
	// Name and Handle identify the chain in its table.
	Name   string
	Handle uint64
	// Base is set for a base chain, which has a Hook, a priority (Prio),
	// a chain Type ("filter", "nat", "route") and a Policy (a verdict).
	Base   bool
	Hook   uint32
	Prio   int32
	Type   string
	Policy uint32
	// HasCounters is set when the chain carries its own counters (base
	// chains iptables-nft-restore declared).
	HasCounters    bool
	Packets, Bytes uint64
	// Use is the kernel's reference count: one per rule of the chain
	// and one per jump or goto to it.
	Use uint32
	// Order is the chain's place in the kernel's listing of its table
	// (creation order), as iptables-nft's cache keeps it.
	Order int
}

// TableInfo is one table of the family with its chains.
type TableInfo struct {
	// Name is the table's name; Chains are its chains by name.
	Name   string
	Chains map[string]*ChainInfo
	// Tainted is set when HideIncompatible dropped a base chain of the
	// table: listings then say so in a comment line, as iptables-nft does.
	Tainted bool
}

// KernelState is the tables and chains of one family at one generation.
type KernelState struct {
	// GenID is the ruleset generation the state was read at.
	GenID uint32
	// Tables are the family's iptables tables by name.
	Tables map[string]*TableInfo
}

// MaxDumpTries bounds the retries of a dump the ruleset changed under.
const MaxDumpTries = 8

// ReadState dumps the family's tables and chains and the generation they
// belong to, retrying while other writers change the ruleset in between.
func ReadState(c nfnl.Transport, fam uint8) (*KernelState, error) {
	for try := 0; ; try++ {
		st, err := readStateOnce(c, fam)
		if err == nil || try == MaxDumpTries || !errors.Is(err, nfnl.ErrDumpInterrupted) {
			return st, err
		}
	}
}

func readStateOnce(c nfnl.Transport, fam uint8) (*KernelState, error) {
	gen, err := c.GenID()
	if err != nil {
		return nil, GenIDFailure(err)
	}
	st := &KernelState{GenID: gen, Tables: map[string]*TableInfo{}}
	err = c.Dump(nfnl.MsgType(nfnl.SubsysNFTables, unix.NFT_MSG_GETTABLE), fam, nil, func(m nfnl.Message) error {
		for _, a := range nfnl.ParseAttrs(m.Attrs) {
			if a.Type == unix.NFTA_TABLE_NAME {
				n := a.String()
				st.Tables[n] = &TableInfo{Name: n, Chains: map[string]*ChainInfo{}}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing tables: %w", err)
	}
	err = c.Dump(nfnl.MsgType(nfnl.SubsysNFTables, unix.NFT_MSG_GETCHAIN), fam, nil, func(m nfnl.Message) error {
		table, ch := scanChain(m.Attrs)
		if t := st.Tables[string(table)]; t != nil {
			ch.Order = len(t.Chains)
			t.Chains[ch.Name] = ch
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

// ParseChain decodes a chain message: its table's name and the chain.
func ParseChain(b []byte) (string, *ChainInfo) {
	table, ch := scanChain(b)
	return string(table), ch
}

// scanChain decodes a chain message; table aliases b.
func scanChain(b []byte) ([]byte, *ChainInfo) {
	ch := &ChainInfo{}
	var table []byte
	for a := nfnl.Scan(b); a.Next(); {
		switch a.Type {
		case unix.NFTA_CHAIN_TABLE:
			table = cString(a.Data)
		case unix.NFTA_CHAIN_NAME:
			ch.Name = string(cString(a.Data))
		case unix.NFTA_CHAIN_HANDLE:
			ch.Handle = a.U64()
		case unix.NFTA_CHAIN_HOOK:
			ch.Base = true
			for h := nfnl.Scan(a.Data); h.Next(); {
				switch h.Type {
				case unix.NFTA_HOOK_HOOKNUM:
					ch.Hook = h.U32()
				case unix.NFTA_HOOK_PRIORITY:
					ch.Prio = int32(h.U32())
				}
			}
		case unix.NFTA_CHAIN_POLICY:
			ch.Policy = a.U32()
		case unix.NFTA_CHAIN_USE:
			ch.Use = a.U32()
		case unix.NFTA_CHAIN_TYPE:
			ch.Type = a.String()
		case unix.NFTA_CHAIN_COUNTERS:
			ch.HasCounters = true
			for cnt := nfnl.Scan(a.Data); cnt.Next(); {
				switch cnt.Type {
				case unix.NFTA_COUNTER_PACKETS:
					ch.Packets = cnt.U64()
				case unix.NFTA_COUNTER_BYTES:
					ch.Bytes = cnt.U64()
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

// HideIncompatible drops the base chains iptables-nft's cache leaves out
// (nft_cache_add_base_chain) and marks their table tainted: a base chain
// whose hook is not one of its table's built-in chains, or whose name,
// priority or type differs from the built-in chain of that hook (a chain
// `nft` created with another priority, one `iptables -E INPUT X` renamed).
// No command sees or touches them; -S, -L and save print a comment line.
func (st *KernelState) HideIncompatible() {
	for name, t := range st.Tables {
		spec := LookupTable(name)
		if spec == nil {
			continue
		}
		for cn, ch := range t.Chains {
			if ch.Base && !spec.ownsBaseChain(ch) {
				delete(t.Chains, cn)
				t.Tainted = true
			}
		}
	}
}

// ownsBaseChain reports whether a base chain is the built-in chain
// iptables-nft expects on its hook.
func (spec *TableSpec) ownsBaseChain(ch *ChainInfo) bool {
	for i := range spec.Chains {
		bc := &spec.Chains[i]
		if bc.Hook == ch.Hook {
			return bc.Name == ch.Name && bc.Prio == ch.Prio && bc.Type == ch.Type
		}
	}
	return false
}

// TaintNote is the comment line iptables-nft prints before listing a
// table with base chains it does not own.
func TaintNote(table string) string {
	return "# Table `" + table + "' contains incompatible base-chains, use 'nft' tool to list them.\n"
}
