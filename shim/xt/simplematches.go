package xt

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// This file holds the small fixed-layout matches iptables-nft 1.8.9
// writes as xt matches: tcpmss, length, pkttype, mac, helper, iprange.

// xtMatch is the one expression of a compat match.
func xtMatch(name string, rev uint32, b blob) []expr.Any {
	return []expr.Any{&expr.Match{Name: name, Rev: rev, Info: rawInfo(b)}}
}

// invertSave is the "! " iptables-save prints before an inverted option.
func invertSave(inv bool) string {
	if inv {
		return "! "
	}
	return ""
}

// u16Range is a min[:max] option value of 16-bit numbers (tcpmss --mss,
// length --length).
type u16Range struct {
	min, max uint16
	invert   bool
}

func parseU16Range(ctx Context, ext, opt string, o syntax.Option) (u16Range, error) {
	v, err := oneArg(ext, o)
	if err != nil {
		return u16Range{}, err
	}
	r, n, err := parseUintRange(ctx, ext, opt, v, 0xffff)
	if err != nil {
		return u16Range{}, err
	}
	if n == 1 {
		r[1] = r[0]
	}
	if r[0] > r[1] {
		return u16Range{}, paramErr("%s: invalid range given", ext)
	}
	return u16Range{min: uint16(r[0]), max: uint16(r[1]), invert: o.Invert}, nil
}

func (r u16Range) String() string {
	if r.min == r.max {
		return strconv.Itoa(int(r.min))
	}
	return fmt.Sprintf("%d:%d", r.min, r.max)
}

// rangeMatch is tcpmss (struct xt_tcpmss_match_info) or length (struct
// xt_length_info): the same layout, u16 min, u16 max, u8 invert.
type rangeMatch struct {
	name, opt string
	r         u16Range
}

func parseRangeMatch(opt string) matchParser {
	return func(ctx Context, m syntax.Match) (Ext, error) {
		var e *rangeMatch
		for _, o := range m.Options {
			if o.Name != opt {
				return nil, unsupportedOption(m.Name, o.Name)
			}
			r, err := parseU16Range(ctx, m.Name, opt, o)
			if err != nil {
				return nil, err
			}
			e = &rangeMatch{name: m.Name, opt: opt, r: r}
		}
		if e == nil {
			return nil, mustSpecify(m.Name, opt)
		}
		return e, nil
	}
}

func (e *rangeMatch) Name() string                          { return e.name }
func (e *rangeMatch) Revision() (string, uint8, bool, bool) { return e.name, 0, false, true }
func (e *rangeMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(5)
	b.u16(0, e.r.min)
	b.u16(2, e.r.max)
	if e.r.invert {
		b.u8(4, 1)
	}
	return xtMatch(e.name, 0, b), nil
}
func (e *rangeMatch) Save(Context) string {
	return "-m " + e.name + " " + invertSave(e.r.invert) + "--" + e.opt + " " + e.r.String()
}

func decodeRangeMatchBlob(name, opt string) blobDecoder {
	return func(ctx Context, rev uint32, data []byte) (Ext, error) {
		if rev != 0 {
			return nil, decodeErr("xt match %s rev %d is not supported", name, rev)
		}
		if err := checkSize(name, rev, data, 5); err != nil {
			return nil, err
		}
		b := blob(data)
		e := &rangeMatch{name: name, opt: opt, r: u16Range{min: b.get16(0), max: b.get16(2), invert: b.get8(4) == 1}}
		if b.get8(4) > 1 || e.r.min > e.r.max || !b.zero(5, len(b)-5) {
			return nil, decodeErr("xt match %s: range or flags have no iptables form", name)
		}
		return e, nil
	}
}

// RangeMatchListing is -L's text for tcpmss and length: "tcpmss match
// !10", "length 10:20".
func RangeMatchListing(name, save string) string {
	v := save[strings.LastIndexByte(save, ' ')+1:]
	inv := ""
	if strings.Contains(save, " ! ") {
		inv = "!"
	}
	if name == "tcpmss" {
		return " tcpmss match " + inv + v
	}
	return " length " + inv + v
}

// pkttypeNames are libxt_pkttype's names, in its order (the first name
// of a value is the one printed).
var pkttypeNames = []struct {
	name string
	v    uint32
}{{"unicast", 0}, {"broadcast", 1}, {"multicast", 2}, {"otherhost", 3}, {"outgoing", 4}, {"host", 0}}

// pkttypeMatch is -m pkttype (struct xt_pkttype_info).
type pkttypeMatch struct {
	typ    uint32
	invert bool
}

func parsePkttype(ctx Context, m syntax.Match) (Ext, error) {
	var e *pkttypeMatch
	for _, o := range m.Options {
		if o.Name != "pkt-type" {
			return nil, unsupportedOption(m.Name, o.Name)
		}
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		found := false
		for _, n := range pkttypeNames {
			if strings.EqualFold(n.name, v) {
				e, found = &pkttypeMatch{typ: n.v, invert: o.Invert}, true
				break
			}
		}
		if !found {
			return nil, paramErr("Bad packet type '%s'", v)
		}
	}
	if e == nil {
		return nil, mustSpecify("pkttype", "pkt-type")
	}
	return e, nil
}

func (e *pkttypeMatch) typeName() string {
	for _, n := range pkttypeNames {
		if n.v == e.typ {
			return n.name
		}
	}
	return strconv.Itoa(int(e.typ))
}

func (e *pkttypeMatch) Name() string                          { return "pkttype" }
func (e *pkttypeMatch) Revision() (string, uint8, bool, bool) { return "pkttype", 0, false, true }
func (e *pkttypeMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(8)
	b.u32(0, e.typ)
	if e.invert {
		b.u32(4, 1)
	}
	return xtMatch("pkttype", 0, b), nil
}
func (e *pkttypeMatch) Save(Context) string {
	return "-m pkttype " + invertSave(e.invert) + "--pkt-type " + e.typeName()
}

func decodePkttypeBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match pkttype rev %d is not supported", rev)
	}
	if err := checkSize("pkttype", rev, data, 8); err != nil {
		return nil, err
	}
	b := blob(data)
	if b.get32(4) > 1 {
		return nil, decodeErr("xt match pkttype: unknown invert value")
	}
	return &pkttypeMatch{typ: b.get32(0), invert: b.get32(4) == 1}, nil
}

// PkttypeListing is -L's text for a pkttype save form.
func PkttypeListing(save string) string {
	v := save[strings.LastIndexByte(save, ' ')+1:]
	if strings.Contains(save, " ! ") {
		return " PKTTYPE != " + v
	}
	return " PKTTYPE = " + v
}

// macMatch is -m mac --mac-source (struct xt_mac_info).
type macMatch struct {
	addr   [6]byte
	invert bool
}

func parseMac(ctx Context, m syntax.Match) (Ext, error) {
	var e *macMatch
	for _, o := range m.Options {
		if o.Name != "mac-source" {
			return nil, unsupportedOption(m.Name, o.Name)
		}
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		hw, err := net.ParseMAC(v)
		if err != nil || len(hw) != 6 || len(v) != 17 {
			return nil, paramErr("Invalid MAC address specified.")
		}
		e = &macMatch{invert: o.Invert}
		copy(e.addr[:], hw)
	}
	if e == nil {
		return nil, mustSpecify("mac", "mac-source")
	}
	return e, nil
}

func (e *macMatch) Name() string                          { return "mac" }
func (e *macMatch) Revision() (string, uint8, bool, bool) { return "mac", 0, false, true }
func (e *macMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(12)
	copy(b, e.addr[:])
	if e.invert {
		b.u32(8, 1)
	}
	return xtMatch("mac", 0, b), nil
}
func (e *macMatch) Save(Context) string {
	return "-m mac " + invertSave(e.invert) + "--mac-source " + net.HardwareAddr(e.addr[:]).String()
}

func decodeMacBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match mac rev %d is not supported", rev)
	}
	if err := checkSize("mac", rev, data, 12); err != nil {
		return nil, err
	}
	b := blob(data)
	if b.get32(8) > 1 || !b.zero(6, 2) {
		return nil, decodeErr("xt match mac: unknown invert value")
	}
	e := &macMatch{invert: b.get32(8) == 1}
	copy(e.addr[:], b[:6])
	return e, nil
}

// MacListing is -L's text for a mac save form: "MAC 00:11:..", "MAC !
// 00:11:..".
func MacListing(save string) string {
	v := save[strings.LastIndexByte(save, ' ')+1:]
	if strings.Contains(save, " ! ") {
		return " MAC ! " + v
	}
	return " MAC " + v
}

// helperNameLen is struct xt_helper_info's name field, with its NUL.
const helperNameLen = 30

// helperMatch is -m helper (struct xt_helper_info).
type helperMatch struct {
	name   string
	invert bool
}

func parseHelper(ctx Context, m syntax.Match) (Ext, error) {
	var e *helperMatch
	for _, o := range m.Options {
		if o.Name != "helper" {
			return nil, unsupportedOption(m.Name, o.Name)
		}
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		v = cutNUL(v)
		if len(v) > helperNameLen-1 {
			v = v[:helperNameLen-1]
		}
		e = &helperMatch{name: v, invert: o.Invert}
	}
	if e == nil {
		return nil, mustSpecify("helper", "helper")
	}
	return e, nil
}

func (e *helperMatch) Name() string                          { return "helper" }
func (e *helperMatch) Revision() (string, uint8, bool, bool) { return "helper", 0, false, true }
func (e *helperMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(4 + helperNameLen)
	if e.invert {
		b.u32(0, 1)
	}
	b.str(4, helperNameLen, e.name)
	return xtMatch("helper", 0, b), nil
}
func (e *helperMatch) Save(Context) string {
	return "-m helper " + invertSave(e.invert) + "--helper" + saveString(e.name)
}

func decodeHelperBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match helper rev %d is not supported", rev)
	}
	if err := checkSize("helper", rev, data, 4+helperNameLen); err != nil {
		return nil, err
	}
	b := blob(data)
	s, ok := b.getStr(4, helperNameLen)
	if !ok || b.get32(0) > 1 {
		return nil, decodeErr("xt match helper: unterminated name or unknown invert value")
	}
	return &helperMatch{name: s, invert: b.get32(0) == 1}, nil
}

// HelperListing is -L's text for a helper match: `helper match ! "ftp"`.
func HelperListing(name string, invert bool) string {
	return fmt.Sprintf(" helper match %s\"%s\"", invertSave(invert), name)
}

// iprange flags (struct xt_iprange_mtinfo).
const (
	iprangeSrc    = 0x01
	iprangeDst    = 0x02
	iprangeSrcInv = 0x10
	iprangeDstInv = 0x20
	iprangeSize   = 4*16 + 1
)

// iprangeMatch is -m iprange (revision 1).
type iprangeMatch struct {
	v6                             bool
	srcMin, srcMax, dstMin, dstMax netip.Addr
	flags                          uint8
}

func parseIPRange(ctx Context, m syntax.Match) (Ext, error) {
	e := &iprangeMatch{v6: ctx.Family == syntax.IPv6}
	for _, o := range m.Options {
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		lo, hi, ok := strings.Cut(v, "-")
		if !ok {
			hi = lo
		}
		a, err1 := netip.ParseAddr(lo)
		b, err2 := netip.ParseAddr(hi)
		if err1 != nil || err2 != nil || a.Is6() != e.v6 || b.Is6() != e.v6 || a.Zone() != "" || b.Zone() != "" {
			bad := lo
			if err1 == nil {
				bad = hi
			}
			return nil, paramErr("iprange: Bad IP address \"%s\"\n", bad)
		}
		switch o.Name {
		case "src-range":
			e.srcMin, e.srcMax = a, b
			e.flags |= iprangeSrc
			if o.Invert {
				e.flags |= iprangeSrcInv
			}
		case "dst-range":
			e.dstMin, e.dstMax = a, b
			e.flags |= iprangeDst
			if o.Invert {
				e.flags |= iprangeDstInv
			}
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
	}
	if e.flags == 0 {
		return nil, paramErr("iprange match: You must specify `--src-range' or `--dst-range'")
	}
	return e, nil
}

func (e *iprangeMatch) Name() string                          { return "iprange" }
func (e *iprangeMatch) Revision() (string, uint8, bool, bool) { return "iprange", 1, false, true }

func (e *iprangeMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(iprangeSize)
	put := func(off int, a netip.Addr) {
		if !a.IsValid() {
			return
		}
		if a.Is4() {
			v := a.As4()
			copy(b[off:], v[:])
			return
		}
		v := a.As16()
		copy(b[off:], v[:])
	}
	put(0, e.srcMin)
	put(16, e.srcMax)
	put(32, e.dstMin)
	put(48, e.dstMax)
	b.u8(64, e.flags)
	return xtMatch("iprange", 1, b), nil
}

func (e *iprangeMatch) Save(Context) string {
	var b strings.Builder
	b.WriteString("-m iprange")
	if e.flags&iprangeSrc != 0 {
		writeOpt(&b, e.flags&iprangeSrcInv != 0, "--src-range", e.srcMin.String()+"-"+e.srcMax.String())
	}
	if e.flags&iprangeDst != 0 {
		writeOpt(&b, e.flags&iprangeDstInv != 0, "--dst-range", e.dstMin.String()+"-"+e.dstMax.String())
	}
	return b.String()
}

func decodeIPRangeBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 1 {
		return nil, decodeErr("xt match iprange rev %d is not supported", rev)
	}
	if err := checkSize("iprange", rev, data, iprangeSize); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &iprangeMatch{v6: ctx.Family == syntax.IPv6, flags: b.get8(64)}
	if e.flags&^(iprangeSrc|iprangeDst|iprangeSrcInv|iprangeDstInv) != 0 || !b.zero(65, len(b)-65) {
		return nil, decodeErr("xt match iprange: unknown flags")
	}
	get := func(off int) (netip.Addr, bool) {
		if e.v6 {
			return netip.AddrFrom16([16]byte(b[off : off+16])), true
		}
		return netip.AddrFrom4([4]byte(b[off : off+4])), b.zero(off+4, 12)
	}
	var ok [4]bool
	e.srcMin, ok[0] = get(0)
	e.srcMax, ok[1] = get(16)
	e.dstMin, ok[2] = get(32)
	e.dstMax, ok[3] = get(48)
	if !ok[0] || !ok[1] || !ok[2] || !ok[3] {
		return nil, decodeErr("xt match iprange: IPv4 address with trailing bytes")
	}
	if e.flags&iprangeSrc == 0 {
		e.srcMin, e.srcMax = netip.Addr{}, netip.Addr{}
	}
	if e.flags&iprangeDst == 0 {
		e.dstMin, e.dstMax = netip.Addr{}, netip.Addr{}
	}
	return e, nil
}

// IPRangeListing is -L's text for an iprange save form.
func IPRangeListing(save string) string {
	r := strings.NewReplacer("! --src-range ", "source IP range ! ", "--src-range ", "source IP range ",
		"! --dst-range ", "destination IP range ! ", "--dst-range ", "destination IP range ")
	return " " + r.Replace(strings.TrimPrefix(save, "-m iprange "))
}
