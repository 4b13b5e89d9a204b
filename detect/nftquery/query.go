package nftquery

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/detect/ruleset"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// Tables lists the family's tables (a handful of small messages).
func (c *Conn) Tables(f syntax.Family) ([]string, error) {
	var names []string
	var decodeErr error
	err := c.request(f, unix.NFT_MSG_GETTABLE, true, nil, func(data []byte) bool {
		name, err := stringAttr(data, unix.NFTA_TABLE_NAME)
		if err != nil {
			decodeErr = err
			return false
		}
		names = append(names, name)
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s tables: %w", FamilyName(f), wrapUnavailable(err))
	}
	sort.Strings(names)
	return names, decodeErr
}

// HasChain looks one chain up by name: one request, one answer, whatever the
// size of the ruleset. A missing table or chain is (false, nil).
func (c *Conn) HasChain(f syntax.Family, table, chain string) (bool, error) {
	err := c.request(f, unix.NFT_MSG_GETCHAIN, false,
		[]attr{strAttr(unix.NFTA_CHAIN_TABLE, table), strAttr(unix.NFTA_CHAIN_NAME, chain)},
		func([]byte) bool { return false })
	if errors.Is(err, unix.ENOENT) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking up %s %s %s: %w", FamilyName(f), table, chain, wrapUnavailable(err))
	}
	return true, nil
}

// CountRules counts the family's rules, skipping those in chains skip says
// to ignore, and stops reading at limit: capped is true when the count
// reached it. The kernel sends the rest of the dump anyway, so a Conn used
// for a capped count must be closed afterwards, not reused.
func (c *Conn) CountRules(f syntax.Family, limit int, skip func(table, chain string) bool) (n int, capped bool, err error) {
	var decodeErr error
	err = c.request(f, unix.NFT_MSG_GETRULE, true, nil, func(data []byte) bool {
		if skip != nil {
			table, chain, err := ruleHome(data)
			if err != nil {
				decodeErr = err
				return false
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
	if err == nil {
		err = decodeErr
	}
	if err != nil {
		return n, capped, fmt.Errorf("counting %s rules: %w", FamilyName(f), wrapUnavailable(err))
	}
	return n, capped, nil
}

// Table reads one table's chains and rules: chain names, whether each is a
// base (built-in) chain, rule counts and jump/goto targets. Its cost grows
// with the table; the doctor uses it, the hot path never does.
func (c *Conn) Table(f syntax.Family, table string) (*ruleset.Table, error) {
	t := &ruleset.Table{Name: table}
	index := map[string]int{}
	var decodeErr error
	err := c.request(f, unix.NFT_MSG_GETCHAIN, true, []attr{strAttr(unix.NFTA_CHAIN_TABLE, table)}, func(data []byte) bool {
		ch, err := decodeChain(data)
		if err != nil {
			decodeErr = err
			return false
		}
		if ch.table != table {
			return true // older kernels ignore the table filter on dumps
		}
		index[ch.name] = len(t.Chains)
		t.Chains = append(t.Chains, ruleset.Chain{Name: ch.name, Builtin: ch.base})
		return true
	})
	if err == nil {
		err = decodeErr
	}
	if err != nil {
		return nil, fmt.Errorf("listing chains of %s %s: %w", FamilyName(f), table, wrapUnavailable(err))
	}
	jumps := make([]map[string]bool, len(t.Chains))
	err = c.request(f, unix.NFT_MSG_GETRULE, true, []attr{strAttr(unix.NFTA_RULE_TABLE, table)}, func(data []byte) bool {
		r, err := decodeRule(data)
		if err != nil {
			decodeErr = err
			return false
		}
		i, ok := index[r.chain]
		if r.table != table || !ok {
			return true
		}
		t.Chains[i].Rules++
		for _, j := range r.jumps {
			if jumps[i] == nil {
				jumps[i] = map[string]bool{}
			}
			jumps[i][j] = true
		}
		return true
	})
	if err == nil {
		err = decodeErr
	}
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

func stringAttr(data []byte, typ uint16) (string, error) {
	ad, err := netlink.NewAttributeDecoder(data)
	if err != nil {
		return "", fmt.Errorf("decoding attributes: %w", err)
	}
	for ad.Next() {
		if ad.Type() == typ {
			return ad.String(), nil
		}
	}
	return "", ad.Err()
}

type chainInfo struct {
	table, name string
	base        bool
}

func decodeChain(data []byte) (chainInfo, error) {
	ad, err := netlink.NewAttributeDecoder(data)
	if err != nil {
		return chainInfo{}, fmt.Errorf("decoding chain: %w", err)
	}
	var ch chainInfo
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_CHAIN_TABLE:
			ch.table = ad.String()
		case unix.NFTA_CHAIN_NAME:
			ch.name = ad.String()
		case unix.NFTA_CHAIN_HOOK:
			ch.base = true
		}
	}
	return ch, ad.Err()
}

// ruleHome is the table and chain a rule message belongs to.
func ruleHome(data []byte) (table, chain string, err error) {
	ad, err := netlink.NewAttributeDecoder(data)
	if err != nil {
		return "", "", fmt.Errorf("decoding rule: %w", err)
	}
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_RULE_TABLE:
			table = ad.String()
		case unix.NFTA_RULE_CHAIN:
			chain = ad.String()
		}
	}
	return table, chain, ad.Err()
}

type ruleInfo struct {
	table, chain string
	jumps        []string
}

// decodeRule reads where a rule lives and which chains it jumps or goes to:
// an "immediate" expression loading a jump/goto verdict into the verdict
// register, which is how iptables-nft encodes -j CHAIN and -g CHAIN.
func decodeRule(data []byte) (ruleInfo, error) {
	ad, err := netlink.NewAttributeDecoder(data)
	if err != nil {
		return ruleInfo{}, fmt.Errorf("decoding rule: %w", err)
	}
	var r ruleInfo
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_RULE_TABLE:
			r.table = ad.String()
		case unix.NFTA_RULE_CHAIN:
			r.chain = ad.String()
		case unix.NFTA_RULE_EXPRESSIONS:
			ad.Nested(func(list *netlink.AttributeDecoder) error {
				for list.Next() {
					list.Nested(func(e *netlink.AttributeDecoder) error {
						if j := jumpTarget(e); j != "" {
							r.jumps = append(r.jumps, j)
						}
						return nil
					})
				}
				return list.Err()
			})
		}
	}
	return r, ad.Err()
}

func jumpTarget(e *netlink.AttributeDecoder) string {
	var name, target string
	for e.Next() {
		switch e.Type() {
		case unix.NFTA_EXPR_NAME:
			name = e.String()
		case unix.NFTA_EXPR_DATA:
			e.Nested(func(imm *netlink.AttributeDecoder) error {
				for imm.Next() {
					if imm.Type() != unix.NFTA_IMMEDIATE_DATA {
						continue
					}
					imm.Nested(func(d *netlink.AttributeDecoder) error {
						for d.Next() {
							if d.Type() == unix.NFTA_DATA_VERDICT {
								d.Nested(func(v *netlink.AttributeDecoder) error {
									target = verdictChain(v)
									return nil
								})
							}
						}
						return nil
					})
				}
				return nil
			})
		}
	}
	if name != "immediate" {
		return ""
	}
	return target
}

func verdictChain(v *netlink.AttributeDecoder) string {
	var code int32
	var chain string
	for v.Next() {
		switch v.Type() {
		case unix.NFTA_VERDICT_CODE:
			if b := v.Bytes(); len(b) == 4 {
				code = int32(binary.BigEndian.Uint32(b))
			}
		case unix.NFTA_VERDICT_CHAIN:
			chain = v.String()
		}
	}
	if code == unix.NFT_JUMP || code == unix.NFT_GOTO {
		return chain
	}
	return ""
}

// GenID is the ruleset's generation id: one request, one answer. Every
// commit in the namespace moves it (any family, any table), so an
// unchanged id means nothing changed at all.
func (c *Conn) GenID() (uint32, error) {
	var gen uint32
	found := false
	var decodeErr error
	err := c.request(syntax.IPv4, unix.NFT_MSG_GETGEN, false, nil, func(data []byte) bool {
		ad, err := netlink.NewAttributeDecoder(data)
		if err != nil {
			decodeErr = err
			return false
		}
		ad.ByteOrder = binary.BigEndian
		for ad.Next() {
			if ad.Type() == unix.NFTA_GEN_ID {
				gen, found = ad.Uint32(), true
			}
		}
		decodeErr = ad.Err()
		return false
	})
	if err != nil {
		return 0, fmt.Errorf("reading the ruleset generation: %w", wrapUnavailable(err))
	}
	if decodeErr == nil && !found {
		decodeErr = errors.New("no generation id in the answer")
	}
	if decodeErr != nil {
		return 0, fmt.Errorf("reading the ruleset generation: %w", decodeErr)
	}
	return gen, nil
}
