package xt

import (
	"fmt"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// hashlimit mode bits (XT_HASHLIMIT_*).
const (
	hlHashDIP   = 1 << 0
	hlHashDPT   = 1 << 1
	hlHashSIP   = 1 << 2
	hlHashSPT   = 1 << 3
	hlInvert    = 1 << 4
	hlBytes     = 1 << 5
	hlRateMatch = 1 << 6
	hlHashAll   = hlHashDIP | hlHashDPT | hlHashSIP | hlHashSPT
)

// Constants of libxt_hashlimit and the kernel's rev 3 layout
// (struct xt_hashlimit_mtinfo3: name[NAME_MAX], then hashlimit_cfg3
// aligned to 8, then the kernel's private pointer).
const (
	hlScale         = 1000000 // XT_HASHLIMIT_SCALE_v2
	hlBurstDefault  = 5
	hlBurstMax      = 1000000
	hlGCDefault     = 1000
	hlByteExpire    = 15
	hlByteExpBurst  = 60
	hlNameLen       = 255
	hlOffCfg        = 256
	hlUserSize      = 304 // up to the kernel's pointer
	hlSize          = 312
	hlByteShift     = 4
	hlUint32Max     = 0xffffffff
	hlOptUpto       = "hashlimit-upto"
	hlOptAbove      = "hashlimit-above"
	hlOptName       = "hashlimit-name"
	hlOptBurst      = "hashlimit-burst"
	hlOptRateIntvl  = "hashlimit-rate-interval"
	hlOptHtableExp  = "hashlimit-htable-expire"
	hlOptMode       = "hashlimit-mode"
	hlOptRateMatch  = "hashlimit-rate-match"
	hlOptOldName    = "hashlimit"
	hlOptSrcmask    = "hashlimit-srcmask"
	hlOptDstmask    = "hashlimit-dstmask"
	hlOptHtableSize = "hashlimit-htable-size"
	hlOptHtableMax  = "hashlimit-htable-max"
	hlOptHtableGC   = "hashlimit-htable-gcinterval"
)

// hashlimit is -m hashlimit, revision 3 (the one iptables-nft 1.8.9
// writes on a kernel that has it).
type hashlimit struct {
	name                                  [hlNameLen]byte
	avg, burst                            uint64
	mode, size, max, gc, expire, interval uint32
	srcmask, dstmask                      uint8
	ip6                                   bool
}

// hlOptionID is the option's id in libxt_hashlimit's table: the old name
// --hashlimit shares --hashlimit-upto's.
func hlOptionID(name string) string {
	if name == hlOptOldName {
		return hlOptUpto
	}
	return name
}

func hlCostToBytes(cost uint64) uint64 {
	r := uint64(hlUint32Max)
	if cost != 0 {
		r = hlUint32Max / cost
	}
	return (r - 1) << hlByteShift
}

// hlBytesToCost is libxt_hashlimit's bytes_to_cost; ok is false where the
// C code divides by zero.
func hlBytesToCost(b uint64) (uint64, bool) {
	r := uint32(b >> hlByteShift)
	if r+1 == 0 {
		return 0, false
	}
	return uint64(hlUint32Max / (r + 1)), true
}

func hlFactor(c byte) uint64 {
	switch c {
	case 'm':
		return 1024 * 1024
	case 'k':
		return 1024
	}
	return 1
}

// hlParseBytes is parse_bytes for revision 3: "N[k|m]b/s".
func hlParseBytes(rate string) (avg uint64, ok bool, err error) {
	i := strings.Index(rate, "b/s")
	if i <= 0 {
		return 0, false, nil
	}
	r := atoll(rate)
	if r == 0 {
		return 0, false, nil
	}
	tmp := uint64(r) * hlFactor(rate[i-1])
	cost, good := hlBytesToCost(tmp)
	if !good {
		return 0, false, unsupportedOption("hashlimit", hlOptUpto)
	}
	if cost == 0 {
		return 0, false, paramErr("Rate too high \"%s\"", rate)
	}
	return cost, true, nil
}

// hlParseRate is parse_rate for revision 3: "N[/second|minute|hour|day]"
// (any prefix of the unit), with the multiplier it implies.
func hlParseRate(rate string) (avg uint64, mult uint32, ok bool, err error) {
	mult = 1
	if i := strings.IndexByte(rate, '/'); i >= 0 {
		u := strings.ToLower(rate[i+1:])
		switch {
		case u == "":
			return 0, 0, false, nil
		case strings.HasPrefix("second", u):
			mult = 1
		case strings.HasPrefix("minute", u):
			mult = 60
		case strings.HasPrefix("hour", u):
			mult = 60 * 60
		case strings.HasPrefix("day", u):
			mult = 24 * 60 * 60
		default:
			return 0, 0, false, nil
		}
	}
	r := atoll(rate)
	if r == 0 {
		return 0, 0, false, nil
	}
	tmp := hlScale * uint64(mult) / uint64(r)
	if tmp == 0 {
		return 0, 0, false, paramErr("Rate too fast \"%s\"", rate)
	}
	return tmp, mult, true, nil
}

func hlBadValue(opt, arg string) error {
	return paramErr("hashlimit: Bad value for \"--%s\" option: \"%s\"", opt, arg)
}

func hlBurstError() error {
	return paramErr("bad value for option \"--hashlimit-burst\", or out of range (1-%d).", hlBurstMax)
}

func parseHashlimit(ctx Context, m syntax.Match) (Ext, error) {
	e := &hashlimit{burst: hlBurstDefault, gc: hlGCDefault, srcmask: 32, dstmask: 32, ip6: ctx.Family == syntax.IPv6}
	if e.ip6 {
		e.srcmask, e.dstmask = 128, 128
	}
	given := map[string]bool{}
	var mult uint32
	for _, o := range m.Options {
		id := hlOptionID(o.Name)
		if given[id] {
			return nil, paramErr("hashlimit: option \"--%s\" can only be used once.\n", o.Name)
		}
		given[id] = true
		if o.Name == hlOptRateMatch {
			if err := noArg(m.Name, o); err != nil {
				return nil, err
			}
			if err := noInvert(m.Name, o); err != nil {
				return nil, err
			}
			e.mode |= hlRateMatch
			continue
		}
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		v = cutNUL(v)
		if o.Invert && id != hlOptUpto && id != hlOptAbove {
			return nil, noInvert(m.Name, o)
		}
		switch o.Name {
		case hlOptUpto, hlOptOldName, hlOptAbove:
			if (id == hlOptUpto) == o.Invert {
				e.mode |= hlInvert
			}
			avg, isBytes, err := hlParseBytes(v)
			if err != nil {
				return nil, err
			}
			if isBytes {
				e.avg, mult = avg, hlByteExpire
				e.mode |= hlBytes
				break
			}
			avg, mu, ok, err := hlParseRate(v)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, hlBadValue(id, v)
			}
			e.avg, mult = avg, mu
		case hlOptSrcmask, hlOptDstmask:
			n, ok, unsup := parsePlen(ctx.Family, v)
			if unsup {
				return nil, unsupportedOption(m.Name, o.Name)
			}
			if !ok {
				max := 32
				if e.ip6 {
					max = 128
				}
				return nil, paramErr("hashlimit: bad value for option \"--%s\", neither a valid network mask nor valid CIDR (0-%d).\n", o.Name, max)
			}
			if o.Name == hlOptSrcmask {
				e.srcmask = n
			} else {
				e.dstmask = n
			}
		case hlOptBurst:
			n, rest, ok := strtoulRange(v, 1, 0, true)
			if !ok || rest == "" && n > hlBurstMax {
				return nil, hlBurstError()
			}
			if rest != "" {
				n *= hlFactor(rest[0])
			}
			e.burst = n
		case hlOptHtableSize, hlOptHtableMax, hlOptHtableGC, hlOptHtableExp:
			n, _, ok := strtoulRange(v, 0, hlUint32Max, false)
			if !ok {
				return nil, badRange(m.Name, o.Name, 0, hlUint32Max)
			}
			switch o.Name {
			case hlOptHtableSize:
				e.size = uint32(n)
			case hlOptHtableMax:
				e.max = uint32(n)
			case hlOptHtableGC:
				e.gc = uint32(n)
			default:
				e.expire = uint32(n)
			}
		case hlOptMode:
			for _, tok := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '|' }) {
				switch tok {
				case "dstip":
					e.mode |= hlHashDIP
				case "srcip":
					e.mode |= hlHashSIP
				case "srcport":
					e.mode |= hlHashSPT
				case "dstport":
					e.mode |= hlHashDPT
				default:
					return nil, hlBadValue(o.Name, v)
				}
			}
		case hlOptName:
			if v == "" {
				return nil, paramErr("Argument must have a minimum length of 1 characters\n")
			}
			if len(v) >= hlNameLen {
				v = v[:hlNameLen-1]
			}
			copy(e.name[:], v)
		case hlOptRateIntvl:
			n := atoll(v)
			if int32(n) <= 0 || n != int64(int32(n)) {
				if n > 0 && n != int64(int32(n)) {
					// atoi of a number beyond int: C leaves it
					// implementation-defined; leave it to a real iptables.
					return nil, unsupportedOption(m.Name, o.Name)
				}
				return nil, hlBadValue(o.Name, v)
			}
			e.interval = uint32(n)
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
	}
	// hashlimit_mt_check, then xtopt's checks in the table's order.
	if !given[hlOptUpto] && !given[hlOptAbove] {
		return nil, paramErr("You have to specify --hashlimit")
	}
	if !given[hlOptHtableExp] {
		e.expire = mult * 1000
	}
	if e.mode&hlBytes != 0 {
		var burst uint32
		if given[hlOptBurst] {
			cost := hlCostToBytes(e.avg)
			if e.burst < cost {
				return nil, paramErr("burst cannot be smaller than %db", cost)
			}
			burst = uint32(uint64(uint32(e.burst)) / cost)
			if e.burst%cost != 0 {
				burst++
			}
			if !given[hlOptHtableExp] {
				e.expire = hlByteExpBurst * 1000
			}
		}
		e.burst = uint64(burst)
	} else if e.burst > hlBurstMax {
		return nil, hlBurstError()
	}
	if given[hlOptRateMatch] {
		if e.mode&hlBytes == 0 {
			e.avg /= uint64(mult)
		}
		if e.interval == 0 {
			if e.mode&hlBytes != 0 {
				e.interval = 1
			} else {
				e.interval = mult
			}
		}
	}
	if given[hlOptUpto] && given[hlOptAbove] {
		return nil, notTogether(m.Name, hlOptUpto, hlOptAbove)
	}
	if !given[hlOptName] {
		return nil, mustSpecify(m.Name, hlOptName)
	}
	return e, nil
}

func (e *hashlimit) Name() string                          { return "hashlimit" }
func (e *hashlimit) Revision() (string, uint8, bool, bool) { return "hashlimit", 3, false, true }

func (e *hashlimit) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(hlSize)
	copy(b, e.name[:])
	c := hlOffCfg
	b.u64(c, e.avg)
	b.u64(c+8, e.burst)
	b.u32(c+16, e.mode)
	b.u32(c+20, e.size)
	b.u32(c+24, e.max)
	b.u32(c+28, e.gc)
	b.u32(c+32, e.expire)
	b.u32(c+36, e.interval)
	b.u8(c+40, e.srcmask)
	b.u8(c+41, e.dstmask)
	return xtMatch("hashlimit", 3, b), nil
}

func (e *hashlimit) nameString() string {
	s, _ := blob(e.name[:]).getStr(0, hlNameLen)
	return s
}

var hlRates = []struct {
	name string
	mult uint64
}{
	{"day", hlScale * 24 * 60 * 60},
	{"hour", hlScale * 60 * 60},
	{"min", hlScale * 60},
	{"sec", hlScale},
}

// hlRate is print_rate: " N/unit" and the quantum (msec) it implies.
func hlRate(b *strings.Builder, period uint64) uint32 {
	if period == 0 {
		b.WriteString(" inf")
		return 0
	}
	i := 1
	for ; i < len(hlRates); i++ {
		if period > hlRates[i].mult || hlRates[i].mult/period < hlRates[i].mult%period {
			break
		}
	}
	fmt.Fprintf(b, " %d/%s", hlRates[i-1].mult/period, hlRates[i-1].name)
	return uint32(hlRates[i-1].mult / hlScale * 1000)
}

var hlUnits = []struct {
	name   string
	thresh uint64
}{{"m", 1024 * 1024}, {"k", 1024}, {"", 1}}

// hlBytesText is print_bytes: " Nkb/s" and, with a burst, " PREFIXburst
// Nkb"; it returns the quantum (msec) it implies.
func hlBytesText(b *strings.Builder, avg, burst uint64, prefix string) uint32 {
	r := hlCostToBytes(avg)
	i := 0
	for ; i < len(hlUnits)-1; i++ {
		if c, _ := hlBytesToCost(r &^ (hlUnits[i].thresh - 1)); r >= hlUnits[i].thresh && c == avg {
			break
		}
	}
	fmt.Fprintf(b, " %d%sb/s", r/hlUnits[i].thresh, hlUnits[i].name)
	if burst == 0 {
		return hlByteExpire * 1000
	}
	r *= burst
	b.WriteString(" " + prefix)
	for i = 0; i < len(hlUnits)-1; i++ {
		if r >= hlUnits[i].thresh {
			break
		}
	}
	fmt.Fprintf(b, "burst %d%sb", r/hlUnits[i].thresh, hlUnits[i].name)
	return hlByteExpBurst * 1000
}

func hlModeText(b *strings.Builder, mode uint32, sep string) {
	var names []string
	for _, f := range []struct {
		bit  uint32
		name string
	}{{hlHashSIP, "srcip"}, {hlHashSPT, "srcport"}, {hlHashDIP, "dstip"}, {hlHashDPT, "dstport"}} {
		if mode&f.bit != 0 {
			names = append(names, f.name)
		}
	}
	b.WriteString(" " + strings.Join(names, sep))
}

func (e *hashlimit) defaultMask() uint8 {
	if e.ip6 {
		return 128
	}
	return 32
}

func (e *hashlimit) Save(Context) string {
	var b strings.Builder
	b.WriteString("-m hashlimit")
	if e.mode&hlInvert != 0 {
		b.WriteString(" --hashlimit-above")
	} else {
		b.WriteString(" --hashlimit-upto")
	}
	var quantum uint32
	if e.mode&hlBytes != 0 {
		quantum = hlBytesText(&b, e.avg, e.burst, "--hashlimit-")
	} else {
		quantum = hlRate(&b, e.avg)
		fmt.Fprintf(&b, " --hashlimit-burst %d", e.burst)
	}
	if e.mode&hlHashAll != 0 {
		b.WriteString(" --hashlimit-mode")
		hlModeText(&b, e.mode, ",")
	}
	b.WriteString(" --hashlimit-name " + e.nameString())
	e.tail(&b, quantum, "--hashlimit-")
	return b.String()
}

// tail is what save and -L print after the name: the table settings that
// differ from their defaults, the masks, and the rate-match options.
func (e *hashlimit) tail(b *strings.Builder, quantum uint32, prefix string) {
	htable := prefix + "htable-"
	if e.size != 0 {
		fmt.Fprintf(b, " %ssize %d", htable, e.size)
	}
	if e.max != 0 {
		fmt.Fprintf(b, " %smax %d", htable, e.max)
	}
	if e.gc != hlGCDefault {
		fmt.Fprintf(b, " %sgcinterval %d", htable, e.gc)
	}
	if e.expire != quantum {
		fmt.Fprintf(b, " %sexpire %d", htable, e.expire)
	}
	if d := e.defaultMask(); e.srcmask != d {
		fmt.Fprintf(b, " %ssrcmask %d", prefix, e.srcmask)
	}
	if d := e.defaultMask(); e.dstmask != d {
		fmt.Fprintf(b, " %sdstmask %d", prefix, e.dstmask)
	}
	if e.mode&hlRateMatch != 0 {
		b.WriteString(" " + prefix + "rate-match")
		if e.interval != 1 {
			fmt.Fprintf(b, " %srate-interval %d", prefix, e.interval)
		}
	}
}

// List is hashlimit_mt_print for revision 3: "limit: up to 1/sec burst 5
// mode srcip-dstport ...", the rate of a rate-match rule scaled by its
// interval.
func (e *hashlimit) List(bool) string {
	var b strings.Builder
	if e.mode&hlInvert != 0 {
		b.WriteString(" limit: above")
	} else {
		b.WriteString(" limit: up to")
	}
	var quantum uint32
	if e.mode&hlBytes != 0 {
		quantum = hlBytesText(&b, e.avg, e.burst, "")
	} else {
		period := e.avg
		if e.interval != 0 {
			period *= uint64(e.interval)
		}
		quantum = hlRate(&b, period)
		fmt.Fprintf(&b, " burst %d", e.burst)
	}
	if e.mode&hlHashAll != 0 {
		b.WriteString(" mode")
		hlModeText(&b, e.mode, "-")
	}
	e.tail(&b, quantum, "")
	return b.String()
}

func decodeHashlimitBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 3 {
		return nil, decodeErr("xt match hashlimit rev %d is not supported", rev)
	}
	if err := checkSize("hashlimit", rev, data, hlSize); err != nil {
		return nil, err
	}
	b := blob(data)
	if _, ok := b.getStr(0, hlNameLen); !ok {
		return nil, decodeErr("xt match hashlimit: name is not terminated")
	}
	c := hlOffCfg
	e := &hashlimit{
		avg: b.get64(c), burst: b.get64(c + 8), mode: b.get32(c + 16),
		size: b.get32(c + 20), max: b.get32(c + 24), gc: b.get32(c + 28),
		expire: b.get32(c + 32), interval: b.get32(c + 36),
		srcmask: b.get8(c + 40), dstmask: b.get8(c + 41),
		ip6: ctx.Family == syntax.IPv6,
	}
	copy(e.name[:], b[:hlNameLen])
	if e.mode&^uint32(hlHashAll|hlInvert|hlBytes|hlRateMatch) != 0 || b[hlNameLen] != 0 || !b.zero(c+42, hlUserSize-(c+42)) {
		return nil, decodeErr("xt match hashlimit: mode %#x or padding not understood", e.mode)
	}
	if e.mode&hlBytes != 0 {
		// print_bytes divides by zero for a cost beyond 32 bits.
		if _, ok := hlBytesToCost(hlCostToBytes(e.avg)); !ok {
			return nil, decodeErr("xt match hashlimit: byte cost %d out of range", e.avg)
		}
	}
	// Keep the name field as written: -C compares it byte for byte.
	return e, nil
}
