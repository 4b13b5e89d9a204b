package nfnl

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// GenID returns the current nf_tables ruleset generation id, which a batch
// carries so the kernel can refuse it when another writer got in between.
func (c *Conn) GenID() (uint32, error) {
	msgs, err := c.Request(MsgType(SubsysNFTables, unix.NFT_MSG_GETGEN), 0, unix.AF_UNSPEC, nil)
	if err != nil {
		return 0, fmt.Errorf("reading the ruleset generation: %w", err)
	}
	for _, m := range msgs {
		for _, a := range ParseAttrs(m.Attrs) {
			if a.Type == unix.NFTA_GEN_ID {
				return a.U32(), nil
			}
		}
	}
	return 0, fmt.Errorf("reading the ruleset generation: %w", errNoReply)
}

// HasExtension asks nfnetlink_compat whether the kernel has the x_tables
// match (or target) name at revision rev or newer for family, as
// iptables-nft does before using a revision. A missing extension is
// (false, nil); other failures are errors.
func (c *Conn) HasExtension(family uint8, name string, rev uint32, target bool) (bool, error) {
	var a Attrs
	a.String(unix.NFTA_COMPAT_NAME, name)
	a.U32(unix.NFTA_COMPAT_REV, rev)
	typ := uint32(0)
	if target {
		typ = 1
	}
	a.U32(unix.NFTA_COMPAT_TYPE, typ)
	msgs, err := c.Request(MsgType(SubsysNFTCompat, nfnlMsgCompatGet), 0, family, a.B)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EPROTONOSUPPORT) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("probing %s revision %d: %w", name, rev, err)
	}
	for _, m := range msgs {
		for _, at := range ParseAttrs(m.Attrs) {
			if at.Type == unix.NFTA_COMPAT_REV {
				return at.U32() >= rev, nil
			}
		}
	}
	return len(msgs) > 0, nil
}

// nfnlMsgCompatGet is NFNL_MSG_COMPAT_GET (nf_tables_compat.h), which x/sys
// does not define.
const nfnlMsgCompatGet = 0
