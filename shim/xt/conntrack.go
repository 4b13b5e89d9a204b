package xt

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// xt_conntrack match_flags bits.
const (
	ctFlagState      = 1 << 0
	ctFlagProto      = 1 << 1
	ctFlagOrigSrc    = 1 << 2
	ctFlagStatus     = 1 << 6
	ctFlagExpires    = 1 << 7
	ctFlagOrigSrcPrt = 1 << 8
	ctFlagDirection  = 1 << 12
	ctFlagStateAlias = 1 << 13
	ctFlagsKnown     = 1<<14 - 1
)

// Offsets in struct xt_conntrack_mtinfo3 (162 bytes, padded to 168).
const (
	ctOffExpires    = 128
	ctOffProto      = 136
	ctOffPorts      = 138 // 4 x u16, host order
	ctOffMatchFlags = 146
	ctOffInvFlags   = 148
	ctOffState      = 150
	ctOffStatus     = 152
	ctOffPortsHigh  = 154 // 4 x u16
	ctInfoSize      = 162
)

// ctAddrOpts are the address tests in blob (and save) order: addr/mask
// pairs of nf_inet_addr from offset 0, flag bits 2..5.
var ctAddrOpts = []string{"ctorigsrc", "ctorigdst", "ctreplsrc", "ctrepldst"}

// ctPortOpts are the port tests in blob (and save) order, flag bits 8..11.
var ctPortOpts = []string{"ctorigsrcport", "ctorigdstport", "ctreplsrcport", "ctrepldstport"}

// ctStates are the --ctstate names with their bits (XT_CONNTRACK_STATE_*),
// in the order libxt_conntrack prints them.
var ctStates = []struct {
	name string
	bit  uint16
}{{"INVALID", 1 << 0}, {"NEW", 1 << 3}, {"RELATED", 1 << 2}, {"ESTABLISHED", 1 << 1},
	{"UNTRACKED", 1 << 8}, {"SNAT", 1 << 6}, {"DNAT", 1 << 7}}

// ctStatuses are the --ctstatus names (IPS_* bits) in print order.
var ctStatuses = []struct {
	name string
	bit  uint16
}{{"EXPECTED", 1 << 0}, {"SEEN_REPLY", 1 << 1}, {"ASSURED", 1 << 2}, {"CONFIRMED", 1 << 3}}

// conntrack is -m conntrack and -m state, both written as xt conntrack
// rev 3 (state sets the alias flag so save prints it as -m state).
type conntrack struct {
	alias      bool
	matchFlags uint16
	invFlags   uint16
	state      uint16
	status     uint16
	proto      uint16
	// addrs and masks are the four address tests (ctAddrOpts order) as
	// the blob holds them: libxt sets all 16 mask bytes for a bare host,
	// only the family's prefix bits for ADDR/N.
	addrs, masks [4][16]byte
	ports        [4]portRange
	expMin       uint32
	expMax       uint32
}

// parseBits reads a comma-separated list of names; bad is the first name
// not in the table.
func parseBits(list string, table []struct {
	name string
	bit  uint16
}) (v uint16, bad string, ok bool) {
	for _, n := range strings.Split(list, ",") {
		found := false
		for _, s := range table {
			if strings.EqualFold(n, s.name) {
				v |= s.bit
				found = true
			}
		}
		if !found {
			return 0, n, false
		}
	}
	return v, "", true
}

func bitsString(v uint16, table []struct {
	name string
	bit  uint16
}) string {
	var names []string
	for _, s := range table {
		if v&s.bit != 0 {
			names = append(names, s.name)
		}
	}
	return strings.Join(names, ",")
}

func parseConntrack(ctx Context, m syntax.Match) (Ext, error) {
	e := &conntrack{alias: m.Name == "state"}
	for _, o := range m.Options {
		var bit uint16
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		switch {
		case o.Name == "ctstate" && !e.alias, o.Name == "state" && e.alias:
			s, bad, ok := parseBits(v, ctStates)
			if !ok {
				return nil, paramErr("Bad %s \"%s\"", o.Name, bad)
			}
			e.state, bit = s, ctFlagState
		case o.Name == "ctstatus" && !e.alias:
			// libxt_conntrack takes NONE as a status of no bits.
			s, bad, ok := parseBits(v, append(ctStatuses[:len(ctStatuses):len(ctStatuses)], struct {
				name string
				bit  uint16
			}{"NONE", 0}))
			if !ok {
				return nil, paramErr("Bad ctstatus \"%s\"", bad)
			}
			e.status, bit = s, ctFlagStatus
		case o.Name == "ctproto" && !e.alias:
			p, ok := protoNum(v)
			if !ok {
				return nil, unsupportedOption(m.Name, o.Name)
			}
			e.proto, bit = uint16(p), ctFlagProto
		case indexOf(ctAddrOpts, o.Name) >= 0 && !e.alias:
			i := indexOf(ctAddrOpts, o.Name)
			if e.addrs[i], e.masks[i], err = parseCTAddr(ctx.Family, v); err != nil {
				return nil, err
			}
			bit = ctFlagOrigSrc << i
		case indexOf(ctPortOpts, o.Name) >= 0 && !e.alias:
			i := indexOf(ctPortOpts, o.Name)
			if err = negativePortRange(ctx, v); err != nil {
				return nil, err
			}
			if e.ports[i], err = parsePortRange(v, ""); err != nil {
				return nil, err
			}
			bit = ctFlagOrigSrcPrt << i
		case o.Name == "ctexpire" && !e.alias:
			// A range with min > max is taken and saved as given, as
			// libxt_conntrack does.
			r, n, err := parseU32Range(ctx, m.Name, o.Name, v)
			if err != nil {
				return nil, err
			}
			e.expMin, e.expMax, bit = r[0], r[0], ctFlagExpires
			if n == 2 {
				e.expMax = r[1]
			}
		case o.Name == "ctdir" && !e.alias:
			switch strings.ToUpper(v) {
			case "ORIGINAL":
			case "REPLY":
				e.invFlags |= ctFlagDirection
			default:
				return nil, paramErr("Unknown --ctdir \"%s\"", v)
			}
			bit = ctFlagDirection
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
		e.matchFlags |= bit
		if o.Invert {
			e.invFlags |= bit
		}
	}
	if e.alias {
		if e.matchFlags == 0 {
			return nil, paramErr("state: option \"--state\" must be specified\n")
		}
		e.matchFlags |= ctFlagStateAlias
	} else if e.matchFlags == 0 {
		return nil, paramErr("conntrack: At least one option is required")
	}
	return e, nil
}

func (e *conntrack) Name() string {
	if e.alias {
		return "state"
	}
	return "conntrack"
}

func (e *conntrack) Revision() (string, uint8, bool, bool) { return "conntrack", 3, false, true }

func (e *conntrack) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(ctInfoSize)
	for i := range e.addrs {
		copy(b[32*i:], e.addrs[i][:])
		copy(b[32*i+16:], e.masks[i][:])
	}
	b.u32(ctOffExpires, e.expMin)
	b.u32(ctOffExpires+4, e.expMax)
	b.u16(ctOffProto, e.proto)
	for i, p := range e.ports {
		b.u16(ctOffPorts+2*i, p.Min)
		b.u16(ctOffPortsHigh+2*i, p.Max)
	}
	b.u16(ctOffMatchFlags, e.matchFlags)
	b.u16(ctOffInvFlags, e.invFlags)
	b.u16(ctOffState, e.state)
	b.u16(ctOffStatus, e.status)
	return []expr.Any{&expr.Match{Name: "conntrack", Rev: 3, Info: rawInfo(b)}}, nil
}

func (e *conntrack) Save(ctx Context) string {
	var b strings.Builder
	if e.alias {
		b.WriteString("-m state")
		writeOpt(&b, e.invFlags&ctFlagState != 0, "--state", stateString(e.state))
		return b.String()
	}
	b.WriteString("-m conntrack")
	if e.matchFlags&ctFlagState != 0 {
		writeOpt(&b, e.invFlags&ctFlagState != 0, "--ctstate", stateString(e.state))
	}
	if e.matchFlags&ctFlagProto != 0 {
		writeOpt(&b, e.invFlags&ctFlagProto != 0, "--ctproto", strconv.Itoa(int(e.proto)))
	}
	for i, opt := range ctAddrOpts {
		if bit := uint16(ctFlagOrigSrc << i); e.matchFlags&bit != 0 {
			writeOpt(&b, e.invFlags&bit != 0, "--"+opt, ctAddrString(ctx.Family, e.addrs[i], e.masks[i]))
		}
	}
	for i, opt := range ctPortOpts {
		if bit := uint16(ctFlagOrigSrcPrt << i); e.matchFlags&bit != 0 {
			writeOpt(&b, e.invFlags&bit != 0, "--"+opt, e.ports[i].String())
		}
	}
	if e.matchFlags&ctFlagStatus != 0 {
		st := bitsString(e.status, ctStatuses)
		if e.status == 0 {
			st = "NONE"
		}
		writeOpt(&b, e.invFlags&ctFlagStatus != 0, "--ctstatus", st)
	}
	if e.matchFlags&ctFlagExpires != 0 {
		exp := strconv.FormatUint(uint64(e.expMin), 10)
		if e.expMax != e.expMin {
			exp += ":" + strconv.FormatUint(uint64(e.expMax), 10)
		}
		writeOpt(&b, e.invFlags&ctFlagExpires != 0, "--ctexpire", exp)
	}
	if e.matchFlags&ctFlagDirection != 0 {
		dir := "ORIGINAL"
		if e.invFlags&ctFlagDirection != 0 {
			dir = "REPLY"
		}
		b.WriteString(" --ctdir " + dir)
	}
	return b.String()
}

func stateString(v uint16) string {
	if v == 0 {
		return "none"
	}
	return bitsString(v, ctStates)
}

// decodeConntrackBlob reads rev 3 blobs. Fields whose flag is clear must be
// zero, so nothing the kernel tests goes unprinted.
func decodeConntrackBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 3 {
		return nil, decodeErr("xt match conntrack rev %d is not supported", rev)
	}
	if err := checkSize("conntrack", rev, data, ctInfoSize); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &conntrack{
		matchFlags: b.get16(ctOffMatchFlags), invFlags: b.get16(ctOffInvFlags),
		state: b.get16(ctOffState), status: b.get16(ctOffStatus), proto: b.get16(ctOffProto),
		expMin: b.get32(ctOffExpires), expMax: b.get32(ctOffExpires + 4),
	}
	e.alias = e.matchFlags&ctFlagStateAlias != 0
	mf := e.matchFlags &^ ctFlagStateAlias
	bad := mf&^ctFlagsKnown != 0 || e.invFlags&^mf != 0 || (e.alias && mf != ctFlagState) ||
		!b.zero(ctInfoSize, len(b)-ctInfoSize) ||
		(mf&ctFlagProto == 0 && e.proto != 0) || (mf&ctFlagState == 0 && e.state != 0) ||
		(mf&ctFlagStatus == 0 && e.status != 0) || (mf&ctFlagExpires == 0 && (e.expMin|e.expMax) != 0)
	for i := range e.addrs {
		copy(e.addrs[i][:], b[32*i:])
		copy(e.masks[i][:], b[32*i+16:])
		if mf&(ctFlagOrigSrc<<i) == 0 {
			bad = bad || !b.zero(32*i, 32)
		} else if ctx.Family == syntax.IPv4 {
			bad = bad || !b.zero(32*i+4, 12) || !(b.zero(32*i+20, 12) || string(b[32*i+16:32*i+32]) == string(allOnes[:]))
		}
	}
	for i := range e.ports {
		e.ports[i] = portRange{b.get16(ctOffPorts + 2*i), b.get16(ctOffPortsHigh + 2*i)}
		if mf&(ctFlagOrigSrcPrt<<i) == 0 {
			bad = bad || e.ports[i] != portRange{}
		} else {
			bad = bad || e.ports[i].Min > e.ports[i].Max
		}
	}
	if bad {
		return nil, decodeErr("xt match conntrack: flags %#x/%#x with fields this decoder cannot print", e.matchFlags, e.invFlags)
	}
	return e, nil
}

var allOnes = [16]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// parseCTAddr reads ADDR, ADDR/LEN or (IPv4) ADDR/MASK as libxt_conntrack
// stores it: the address unmasked; a bare host gets all 16 mask bytes set.
func parseCTAddr(fam syntax.Family, s string) (addr, mask [16]byte, err error) {
	host, m, hasMask := strings.Cut(s, "/")
	a, perr := netip.ParseAddr(host)
	if perr != nil || a.Zone() != "" || a.Is4() != (fam == syntax.IPv4) {
		// Host names would need a resolver: leave them to the real tool.
		return addr, mask, unsupportedOption("conntrack", "address "+s)
	}
	copy(addr[:], a.AsSlice())
	if !hasMask {
		return addr, allOnes, nil
	}
	bits := a.BitLen()
	if n, err := strconv.Atoi(m); err == nil && n >= 0 && n <= bits {
		p := netip.PrefixFrom(a, n)
		ones := prefixMask(p.Bits(), bits)
		copy(mask[:], ones)
		return addr, mask, nil
	}
	if mk, err := netip.ParseAddr(m); err == nil && mk.Is4() && fam == syntax.IPv4 {
		copy(mask[:], mk.AsSlice())
		return addr, mask, nil
	}
	return addr, mask, paramErr("invalid mask `%s' specified", m)
}

func prefixMask(n, bits int) []byte {
	b := make([]byte, bits/8)
	for i := 0; i < n; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return b
}

// ctAddrString prints an address test as libxt_conntrack does: the
// address, then "/LEN" unless the mask is all ones, or the mask itself
// when it is not a prefix.
func ctAddrString(fam syntax.Family, addr, mask [16]byte) string {
	n := 16
	if fam == syntax.IPv4 {
		n = 4
	}
	a, _ := netip.AddrFromSlice(addr[:n])
	m := mask[:n]
	ones, contiguous := 0, true
	for i := 0; i < n*8; i++ {
		if m[i/8]&(0x80>>(i%8)) != 0 {
			if ones != i {
				contiguous = false
			}
			ones++
		}
	}
	switch {
	case contiguous && ones == n*8:
		return a.String()
	case contiguous:
		return fmt.Sprintf("%s/%d", a, ones)
	default:
		mk, _ := netip.AddrFromSlice(m)
		return a.String() + "/" + mk.String()
	}
}
