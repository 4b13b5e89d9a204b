package xt

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// xt_time constants (XT_TIME_*).
const (
	timeLocalTZ     = 1 << 0
	timeContiguous  = 1 << 1
	timeAllMonth    = 0xfffffffe
	timeAllWeek     = 0xfe
	timeMaxDaytime  = 24*60*60 - 1
	timeDateStopMax = 0x7fffffff // INT_MAX, libxt_time's open end
	timeSize        = 22
)

// timeOptions is libxt_time's option table order.
var timeOptions = []string{"datestart", "datestop", "timestart", "timestop", "contiguous", "weekdays", "monthdays", "localtz", "utc", "kerneltz"}

var weekDays = []string{"", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// timeMatch is -m time (struct xt_time_info, revision 0).
type timeMatch struct {
	dateStart, dateStop, dayStart, dayStop, monthdays uint32
	weekdays, flags                                   uint8
}

// strtoul10 is C's strtoul(s, &end, 10) on a 64-bit machine: white
// space, a sign, decimal digits (saturating at the maximum); the rest.
func strtoul10(s string) (uint64, string) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var v uint64
	sat := false
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := uint64(s[i] - '0')
		if v > (^uint64(0)-d)/10 {
			sat = true
		}
		v = v*10 + d
	}
	if i == start {
		return 0, s
	}
	if sat {
		return ^uint64(0), s[i:]
	}
	if neg {
		v = -v
	}
	return v, s[i:]
}

// timeParseDate is time_parse_date: YYYY[-MM[-DD[Thh[:mm[:ss]]]]] in UTC.
func timeParseDate(arg string) (uint32, error) {
	bad := paramErr("Invalid date \"%s\" specified. Should be YYYY[-MM[-DD[Thh[:mm[:ss]]]]]", arg)
	vals := []uint32{0, 1, 1, 0, 0, 0}
	limits := []uint32{0, 12, 31, 23, 59, 59}
	seps := []byte{'-', '-', 'T', ':', ':', 0}
	s := arg
	for k := range vals {
		v, rest := strtoul10(s)
		vals[k] = uint32(v)
		end := byte(0)
		if rest != "" {
			end = rest[0]
		}
		if end != seps[k] && end != 0 {
			return 0, bad
		}
		if k == 0 && (vals[0] < 1970 || vals[0] > 2038) || k > 0 && vals[k] > limits[k] {
			return 0, bad
		}
		if end == 0 {
			break
		}
		s = rest[1:]
	}
	t := time.Date(int(vals[0]), time.Month(vals[1]), int(vals[2]), int(vals[3]), int(vals[4]), int(vals[5]), 0, time.UTC).Unix()
	if t < 0 || t > 0xffffffff {
		// mktime's error path prints perror text of its own.
		return 0, unsupportedOption("time", "datestart")
	}
	return uint32(t), nil
}

// timeParseMinutes is time_parse_minutes: hh:mm[:ss]; its message names
// the part of the argument it stopped at.
func timeParseMinutes(arg string) (uint32, error) {
	s := arg
	bad := func() error {
		return paramErr("invalid time \"%s\" specified, should be hh:mm[:ss] format and within the boundaries", s)
	}
	h, rest := strtoul10(s)
	if !strings.HasPrefix(rest, ":") || uint32(h) > 23 {
		return 0, bad()
	}
	s = rest[1:]
	m, rest := strtoul10(s)
	if rest != "" && rest[0] != ':' || uint32(m) > 59 {
		return 0, bad()
	}
	var sec uint64
	if rest != "" {
		s = rest[1:]
		sec, rest = strtoul10(s)
		if rest != "" || uint32(sec) > 59 {
			return 0, bad()
		}
	}
	return 3600*uint32(h) + 60*uint32(m) + uint32(sec), nil
}

// strSegments is libxt_time's my_strseg loop: the comma-separated parts
// of arg, each cut to n-1 bytes, an empty arg or trailing comma ending it.
func strSegments(arg string, n int) []string {
	var out []string
	for arg != "" {
		seg := arg
		i := strings.IndexByte(arg, ',')
		if i >= 0 {
			seg, arg = arg[:i], arg[i+1:]
		} else {
			arg = ""
		}
		if len(seg) > n-1 {
			seg = seg[:n-1]
		}
		out = append(out, seg)
		if i < 0 {
			break
		}
	}
	return out
}

func timeParseMonthdays(arg string) (uint32, error) {
	var ret uint32
	for _, day := range strSegments(arg, 3) {
		v, rest, digits, _ := strtoul(day)
		if !digits {
			v, rest = 0, day
		}
		if rest != "" && rest[0] != ',' || uint32(v) > 31 {
			return 0, paramErr("%s is not a valid day for --monthdays", day)
		}
		ret |= 1 << (uint32(v) & 31)
	}
	return ret, nil
}

func timeParseWeekdays(arg string) (uint32, error) {
	var ret uint32
	for _, day := range strSegments(arg, 4) {
		v, rest, digits, _ := strtoul(day)
		if !digits {
			rest = day
		}
		if rest == "" {
			if uint32(v) == 0 {
				return 0, paramErr("No, the week does NOT begin with Sunday.")
			}
			ret |= 1 << (uint32(v) & 31)
			continue
		}
		valid := false
		for i := 1; i < len(weekDays); i++ {
			if len(day) >= 2 && day[:2] == weekDays[i][:2] {
				ret |= 1 << i
				valid = true
			}
		}
		if !valid {
			return 0, paramErr("%s is not a valid day specifier", day)
		}
	}
	return ret, nil
}

func parseTime(ctx Context, m syntax.Match) (Ext, error) {
	e := &timeMatch{monthdays: timeAllMonth, weekdays: timeAllWeek, dayStop: timeMaxDaytime, dateStop: timeDateStopMax}
	given := map[string]bool{}
	for _, o := range m.Options {
		given[o.Name] = true
		switch o.Name {
		case "contiguous", "kerneltz", "utc":
			if err := noArg(m.Name, o); err != nil {
				return nil, err
			}
			switch o.Name {
			case "contiguous":
				e.flags |= timeContiguous
			case "kerneltz":
				e.flags |= timeLocalTZ
			}
			continue
		case "localtz":
			// libxt_time prints a deprecation warning on stderr, which
			// the native path does not.
			return nil, unsupportedOption(m.Name, o.Name)
		}
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		v = cutNUL(v)
		switch o.Name {
		case "datestart", "datestop":
			d, err := timeParseDate(v)
			if err != nil {
				return nil, err
			}
			if o.Name == "datestart" {
				e.dateStart = d
			} else {
				e.dateStop = d
			}
		case "timestart", "timestop":
			t, err := timeParseMinutes(v)
			if err != nil {
				return nil, err
			}
			if o.Name == "timestart" {
				e.dayStart = t
			} else {
				e.dayStop = t
			}
		case "monthdays":
			d, err := timeParseMonthdays(v)
			if err != nil {
				return nil, err
			}
			if o.Invert {
				d ^= timeAllMonth
			}
			e.monthdays = d
		case "weekdays":
			d, err := timeParseWeekdays(v)
			if err != nil {
				return nil, err
			}
			if o.Invert {
				d ^= timeAllWeek
			}
			e.weekdays = uint8(d)
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
	}
	if given["contiguous"] && e.dayStart < e.dayStop {
		return nil, paramErr("time: --contiguous only makes sense when stoptime is smaller than starttime")
	}
	if given["utc"] && given["kerneltz"] {
		return nil, notTogether(m.Name, "utc", "kerneltz")
	}
	return e, nil
}

func (e *timeMatch) Name() string                          { return "time" }
func (e *timeMatch) Revision() (string, uint8, bool, bool) { return "time", 0, false, true }

func (e *timeMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(timeSize)
	b.u32(0, e.dateStart)
	b.u32(4, e.dateStop)
	b.u32(8, e.dayStart)
	b.u32(12, e.dayStop)
	b.u32(16, e.monthdays)
	b.u8(20, e.weekdays)
	b.u8(21, e.flags)
	return xtMatch("time", 0, b), nil
}

func hms(t uint32) string {
	return fmt.Sprintf("%02d:%02d:%02d", t/3600, t/60%60, t%60)
}

func timeDate(d uint32, sep string) string {
	t := time.Unix(int64(d), 0).UTC()
	return fmt.Sprintf("%04d-%02d-%02d%s%02d:%02d:%02d", t.Year(), int(t.Month()), t.Day(), sep, t.Hour(), t.Minute(), t.Second())
}

func monthdaysText(mask uint32, human bool) string {
	var parts []string
	for i := uint32(1); i <= 31; i++ {
		if mask&(1<<i) == 0 {
			continue
		}
		s := fmt.Sprint(i)
		if human {
			s += map[uint32]string{1: "st", 2: "nd", 3: "rd"}[i%10]
			if i%10 == 0 || i%10 > 3 {
				s += "th"
			}
		}
		parts = append(parts, s)
	}
	return " " + strings.Join(parts, ",")
}

func weekdaysText(mask uint8) string {
	var parts []string
	for i := 1; i <= 7; i++ {
		if mask&(1<<i) != 0 {
			parts = append(parts, weekDays[i])
		}
	}
	return " " + strings.Join(parts, ",")
}

func (e *timeMatch) Save(Context) string {
	var b strings.Builder
	b.WriteString("-m time")
	if e.dayStart != 0 || e.dayStop != timeMaxDaytime {
		b.WriteString(" --timestart " + hms(e.dayStart) + " --timestop " + hms(e.dayStop))
	}
	if e.monthdays != timeAllMonth {
		b.WriteString(" --monthdays" + monthdaysText(e.monthdays, false))
	}
	if e.weekdays != timeAllWeek {
		b.WriteString(" --weekdays" + weekdaysText(e.weekdays))
	}
	// time_print_date skips 0 and LONG_MAX, which a 32-bit field never
	// holds: the open end INT_MAX is printed.
	if e.dateStart != 0 {
		b.WriteString(" --datestart " + timeDate(e.dateStart, "T"))
	}
	if e.dateStop != 0 {
		b.WriteString(" --datestop " + timeDate(e.dateStop, "T"))
	}
	if e.flags&timeLocalTZ != 0 {
		b.WriteString(" --kerneltz")
	}
	if e.flags&timeContiguous != 0 {
		b.WriteString(" --contiguous")
	}
	return b.String()
}

// List is time_print: "TIME from 01:02:03 to 04:05:06 on Mon on 1st
// starting from ... until date ... UTC contiguous".
func (e *timeMatch) List(bool) string {
	var b strings.Builder
	b.WriteString(" TIME")
	if e.dayStart != 0 || e.dayStop != timeMaxDaytime {
		b.WriteString(" from " + hms(e.dayStart) + " to " + hms(e.dayStop))
	}
	if e.weekdays != timeAllWeek {
		b.WriteString(" on" + weekdaysText(e.weekdays))
	}
	if e.monthdays != timeAllMonth {
		b.WriteString(" on" + monthdaysText(e.monthdays, true))
	}
	if e.dateStart != 0 {
		b.WriteString(" starting from " + timeDate(e.dateStart, " "))
	}
	if e.dateStop != timeDateStopMax {
		b.WriteString(" until date")
		if e.dateStop != 0 {
			b.WriteString(" " + timeDate(e.dateStop, " "))
		}
	}
	if e.flags&timeLocalTZ == 0 {
		b.WriteString(" UTC")
	}
	if e.flags&timeContiguous != 0 {
		b.WriteString(" contiguous")
	}
	return b.String()
}

func decodeTimeBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match time rev %d is not supported", rev)
	}
	if err := checkSize("time", rev, data, timeSize); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &timeMatch{dateStart: b.get32(0), dateStop: b.get32(4), dayStart: b.get32(8), dayStop: b.get32(12), monthdays: b.get32(16), weekdays: b.get8(20), flags: b.get8(21)}
	if e.flags&^(timeLocalTZ|timeContiguous) != 0 || !b.zero(timeSize, len(b)-timeSize) {
		return nil, decodeErr("xt match time: flags %#x", e.flags)
	}
	return e, nil
}
