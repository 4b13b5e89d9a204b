package xt

import (
	"fmt"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// Layout of struct xt_sctp_info (292 bytes, padded to 296).
const (
	sctpOffChunkmap  = 8   // 64 x u32, bit N of word N/32 for chunk type N
	sctpOffMatchType = 264 // SCTP_CHUNK_MATCH_*
	sctpOffFlagInfo  = 268 // 4 x {chunktype, flag, flag_mask}
	sctpOffFlagCount = 280
	sctpOffFlags     = 284
	sctpOffInvFlags  = 288
	sctpInfoSize     = 292
	sctpSrcPorts     = 0x01
	sctpDstPorts     = 0x02
	sctpChunkTypes   = 0x04
	sctpMaxFlags     = 4 // XT_NUM_SCTP_FLAGS
	sctpMatchAny     = 0x01
	sctpMatchAll     = 0x02
	sctpMatchOnly    = 0x04
)

// sctpChunk is one row of libxt_sctp's chunk table: the name, the chunk
// type and the letters of its flag bits, most significant first ('-' for
// a bit without a name).
type sctpChunk struct {
	name  string
	typ   uint8
	flags string
}

// sctpChunks is libxt_sctp's table in its order: --chunk-types flags are
// stored under a chunk's index in this table (not its type), and printed
// with the letters of the row whose index equals the chunk type, as 1.8.9
// does.
var sctpChunks = [...]sctpChunk{
	{"DATA", 0, "----IUBE"}, {"INIT", 1, "--------"}, {"INIT_ACK", 2, "--------"},
	{"SACK", 3, "--------"}, {"HEARTBEAT", 4, "--------"}, {"HEARTBEAT_ACK", 5, "--------"},
	{"ABORT", 6, "-------T"}, {"SHUTDOWN", 7, "--------"}, {"SHUTDOWN_ACK", 8, "--------"},
	{"ERROR", 9, "--------"}, {"COOKIE_ECHO", 10, "--------"}, {"COOKIE_ACK", 11, "--------"},
	{"ECN_ECNE", 12, "--------"}, {"ECN_CWR", 13, "--------"}, {"SHUTDOWN_COMPLETE", 14, "-------T"},
	{"I_DATA", 64, "----IUBE"}, {"RE_CONFIG", 130, "--------"}, {"PAD", 132, "--------"},
	{"ASCONF", 193, "--------"}, {"ASCONF_ACK", 128, "--------"}, {"FORWARD_TSN", 192, "--------"},
	{"I_FORWARD_TSN", 194, "--------"},
}

// sctpChunkName is the name of a chunk type, "" for a type the table does
// not name.
func sctpChunkName(typ int) string {
	for _, c := range sctpChunks {
		if int(c.typ) == typ {
			return c.name
		}
	}
	return ""
}

// sctpFlag is one struct xt_sctp_flag_info.
type sctpFlag struct{ chunk, flag, mask uint8 }

// sctp is -m sctp (always the xt match in 1.8.9). Ports not given stay
// 0:0 in the blob, as libxt_sctp leaves them; unused flag slots keep the
// chunk type 0xff its init function gives them.
type sctp struct {
	spts, dpts      portRange
	flags, invflags uint32
	chunkmap        [64]uint32
	matchType       uint32
	flagInfo        [sctpMaxFlags]sctpFlag
	flagCount       int32
}

func newSCTP() *sctp {
	e := &sctp{}
	for i := range e.flagInfo {
		e.flagInfo[i].chunk = 0xff
	}
	return e
}

func parseSCTP(ctx Context, m syntax.Match) (Ext, error) {
	// libxt_sctp does not check -p; the kernel refuses the rule.
	e := newSCTP()
	for _, o := range m.Options {
		if o.Name == "chunk-types" {
			if len(o.Args) != 2 {
				return nil, unsupportedOption(m.Name, o.Name)
			}
			if err := e.parseChunkTypes(o.Args[0], o.Args[1]); err != nil {
				return nil, err
			}
			e.flags |= sctpChunkTypes
			if o.Invert {
				e.invflags |= sctpChunkTypes
			}
			continue
		}
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

// parseChunkTypes reads "--chunk-types MATCH CHUNK[:FLAGS],..." as
// libxt_sctp's parse_sctp_chunks does.
func (e *sctp) parseChunkTypes(match, chunks string) error {
	match, chunks = cutNUL(match), cutNUL(chunks)
	switch strings.ToUpper(match) {
	case "ANY":
		e.matchType = sctpMatchAny
	case "ALL":
		e.matchType = sctpMatchAll
	case "ONLY":
		e.matchType = sctpMatchOnly
	default:
		return paramErr("Match type has to be one of \"ALL\", \"ANY\" or \"ONLY\"")
	}
	switch strings.ToUpper(chunks) {
	case "ALL":
		for i := range e.chunkmap {
			e.chunkmap[i] = 0xffffffff
		}
		return nil
	case "NONE":
		return nil
	}
	for _, item := range strings.Split(chunks, ",") {
		if item == "" {
			continue // strtok skips empty fields
		}
		name, flags, hasFlags := strings.Cut(item, ":")
		idx := -1
		for i, c := range sctpChunks {
			if strings.EqualFold(c.name, name) {
				idx = i
				break
			}
		}
		if idx < 0 {
			return paramErr("Unknown sctp chunk `%s'", name)
		}
		typ := sctpChunks[idx].typ
		e.chunkmap[typ/32] |= 1 << (typ % 32)
		if !hasFlags {
			continue
		}
		for j := 0; j < len(flags); j++ {
			c := flags[j]
			pos := strings.IndexByte(sctpChunks[idx].flags, upperASCII(c))
			if pos < 0 {
				return paramErr("Invalid flags for chunk type %d", idx)
			}
			if err := e.addFlag(uint8(idx), uint8(7-pos), c >= 'A' && c <= 'Z'); err != nil {
				return err
			}
		}
	}
	return nil
}

func upperASCII(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// addFlag is libxt_sctp's save_chunk_flag_info.
func (e *sctp) addFlag(chunk, bit uint8, set bool) error {
	i := 0
	for ; i < int(e.flagCount); i++ {
		if e.flagInfo[i].chunk == chunk {
			break
		}
	}
	if i == int(e.flagCount) {
		if e.flagCount == sctpMaxFlags {
			return paramErr("Number of chunk types with flags exceeds currently allowed limit. Increasing this limit involves changing IPT_NUM_SCTP_FLAGS and recompiling both the kernel space and user space modules")
		}
		e.flagCount++
	}
	f := &e.flagInfo[i]
	f.chunk = chunk
	f.mask |= 1 << bit
	if set {
		f.flag |= 1 << bit
	}
	return nil
}

func (e *sctp) Name() string                          { return "sctp" }
func (e *sctp) Revision() (string, uint8, bool, bool) { return "sctp", 0, false, true }

func (e *sctp) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(sctpInfoSize)
	b.u16(0, e.dpts.Min)
	b.u16(2, e.dpts.Max)
	b.u16(4, e.spts.Min)
	b.u16(6, e.spts.Max)
	for i, w := range e.chunkmap {
		b.u32(sctpOffChunkmap+4*i, w)
	}
	b.u32(sctpOffMatchType, e.matchType)
	for i, f := range e.flagInfo {
		b.u8(sctpOffFlagInfo+3*i, f.chunk)
		b.u8(sctpOffFlagInfo+3*i+1, f.flag)
		b.u8(sctpOffFlagInfo+3*i+2, f.mask)
	}
	b.u32(sctpOffFlagCount, uint32(e.flagCount))
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
	if e.flags&sctpChunkTypes != 0 {
		writeOpt(&b, e.invflags&sctpChunkTypes != 0, "--chunk-types", "")
		e.writeChunks(&b, false)
	}
	return b.String()
}

// writeChunks is libxt_sctp's print_chunks: the match type, then NONE, ALL
// or each chunk type with the flags stored for it.
func (e *sctp) writeChunks(b *strings.Builder, numeric bool) {
	b.WriteString([...]string{sctpMatchAny: " any", sctpMatchAll: " all", sctpMatchOnly: " only"}[e.matchType])
	all, none := true, true
	for _, w := range e.chunkmap {
		all = all && w == 0xffffffff
		none = none && w == 0
	}
	switch {
	case none:
		b.WriteString(" NONE")
		return
	case all:
		b.WriteString(" ALL")
		return
	}
	sep := " "
	for t := 0; t < 256; t++ {
		if e.chunkmap[t/32]&(1<<(t%32)) == 0 {
			continue
		}
		b.WriteString(sep)
		sep = ","
		if numeric {
			fmt.Fprintf(b, "0x%04X", t)
		} else {
			b.WriteString(sctpChunkName(t))
		}
		for _, f := range e.flagInfo[:e.flagCount] {
			if int(f.chunk) != t || f.mask == 0 {
				continue
			}
			b.WriteByte(':')
			letters := sctpChunks[t].flags
			for bit := 7; bit >= 0; bit-- {
				if f.mask&(1<<bit) == 0 {
					continue
				}
				c := letters[7-bit]
				if f.flag&(1<<bit) == 0 && c >= 'A' && c <= 'Z' {
					c += 'a' - 'A'
				}
				b.WriteByte(c)
			}
		}
	}
}

// SCTPChunkListing is what iptables -L prints for the "--chunk-types"
// words of an sctp match's save form (match type and chunk list), with its
// leading space: the save form's words, or with numeric the chunk types
// as numbers.
func SCTPChunkListing(match, chunks string, numeric bool) string {
	s := " " + match + " "
	if !numeric || chunks == "ALL" || chunks == "NONE" {
		return s + chunks
	}
	items := strings.Split(chunks, ",")
	for i, it := range items {
		name, flags, hasFlags := strings.Cut(it, ":")
		for _, c := range sctpChunks {
			if c.name == name {
				name = fmt.Sprintf("0x%04X", c.typ)
			}
		}
		if hasFlags {
			name += ":" + flags
		}
		items[i] = name
	}
	return s + strings.Join(items, ",")
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
		matchType: b.get32(sctpOffMatchType), flagCount: int32(b.get32(sctpOffFlagCount)),
		flags: b.get32(sctpOffFlags), invflags: b.get32(sctpOffInvFlags),
	}
	for i := range e.chunkmap {
		e.chunkmap[i] = b.get32(sctpOffChunkmap + 4*i)
	}
	for i := range e.flagInfo {
		o := sctpOffFlagInfo + 3*i
		e.flagInfo[i] = sctpFlag{b.get8(o), b.get8(o + 1), b.get8(o + 2)}
	}
	if e.flags&^(sctpSrcPorts|sctpDstPorts|sctpChunkTypes) != 0 || e.invflags&^e.flags != 0 ||
		e.spts.Min > e.spts.Max || e.dpts.Min > e.dpts.Max ||
		(e.flags&sctpSrcPorts == 0 && e.spts != portRange{}) || (e.flags&sctpDstPorts == 0 && e.dpts != portRange{}) ||
		!b.zero(sctpInfoSize, len(b)-sctpInfoSize) {
		return nil, decodeErr("xt match sctp: flags %#x invflags %#x", e.flags, e.invflags)
	}
	if err := e.checkChunks(); err != nil {
		return nil, err
	}
	return e, nil
}

// checkChunks refuses chunk tests that 1.8.9 would print as something it
// cannot read back (a chunk type without a name, flags of a type beyond
// its table, an unknown match type) or that it does not print at all.
func (e *sctp) checkChunks() error {
	if e.flags&sctpChunkTypes == 0 {
		// Without chunk tests libxt_sctp leaves the chunk fields as
		// its init function set them.
		if *e != *newSCTPPorts(e) {
			return decodeErr("xt match sctp: chunk fields without --chunk-types")
		}
		return nil
	}
	if e.matchType != sctpMatchAny && e.matchType != sctpMatchAll && e.matchType != sctpMatchOnly {
		return decodeErr("xt match sctp: chunk match type %d", e.matchType)
	}
	if e.flagCount < 0 || e.flagCount > sctpMaxFlags {
		return decodeErr("xt match sctp: %d chunk flag slots", e.flagCount)
	}
	all, none := true, true
	for _, w := range e.chunkmap {
		all = all && w == 0xffffffff
		none = none && w == 0
	}
	if all || none {
		return nil
	}
	for t := 0; t < 256; t++ {
		if e.chunkmap[t/32]&(1<<(t%32)) == 0 {
			continue
		}
		if sctpChunkName(t) == "" {
			return decodeErr("xt match sctp: chunk type %d has no name", t)
		}
		for _, f := range e.flagInfo[:e.flagCount] {
			if int(f.chunk) == t && f.mask != 0 && t >= len(sctpChunks) {
				return decodeErr("xt match sctp: flags for chunk type %d", t)
			}
		}
	}
	return nil
}

// newSCTPPorts is e's port tests with every chunk field as libxt_sctp's
// init function leaves it.
func newSCTPPorts(e *sctp) *sctp {
	n := newSCTP()
	n.spts, n.dpts, n.flags, n.invflags = e.spts, e.dpts, e.flags, e.invflags
	return n
}
