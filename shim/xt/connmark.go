package xt

import (
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// connmarkMatch is -m connmark (struct xt_connmark_mtinfo1, revision 1),
// which iptables-nft 1.8.9 writes as an xt match.
type connmarkMatch struct {
	mark, mask uint32
	invert     bool
}

func parseConnmarkMatch(ctx Context, m syntax.Match) (Ext, error) {
	mm, seen, err := parseMarkOption(m)
	if err != nil {
		return nil, err
	}
	if !seen {
		return nil, mustSpecify("connmark", "mark")
	}
	e := connmarkMatch(mm)
	return &e, nil
}

func (e *connmarkMatch) Name() string                          { return "connmark" }
func (e *connmarkMatch) Revision() (string, uint8, bool, bool) { return "connmark", 1, false, true }

func (e *connmarkMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(9)
	b.u32(0, e.mark)
	b.u32(4, e.mask)
	if e.invert {
		b.u8(8, 1)
	}
	return []expr.Any{&expr.Match{Name: "connmark", Rev: 1, Info: rawInfo(b)}}, nil
}

func (e *connmarkMatch) Save(Context) string {
	var b strings.Builder
	b.WriteString("-m connmark")
	writeOpt(&b, e.invert, "--mark", markString(e.mark, e.mask))
	return b.String()
}

func decodeConnmarkMatchBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 1 {
		return nil, decodeErr("xt match connmark rev %d is not supported", rev)
	}
	if err := checkSize("connmark", rev, data, 9); err != nil {
		return nil, err
	}
	b := blob(data)
	if b.get8(8) > 1 || !b.zero(9, len(b)-9) {
		return nil, decodeErr("xt match connmark: unknown invert flags")
	}
	return &connmarkMatch{mark: b.get32(0), mask: b.get32(4), invert: b.get8(8) == 1}, nil
}
