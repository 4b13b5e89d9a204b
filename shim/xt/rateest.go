package xt

import (
	"math"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// This file holds the rate estimator pair: -j RATEEST, which creates a
// named estimator in the kernel, and -m rateest, which compares the rates
// of one or two of them. Both are plain xt blobs whose content follows
// from the rule text alone; the kernel refuses a rateest match naming no
// existing estimator (ENOENT) and a RATEEST rule redefining one (EINVAL),
// and it answers the shim as it answers iptables-nft.

// rateestNameLen is IFNAMSIZ, the size of an estimator name field.
const rateestNameLen = 16

// rateestTarget is -j RATEEST (struct xt_rateest_target_info, 32 bytes:
// name[16], s8 interval, u8 ewma_log, then the kernel's pointer).
type rateestTarget struct {
	name     string
	interval int8  // log2 of the interval in quarter seconds, -2..3
	ewmaLog  uint8 // 1..30
}

// rateestTimeUnits is libxt_RATEEST's TIME_UNITS_PER_SEC (microseconds).
const rateestTimeUnits = 1000000

func parseRateestTarget(ctx Context, t syntax.Target) (Ext, error) {
	e := &rateestTarget{}
	var interval, ewma uint32
	seenName := false
	for _, o := range t.Options {
		v, err := oneArg(t.Name, o)
		if err != nil {
			return nil, err
		}
		v = cutNUL(v)
		switch o.Name {
		case "rateest-name":
			// XTTYPE_STRING into name[IFNAMSIZ]: cut to 15 bytes.
			if len(v) > rateestNameLen-1 {
				v = v[:rateestNameLen-1]
			}
			e.name, seenName = v, true
		case "rateest-interval", "rateest-ewmalog":
			n, ok := rateestTime(v)
			if !ok {
				what := "interval"
				if o.Name == "rateest-ewmalog" {
					what = "ewmalog"
				}
				return nil, paramErr("RATEEST: bad %s value \"%s\"", what, v)
			}
			if o.Name == "rateest-interval" {
				interval = n
			} else {
				ewma = n
			}
		default:
			return nil, unsupportedOption(t.Name, o.Name)
		}
	}
	// libxt_RATEEST's final check runs before libxtables looks for the
	// mandatory options, so a missing interval or ewmalog is reported as
	// out of range.
	i := 0
	for ; i <= 5; i++ {
		if uint64(interval) <= uint64(1<<i)*(rateestTimeUnits/4) {
			break
		}
	}
	if i > 5 {
		return nil, paramErr("RATEEST: interval value is too large")
	}
	e.interval = int8(i - 2)
	l := 1
	for ; l < 32; l++ {
		// At l == 31 the C shift overflows to INT_MIN, which makes w
		// larger than 1 and the comparison false: the loop runs out.
		w := 1.0 - 1.0/float64(int32(uint32(1)<<l))
		if float64(interval)/(-math.Log(w)) > float64(ewma) {
			break
		}
	}
	l--
	if l == 0 || l >= 31 {
		return nil, paramErr("RATEEST: ewmalog value is out of range")
	}
	e.ewmaLog = uint8(l)
	for _, m := range []struct {
		seen bool
		name string
	}{{seenName, "rateest-name"}, {hasOption(t.Options, "rateest-interval"), "rateest-interval"}, {hasOption(t.Options, "rateest-ewmalog"), "rateest-ewmalog"}} {
		if !m.seen {
			return nil, mustSpecify(t.Name, m.name)
		}
	}
	return e, nil
}

// hasOption reports whether an option named name was given.
func hasOption(opts []syntax.Option, name string) bool {
	for _, o := range opts {
		if o.Name == name {
			return true
		}
	}
	return false
}

// rateestTime reads a time as libxt_RATEEST does: a C double, then an
// optional unit (s, ms, us and their spellings, any case), in
// microseconds, converted to unsigned int as the C cast does on x86-64.
func rateestTime(s string) (uint32, bool) {
	t, rest, ok := strtodPrefix(s)
	if !ok {
		return 0, false
	}
	switch strings.ToLower(rest) {
	case "":
	case "s", "sec", "secs":
		t *= rateestTimeUnits
	case "ms", "msec", "msecs":
		t *= rateestTimeUnits / 1000
	case "us", "usec", "usecs":
	default:
		return 0, false
	}
	return doubleToU32(t), true
}

// doubleToU32 is C's conversion of a double to a 32-bit unsigned integer
// as gcc compiles it for x86-64: truncated to a 64-bit integer (the
// "integer indefinite" value when out of range), then its low 32 bits.
func doubleToU32(f float64) uint32 {
	if math.IsNaN(f) || f >= 9.223372036854775807e18 || f < -9.223372036854775808e18 {
		return 0
	}
	return uint32(int64(f))
}

// strtodPrefix reads the number at the start of s as C's strtod does for
// decimal numbers, infinities and NaN (leading white space, a sign,
// digits with an optional point and exponent), returning what follows it;
// ok is false when s starts with no number. Hexadecimal floats are read
// only as far as their integer part.
func strtodPrefix(s string) (v float64, rest string, ok bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')) {
		i++
	}
	start := i
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	low := strings.ToLower(s[i:])
	for _, w := range []string{"infinity", "inf", "nan"} {
		if strings.HasPrefix(low, w) {
			f, err := strconv.ParseFloat(s[start:i+len(w)], 64)
			if err != nil {
				return 0, s, false
			}
			return f, s[i+len(w):], true
		}
	}
	if strings.HasPrefix(low, "0x") && len(low) > 2 && hexDigit(low[2]) >= 0 {
		j := i + 2
		var acc float64
		for j < len(s) && hexDigit(s[j]) >= 0 {
			acc = acc*16 + float64(hexDigit(s[j]))
			j++
		}
		if s[start] == '-' {
			acc = -acc
		}
		return acc, s[j:], true
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, s, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && s[j] >= '0' && s[j] <= '9' {
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			i = j
		}
	}
	f, err := strconv.ParseFloat(s[start:i], 64)
	if err != nil {
		// Out of range: strtod gives ±HUGE_VAL (or 0 on underflow),
		// which ParseFloat returns along with the error.
		var ne *strconv.NumError
		if !asNumError(err, &ne) {
			return 0, s, false
		}
	}
	return f, s[i:], true
}

func asNumError(err error, ne **strconv.NumError) bool {
	e, ok := err.(*strconv.NumError)
	if ok {
		*ne = e
	}
	return ok && e.Err == strconv.ErrRange
}

func (e *rateestTarget) Name() string                          { return "RATEEST" }
func (e *rateestTarget) Revision() (string, uint8, bool, bool) { return "RATEEST", 0, true, true }

func (e *rateestTarget) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(32)
	b.str(0, rateestNameLen, e.name)
	b.u8(16, uint8(e.interval))
	b.u8(17, e.ewmaLog)
	return xtTarget("RATEEST", 0, b), nil
}

// Save prints as libxt_RATEEST 1.8.9 does.
func (e *rateestTarget) Save(Context) string { return "-j RATEEST" + e.options("--rateest-") }

// List is -L's text: the same options without their dashes.
func (e *rateestTarget) List(bool) string { return e.options("") }

func (e *rateestTarget) options(prefix string) string {
	interval := uint32(rateestTimeUnits<<(e.interval+2)) / 4
	ewma := interval * (uint32(1) << e.ewmaLog) // wraps as the C does
	return " " + prefix + "name " + e.name + " " + prefix + "interval " + rateestTimeString(interval) +
		" " + prefix + "ewmalog " + rateestTimeString(ewma)
}

// rateestTimeString is RATEEST_print_time.
func rateestTimeString(t uint32) string {
	f := float64(t)
	switch {
	case f >= rateestTimeUnits:
		return strconv.FormatFloat(f/rateestTimeUnits, 'f', 1, 64) + "s"
	case f >= rateestTimeUnits/1000:
		return strconv.FormatFloat(f/(rateestTimeUnits/1000), 'f', 1, 64) + "ms"
	}
	return strconv.FormatUint(uint64(t), 10) + "us"
}

func decodeRateestTargetBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt target RATEEST rev %d is not supported", rev)
	}
	if err := checkSize("RATEEST", rev, data, 32); err != nil {
		return nil, err
	}
	b := blob(data)
	name, ok := rateestName(b, 0)
	iv, ewma := int8(b.get8(16)), b.get8(17)
	// The kernel's estimator takes no other values (gen_new_estimator).
	if !ok || iv < -2 || iv > 3 || ewma == 0 || ewma >= 31 || !b.zero(18, len(b)-18) {
		return nil, decodeErr("xt target RATEEST: unknown data")
	}
	return &rateestTarget{name: name, interval: iv, ewmaLog: ewma}, nil
}

// rateestName reads a NUL-terminated name field of IFNAMSIZ bytes that is
// zero after its NUL, as libxtables writes it.
func rateestName(b blob, off int) (string, bool) {
	s, ok := b.getStr(off, rateestNameLen)
	if !ok || !b.zero(off+len(s), rateestNameLen-len(s)) {
		return "", false
	}
	return s, true
}

// struct xt_rateest_match_info's flags and modes.
const (
	rateestInvert = 1 << 0
	rateestAbs    = 1 << 1
	rateestRel    = 1 << 2
	rateestDelta  = 1 << 3
	rateestBPS    = 1 << 4
	rateestPPS    = 1 << 5

	rateestEQ = 1
	rateestLT = 2
	rateestGT = 3
)

// rateestMatch is -m rateest (struct xt_rateest_match_info, 72 bytes:
// name1[16], name2[16], u16 flags, u16 mode, u32 bps1, pps1, bps2, pps2,
// then the kernel's two pointers).
type rateestMatch struct {
	name1, name2           string
	flags, mode            uint16
	bps1, pps1, bps2, pps2 uint32
}

// parseRateest follows libxt_rateest 1.8.9's parse, option by option: the
// names and rates as given, the last comparison given as the mode (any of
// them inverted inverts it), and the absolute mode unless --rateest2 was
// given. "!" and repeated options are judged by the syntax package, in
// the extension's words. What the kernel refuses (no rate kind, no
// comparison, an unknown estimator) it refuses for us as for iptables.
func parseRateest(ctx Context, m syntax.Match) (Ext, error) {
	e := &rateestMatch{}
	seen := map[string]bool{}
	for _, o := range m.Options {
		switch o.Name {
		case "rateest":
			o.Name = "rateest1"
		case "rateest-bps", "rateest-pps":
			o.Name += "2"
		}
		if err := syntax.RateestCheck(o.Name, o.Invert, seen[o.Name]); err != nil {
			return nil, err
		}
		seen[o.Name] = true
		var arg string
		hasArg := len(o.Args) == 1
		if len(o.Args) > 1 {
			return nil, unsupportedOption(m.Name, o.Name)
		}
		if hasArg {
			arg = cutNUL(o.Args[0])
		}
		switch o.Name {
		case "rateest1", "rateest2":
			if !hasArg {
				return nil, unsupportedOption(m.Name, o.Name)
			}
			if len(arg) > rateestNameLen-1 {
				arg = arg[:rateestNameLen-1]
			}
			if o.Name == "rateest1" {
				e.name1 = arg
			} else {
				e.name2 = arg
				e.flags |= rateestRel
			}
		case "rateest-bps1", "rateest-bps2":
			e.flags |= rateestBPS
			if !hasArg {
				continue
			}
			r, ok := rateestRate(arg)
			if !ok {
				return nil, paramErr("rateest: could not parse rate `%s'", arg)
			}
			if o.Name == "rateest-bps1" {
				e.bps1 = r
			} else {
				e.bps2 = r
			}
		case "rateest-pps1", "rateest-pps2":
			e.flags |= rateestPPS
			if !hasArg {
				continue
			}
			n, ok := cNumber(strings.TrimLeft(arg, " \t\n\v\f\r"), 0xffffffff)
			if !ok {
				return nil, paramErr("rateest: could not parse pps `%s'", arg)
			}
			if o.Name == "rateest-pps1" {
				e.pps1 = uint32(n)
			} else {
				e.pps2 = uint32(n)
			}
		case "rateest-delta":
			e.flags |= rateestDelta
		case "rateest-eq", "rateest-lt", "rateest-gt":
			e.mode = map[string]uint16{"rateest-eq": rateestEQ, "rateest-lt": rateestLT, "rateest-gt": rateestGT}[o.Name]
			if o.Invert {
				e.flags |= rateestInvert
			}
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
	}
	if e.flags&rateestRel == 0 {
		e.flags |= rateestAbs
	}
	return e, nil
}

// rateestRates are libxt_rateest's rate units, in bits per second.
var rateestRates = []struct {
	name  string
	scale float64
}{
	{"bit", 1}, {"kibit", 1024}, {"kbit", 1000}, {"mibit", 1024 * 1024}, {"mbit", 1000000},
	{"gibit", 1024 * 1024 * 1024}, {"gbit", 1000000000},
	{"tibit", 1024 * 1024 * 1024 * 1024}, {"tbit", 1000000000000},
	{"bps", 8}, {"kibps", 8 * 1024}, {"kbps", 8000}, {"mibps", 8 * 1024 * 1024}, {"mbps", 8000000},
	{"gibps", 8 * 1024 * 1024 * 1024}, {"gbps", 8000000000},
	{"tibps", 8 * 1024 * 1024 * 1024 * 1024}, {"tbps", 8000000000000},
}

// rateestRate reads a rate as libxt_rateest does, in bytes per second: a
// bare number is bytes per second, a unit (any case) scales bits.
func rateestRate(s string) (uint32, bool) {
	f, rest, ok := strtodPrefix(s)
	if !ok {
		return 0, false
	}
	if rest == "" {
		return doubleToU32(f / 8), true
	}
	rest = strings.ToLower(rest)
	for _, u := range rateestRates {
		if u.name == rest {
			return doubleToU32(f * u.scale / 8), true
		}
	}
	return 0, false
}

func (e *rateestMatch) Name() string                          { return "rateest" }
func (e *rateestMatch) Revision() (string, uint8, bool, bool) { return "rateest", 0, false, true }

func (e *rateestMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(72)
	b.str(0, rateestNameLen, e.name1)
	b.str(16, rateestNameLen, e.name2)
	b.u16(32, e.flags)
	b.u16(34, e.mode)
	b.u32(36, e.bps1)
	b.u32(40, e.pps1)
	b.u32(44, e.bps2)
	b.u32(48, e.pps2)
	return []expr.Any{&expr.Match{Name: "rateest", Rev: 0, Info: rawInfo(b)}}, nil
}

// rateestRateString is rateest_print_rate: the rate in bits, or in bytes
// when numeric.
func rateestRateString(r uint32, numeric bool) string {
	if numeric {
		return strconv.FormatUint(uint64(r), 10)
	}
	f := float64(r) * 8
	switch {
	case f >= 1000.0*1000000.0:
		return strconv.FormatFloat(f/1000000.0, 'f', 0, 64) + "Mbit"
	case f >= 1000.0*1000.0:
		return strconv.FormatFloat(f/1000.0, 'f', 0, 64) + "Kbit"
	}
	return strconv.FormatFloat(f, 'f', 0, 64) + "bit"
}

// modeString is rateest_print_mode.
func (e *rateestMatch) modeString(prefix string) string {
	s := ""
	if e.flags&rateestInvert != 0 {
		s = " !"
	}
	return s + " " + prefix + [...]string{rateestEQ: "eq", rateestLT: "lt", rateestGT: "gt"}[e.mode]
}

// Save prints as libxt_rateest 1.8.9 does.
func (e *rateestMatch) Save(Context) string {
	var b strings.Builder
	b.WriteString("-m rateest")
	if e.flags&rateestDelta != 0 {
		b.WriteString(" --rateest-delta")
	}
	if e.flags&rateestRel != 0 {
		b.WriteString(" --rateest1 " + e.name1)
	} else {
		b.WriteString(" --rateest " + e.name1)
	}
	rate := func(name string, r1, r2 uint32, numeric bool) {
		if e.flags&rateestDelta != 0 {
			b.WriteString(" --rateest-" + name + "1 " + rateestRateString(r1, numeric))
			b.WriteString(e.modeString("--rateest-"))
			b.WriteString(" --rateest-" + name + "2")
		} else {
			b.WriteString(e.modeString("--rateest-"))
			b.WriteString(" --rateest-" + name)
		}
		if e.flags&(rateestAbs|rateestDelta) != 0 {
			b.WriteString(" " + rateestRateString(r2, numeric))
		}
	}
	if e.flags&rateestBPS != 0 {
		rate("bps", e.bps1, e.bps2, false)
	}
	if e.flags&rateestPPS != 0 {
		rate("pps", e.pps1, e.pps2, true)
	}
	if e.flags&rateestRel != 0 {
		b.WriteString(" --rateest2 " + e.name2)
	}
	return b.String()
}

// List is rateest_print, -L's text.
func (e *rateestMatch) List(numeric bool) string {
	var b strings.Builder
	b.WriteString(" rateest match " + e.name1)
	delta := e.flags&rateestDelta != 0
	if delta {
		b.WriteString(" delta")
	}
	if e.flags&rateestBPS != 0 {
		b.WriteString(" bps")
		if delta {
			b.WriteString(" " + rateestRateString(e.bps1, numeric))
		}
		if e.flags&rateestAbs != 0 {
			b.WriteString(" " + rateestRateString(e.bps2, numeric))
			b.WriteString(e.modeString(""))
		}
	}
	if e.flags&rateestPPS != 0 {
		b.WriteString(" pps")
		if delta {
			b.WriteString(" " + strconv.FormatUint(uint64(e.pps1), 10))
		}
		if e.flags&rateestAbs != 0 {
			b.WriteString(e.modeString(""))
			b.WriteString(" " + strconv.FormatUint(uint64(e.pps2), 10))
		}
	}
	if e.flags&rateestRel != 0 {
		b.WriteString(e.modeString(""))
		b.WriteString(" " + e.name2)
		if e.flags&rateestBPS != 0 {
			b.WriteString(" bps")
			if delta {
				b.WriteString(" " + rateestRateString(e.bps2, numeric))
			}
		}
		if e.flags&rateestPPS != 0 {
			b.WriteString(" pps")
			if delta {
				b.WriteString(" " + strconv.FormatUint(uint64(e.pps2), 10))
			}
		}
	}
	return b.String()
}

func decodeRateestBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match rateest rev %d is not supported", rev)
	}
	if err := checkSize("rateest", rev, data, 72); err != nil {
		return nil, err
	}
	b := blob(data)
	name1, ok1 := rateestName(b, 0)
	name2, ok2 := rateestName(b, 16)
	e := &rateestMatch{name1: name1, name2: name2, flags: b.get16(32), mode: b.get16(34),
		bps1: b.get32(36), pps1: b.get32(40), bps2: b.get32(44), pps2: b.get32(48)}
	// What the kernel accepts (xt_rateest_mt_checkentry): one of the
	// absolute and relative modes, a rate kind, a comparison; and
	// nothing the print functions do not show.
	absRel := e.flags & (rateestAbs | rateestRel)
	if !ok1 || !ok2 || e.flags&^0x3f != 0 || (absRel != rateestAbs && absRel != rateestRel) ||
		e.flags&(rateestBPS|rateestPPS) == 0 || e.mode < rateestEQ || e.mode > rateestGT ||
		(absRel == rateestAbs && name2 != "") || !b.zero(52, len(b)-52) {
		return nil, decodeErr("xt match rateest: unknown data")
	}
	return e, nil
}
