package xt

import (
	"github.com/google/nftables/expr"
)

// CompatForm returns the xt match expression iptables-nft 1.8.7 (and every
// version before 1.8.8) writes for a match that later versions write
// natively: tcp and udp as xt rev 0, mark as xt rev 1. Every iptables-nft
// version reads these forms, while 1.8.7 silently drops the native ones
// (kubernetes#112477), so a writer speaking to a 1.8.7 host uses them.
// ok is false for every other extension: it has one form in every dialect.
func CompatForm(e Ext) (m *expr.Match, rev uint8, ok bool) {
	switch e := e.(type) {
	case *tcpUDP:
		return &expr.Match{Name: e.proto, Rev: 0, Info: rawInfo(e.blob())}, 0, true
	case *markMatch:
		b := newBlob(9)
		b.u32(0, e.mark)
		b.u32(4, e.mask)
		if e.invert {
			b.u8(8, 1)
		}
		return &expr.Match{Name: "mark", Rev: 1, Info: rawInfo(b)}, 1, true
	}
	return nil, 0, false
}

// CompatTargetForm returns the xt target expression iptables-nft 1.8.7
// writes for a target 1.8.8 and later write natively: NFLOG as xt NFLOG
// rev 0 (struct xt_nflog_info), which 1.8.7 reads, where it does not read
// the native log expression back at all. ok is false for every other
// target.
func CompatTargetForm(e Ext) (t *expr.Target, rev uint8, ok bool) {
	n, ok := e.(*nflogTarget)
	if !ok {
		return nil, 0, false
	}
	return &expr.Target{Name: "NFLOG", Rev: 0, Info: rawInfo(n.blob())}, 0, true
}
