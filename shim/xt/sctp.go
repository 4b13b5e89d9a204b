package xt

import (
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// Layout of struct xt_sctp_info (292 bytes, padded to 296).
const (
	sctpOffFlagInfo = 268 // 4 x {chunktype, flag, flag_mask}
	sctpOffFlags    = 284
	sctpOffInvFlags = 288
	sctpInfoSize    = 292
	sctpSrcPorts    = 0x01
	sctpDstPorts    = 0x02
)

// sctp is -m sctp (always the xt match in 1.8.9). Only the port tests are
// encoded; --chunk-types is refused as unsupported. Ports not given stay
// 0:0 in the blob, as libxt_sctp leaves them.
type sctp struct {
	spts, dpts      portRange
	flags, invflags uint32
}

func parseSCTP(ctx Context, m syntax.Match) (Ext, error) {
	// libxt_sctp does not check -p; the kernel refuses the rule.
	e := &sctp{}
	for _, o := range m.Options {
		var r *portRange
		var bit uint32
		switch o.Name {
		case "sport", "source-port":
			r, bit = &e.spts, sctpSrcPorts
		case "dport", "destination-port":
			r, bit = &e.dpts, sctpDstPorts
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		if *r, err = parsePortRange(v, "sctp"); err != nil {
			return nil, err
		}
		e.flags |= bit
		if o.Invert {
			e.invflags |= bit
		}
	}
	return e, nil
}

func (e *sctp) Name() string                          { return "sctp" }
func (e *sctp) Revision() (string, uint8, bool, bool) { return "sctp", 0, false, true }

func (e *sctp) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(sctpInfoSize)
	b.u16(0, e.dpts.Min)
	b.u16(2, e.dpts.Max)
	b.u16(4, e.spts.Min)
	b.u16(6, e.spts.Max)
	for i := 0; i < 4; i++ {
		b.u8(sctpOffFlagInfo+3*i, 0xff) // libxt_sctp marks the flag slots unused
	}
	b.u32(sctpOffFlags, e.flags)
	b.u32(sctpOffInvFlags, e.invflags)
	return []expr.Any{&expr.Match{Name: "sctp", Info: rawInfo(b)}}, nil
}

func (e *sctp) Save(Context) string {
	var b strings.Builder
	b.WriteString("-m sctp")
	if e.flags&sctpSrcPorts != 0 {
		writeOpt(&b, e.invflags&sctpSrcPorts != 0, "--sport", e.spts.String())
	}
	if e.flags&sctpDstPorts != 0 {
		writeOpt(&b, e.invflags&sctpDstPorts != 0, "--dport", e.dpts.String())
	}
	return b.String()
}

func decodeSCTPBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match sctp rev %d is not supported", rev)
	}
	if err := checkSize("sctp", rev, data, sctpInfoSize); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &sctp{
		dpts: portRange{b.get16(0), b.get16(2)}, spts: portRange{b.get16(4), b.get16(6)},
		flags: b.get32(sctpOffFlags), invflags: b.get32(sctpOffInvFlags),
	}
	// Chunk tests (chunkmap, match type, flag slots, flag count) are not
	// decoded: refuse any blob that has them.
	okSlots := true
	for i := 0; i < 4; i++ {
		okSlots = okSlots && b.get8(sctpOffFlagInfo+3*i) == 0xff && b.zero(sctpOffFlagInfo+3*i+1, 2)
	}
	if e.spts.Min > e.spts.Max || e.dpts.Min > e.dpts.Max || e.flags&^(sctpSrcPorts|sctpDstPorts) != 0 || e.invflags&^e.flags != 0 || !okSlots ||
		!b.zero(8, sctpOffFlagInfo-8) || !b.zero(280, 4) || !b.zero(sctpInfoSize, len(b)-sctpInfoSize) ||
		(e.flags&sctpSrcPorts == 0 && e.spts != portRange{}) || (e.flags&sctpDstPorts == 0 && e.dpts != portRange{}) {
		return nil, decodeErr("xt match sctp: chunk tests are not supported")
	}
	return e, nil
}
