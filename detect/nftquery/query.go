package nftquery

import (
	"errors"
	"fmt"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/detect/ruleset"
	"github.com/iptables-shim/iptables-shim/internal/nfnl"
	"github.com/iptables-shim/iptables-shim/shim/netfilter"
)

// Tables lists the family's tables (a handful of small messages).
func (c *Conn) Tables(f netfilter.Family) ([]string, error) {
	var names []string
	err := c.dump(f, unix.NFT_MSG_GETTABLE, nil, func(data []byte) bool {
		if name, ok := stringAttr(data, unix.NFTA_TABLE_NAME); ok {
			names = append(names, name)
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s tables: %w", FamilyName(f), wrapUnavailable(err))
	}
	sort.Strings(names)
	return names, nil
}

// HasChain looks one chain up by name: one request, one answer, whatever the
// size of the ruleset. A missing table or chain is (false, nil).
func (c *Conn) HasChain(f netfilter.Family, table, chain string) (bool, error) {
	var a nfnl.Attrs
	a.String(unix.NFTA_CHAIN_TABLE, table)
	a.String(unix.NFTA_CHAIN_NAME, chain)
	_, err := c.tr.Request(msgType(unix.NFT_MSG_GETCHAIN), 0, nfproto(f), a.B)
	if errors.Is(err, unix.ENOENT) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking up %s %s %s: %w", FamilyName(f), table, chain, wrapUnavailable(timeout(err)))
	}
	return true, nil
}

// CountRules counts the family's rules, skipping those in chains skip says
// to ignore, and stops reading at limit: capped is true when the count
// reached it. The rest of a capped dump stays queued, so a Conn used for a
// capped count must be closed afterwards, not reused.
func (c *Conn) CountRules(f netfilter.Family, limit int, skip func(table, chain string) bool) (n int, capped bool, err error) {
	err = c.dump(f, unix.NFT_MSG_GETRULE, nil, func(data []byte) bool {
		if skip != nil {
			var table, chain string
			for a := nfnl.Scan(data); a.Next(); {
				switch a.Type {
				case unix.NFTA_RULE_TABLE:
					table = a.String()
				case unix.NFTA_RULE_CHAIN:
					chain = a.String()
				}
			}
			if skip(table, chain) {
				return true
			}
		}
		n++
		if limit > 0 && n >= limit {
			capped = true
			return false
		}
		return true
	})
	if err != nil {
		return n, capped, fmt.Errorf("counting %s rules: %w", FamilyName(f), wrapUnavailable(err))
	}
	return n, capped, nil
}

// Table reads one table's chains and rules: chain names, whether each is a
// base (built-in) chain, rule counts and jump/goto targets. Its cost grows
// with the table: the doctor uses it, and the guard's lookups
// (detect.Chains) only when a call names more chains than one lookup
// each is worth.
func (c *Conn) Table(f netfilter.Family, table string) (*ruleset.Table, error) {
	t := &ruleset.Table{Name: table}
	index := map[string]int{}
	var chainAttrs nfnl.Attrs
	chainAttrs.String(unix.NFTA_CHAIN_TABLE, table)
	err := c.dump(f, unix.NFT_MSG_GETCHAIN, chainAttrs.B, func(data []byte) bool {
		var name, in string
		base := false
		for a := nfnl.Scan(data); a.Next(); {
			switch a.Type {
			case unix.NFTA_CHAIN_TABLE:
				in = a.String()
			case unix.NFTA_CHAIN_NAME:
				name = a.String()
			case unix.NFTA_CHAIN_HOOK:
				base = true
			}
		}
		if in != table {
			return true // older kernels ignore the table filter on dumps
		}
		index[name] = len(t.Chains)
		t.Chains = append(t.Chains, ruleset.Chain{Name: name, Builtin: base})
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("listing chains of %s %s: %w", FamilyName(f), table, wrapUnavailable(err))
	}
	if len(t.Chains) == 0 {
		// A chain dump of a missing table is empty, not ENOENT, on some
		// kernels; a table lookup says which it is.
		var ta nfnl.Attrs
		ta.String(unix.NFTA_TABLE_NAME, table)
		if _, err := c.tr.Request(msgType(unix.NFT_MSG_GETTABLE), 0, nfproto(f), ta.B); err != nil {
			return nil, fmt.Errorf("listing chains of %s %s: %w", FamilyName(f), table, wrapUnavailable(timeout(err)))
		}
	}
	jumps := make([]map[string]bool, len(t.Chains))
	var ruleAttrs nfnl.Attrs
	ruleAttrs.String(unix.NFTA_RULE_TABLE, table)
	err = c.dump(f, unix.NFT_MSG_GETRULE, ruleAttrs.B, func(data []byte) bool {
		var in, chain string
		var exprs []byte
		for a := nfnl.Scan(data); a.Next(); {
			switch a.Type {
			case unix.NFTA_RULE_TABLE:
				in = a.String()
			case unix.NFTA_RULE_CHAIN:
				chain = a.String()
			case unix.NFTA_RULE_EXPRESSIONS:
				exprs = a.Data
			}
		}
		i, ok := index[chain]
		if in != table || !ok {
			return true
		}
		t.Chains[i].Rules++
		for _, j := range jumpTargets(exprs) {
			if jumps[i] == nil {
				jumps[i] = map[string]bool{}
			}
			jumps[i][j] = true
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("listing rules of %s %s: %w", FamilyName(f), table, wrapUnavailable(err))
	}
	for i := range t.Chains {
		t.Chains[i].Jumps = ruleset.SortedSet(jumps[i])
	}
	return t, nil
}

// wrapUnavailable marks the errors that mean "this kernel has no nf_tables"
// so callers can tell them from a transient failure.
func wrapUnavailable(err error) error {
	for _, e := range []error{unix.EPROTONOSUPPORT, unix.EAFNOSUPPORT, unix.EOPNOTSUPP, unix.EPERM, unix.EACCES} {
		if errors.Is(err, e) {
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
	}
	return err
}

func stringAttr(data []byte, typ uint16) (string, bool) {
	for a := nfnl.Scan(data); a.Next(); {
		if a.Type == typ {
			return a.String(), true
		}
	}
	return "", false
}

// jumpTargets returns the chains a rule's expressions jump or go to: an
// "immediate" expression loading a jump/goto verdict into the verdict
// register, which is how iptables-nft encodes -j CHAIN and -g CHAIN.
func jumpTargets(exprs []byte) []string {
	var out []string
	for el := nfnl.Scan(exprs); el.Next(); {
		var name string
		var data []byte
		for e := nfnl.Scan(el.Data); e.Next(); {
			switch e.Type {
			case unix.NFTA_EXPR_NAME:
				name = e.String()
			case unix.NFTA_EXPR_DATA:
				data = e.Data
			}
		}
		if name != "immediate" {
			continue
		}
		if target := verdictChain(data); target != "" {
			out = append(out, target)
		}
	}
	return out
}

// verdictChain is the chain of an immediate's jump or goto verdict.
func verdictChain(imm []byte) string {
	for d := nfnl.Scan(imm); d.Next(); {
		if d.Type != unix.NFTA_IMMEDIATE_DATA {
			continue
		}
		for v := nfnl.Scan(d.Data); v.Next(); {
			if v.Type != unix.NFTA_DATA_VERDICT {
				continue
			}
			var code int32
			var chain string
			for f := nfnl.Scan(v.Data); f.Next(); {
				switch f.Type {
				case unix.NFTA_VERDICT_CODE:
					code = int32(f.U32())
				case unix.NFTA_VERDICT_CHAIN:
					chain = f.String()
				}
			}
			if code == unix.NFT_JUMP || code == unix.NFT_GOTO {
				return chain
			}
		}
	}
	return ""
}

// GenID is the ruleset's generation id: one request, one answer. Every
// commit in the namespace moves it (any family, any table), so an
// unchanged id means nothing changed at all.
func (c *Conn) GenID() (uint32, error) {
	gen, err := c.tr.GenID()
	if err != nil {
		return 0, wrapUnavailable(timeout(err))
	}
	return gen, nil
}
