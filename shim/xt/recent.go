package xt

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// xt_recent check_set bits.
const (
	recentCheck  = 1 << 0
	recentSet    = 1 << 1
	recentUpdate = 1 << 2
	recentRemove = 1 << 3
	recentTTL    = 1 << 4
	recentReap   = 1 << 5
)

// Layout of struct xt_recent_mtinfo_v1 (228 bytes, padded to 232).
const (
	recentOffName = 10
	recentNameLen = 200
	recentOffSide = 210
	recentOffMask = 212
	recentSize    = 228
)

// recentDefaultName is what libxt_recent's init puts in the name field;
// --name copies over it without clearing the rest, so "--name X" leaves
// "X\0FAULT" in the blob, which iptables-nft -C/-D compare byte for byte.
const recentDefaultName = "DEFAULT"

// recent is -m recent, rev 1.
type recent struct {
	seconds, hitCount uint32
	checkSet          uint8
	invert            bool
	name              [recentNameLen]byte
	dest              bool
	mask              [16]byte
}

func (e *recent) nameString() string {
	s, _ := blob(e.name[:]).getStr(0, recentNameLen)
	return s
}

func parseRecent(ctx Context, m syntax.Match) (Ext, error) {
	e := &recent{}
	action := ""
	copy(e.name[:], recentDefaultName)
	// libxt_recent's init sets the whole mask union to ones, also for
	// IPv4; an explicit --mask replaces it.
	for i := range e.mask {
		e.mask[i] = 0xff
	}
	for _, o := range m.Options {
		switch o.Name {
		case "set", "rcheck", "update", "remove":
			if err := noArg(m.Name, o); err != nil {
				return nil, err
			}
			if action != "" {
				return nil, tableExclusive(m.Name, false, action, o.Name)
			}
			action = o.Name
			e.checkSet |= map[string]uint8{"set": recentSet, "rcheck": recentCheck, "update": recentUpdate, "remove": recentRemove}[o.Name]
			e.invert = o.Invert
		case "seconds", "hitcount":
			v, err := oneArg(m.Name, o)
			if err != nil {
				return nil, err
			}
			n, perr := strconv.ParseUint(v, 10, 32)
			if perr != nil {
				return nil, badRange(m.Name, o.Name, 0, 0xffffffff)
			}
			if o.Name == "seconds" {
				e.seconds = uint32(n)
			} else {
				e.hitCount = uint32(n)
			}
		case "reap", "rttl":
			if err := noArg(m.Name, o); err != nil {
				return nil, err
			}
			if o.Name == "reap" {
				e.checkSet |= recentReap
			} else {
				// xtopt's exclusion: --rttl after --set or --remove.
				if action == "set" || action == "remove" {
					return nil, notTogether(m.Name, "rttl", action)
				}
				e.checkSet |= recentTTL
			}
		case "name":
			v, err := oneArg(m.Name, o)
			if err != nil {
				return nil, err
			}
			if len(v) >= recentNameLen {
				return nil, unsupportedOption(m.Name, o.Name)
			}
			copy(e.name[:], v+"\x00")
		case "rsource", "rdest":
			if err := noArg(m.Name, o); err != nil {
				return nil, err
			}
			e.dest = o.Name == "rdest"
		case "mask":
			v, err := oneArg(m.Name, o)
			if err != nil {
				return nil, err
			}
			a, perr := netip.ParseAddr(v)
			if perr == nil && a.Is4() && ctx.Family == syntax.IPv6 {
				return nil, paramErr("getaddrinfo: Address family for hostname not supported\n")
			}
			if perr != nil || (a.Is4() != (ctx.Family == syntax.IPv4)) {
				return nil, paramErr("host/network `%s' not found", v)
			}
			e.mask = [16]byte{}
			copy(e.mask[:], a.AsSlice())
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
	}
	// Other combinations (--seconds with --set, say) are the kernel's to
	// refuse, as they are for iptables.
	switch {
	case action == "":
		return nil, paramErr("recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'")
	case e.checkSet&recentReap != 0 && e.seconds == 0:
		return nil, alsoRequires("recent", "reap", "seconds")
	}
	return e, nil
}

func (e *recent) Name() string                          { return "recent" }
func (e *recent) Revision() (string, uint8, bool, bool) { return "recent", 1, false, true }

func (e *recent) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(recentSize)
	b.u32(0, e.seconds)
	b.u32(4, e.hitCount)
	b.u8(8, e.checkSet)
	if e.invert {
		b.u8(9, 1)
	}
	copy(b[recentOffName:], e.name[:])
	if e.dest {
		b.u8(recentOffSide, 1)
	}
	copy(b[recentOffMask:], e.mask[:])
	return []expr.Any{&expr.Match{Name: "recent", Rev: 1, Info: rawInfo(b)}}, nil
}

func (e *recent) Save(ctx Context) string {
	var b strings.Builder
	b.WriteString("-m recent")
	if e.invert {
		b.WriteString(" !")
	}
	for _, a := range []struct {
		bit  uint8
		name string
	}{{recentSet, "--set"}, {recentCheck, "--rcheck"}, {recentUpdate, "--update"}, {recentRemove, "--remove"}} {
		if e.checkSet&a.bit != 0 {
			b.WriteString(" " + a.name)
		}
	}
	if e.seconds != 0 {
		b.WriteString(" --seconds " + strconv.FormatUint(uint64(e.seconds), 10))
	}
	if e.checkSet&recentReap != 0 {
		b.WriteString(" --reap")
	}
	if e.hitCount != 0 {
		b.WriteString(" --hitcount " + strconv.FormatUint(uint64(e.hitCount), 10))
	}
	if e.checkSet&recentTTL != 0 {
		b.WriteString(" --rttl")
	}
	b.WriteString(" --name " + e.nameString())
	if ctx.Family == syntax.IPv6 {
		b.WriteString(" --mask " + netip.AddrFrom16(e.mask).String())
	} else {
		b.WriteString(" --mask " + netip.AddrFrom4([4]byte(e.mask[:4])).String())
	}
	if e.dest {
		b.WriteString(" --rdest")
	} else {
		b.WriteString(" --rsource")
	}
	return b.String()
}

func decodeRecentBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 1 {
		return nil, decodeErr("xt match recent rev %d is not supported", rev)
	}
	if err := checkSize("recent", rev, data, recentSize); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &recent{seconds: b.get32(0), hitCount: b.get32(4), checkSet: b.get8(8), invert: b.get8(9) != 0, dest: b.get8(recentOffSide) != 0}
	if e.checkSet&^0x3f != 0 || b.get8(9) > 1 || b.get8(recentOffSide) > 1 || b.get8(recentOffSide+1) != 0 || !b.zero(recentSize, len(b)-recentSize) {
		return nil, decodeErr("xt match recent: unknown flags")
	}
	if _, ok := b.getStr(recentOffName, recentNameLen); !ok {
		return nil, decodeErr("xt match recent: name is not terminated")
	}
	copy(e.name[:], b[recentOffName:recentOffName+recentNameLen])
	copy(e.mask[:], b[recentOffMask:recentOffMask+16])
	if ctx.Family == syntax.IPv4 && !blob(e.mask[:]).zero(4, 12) && string(e.mask[4:]) != string(bytes.Repeat([]byte{0xff}, 12)) {
		return nil, decodeErr("xt match recent: IPv4 mask with IPv6 bits")
	}
	return e, nil
}
