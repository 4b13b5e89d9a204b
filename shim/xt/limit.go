package xt

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// limitScale is XT_LIMIT_SCALE, the unit of libxt_limit's average period.
const limitScale = 10000

// limitUnits are libxt_limit's rate units, largest first (print order).
var limitUnits = []struct {
	name string
	secs uint64
}{{"day", 86400}, {"hour", 3600}, {"min", 60}, {"sec", 1}}

// limit is -m limit, written natively as a limit expression (packets per
// unit, burst).
type limit struct {
	rate, unit uint64
	burst      uint32
	// avg is set instead of rate/unit when read from an xt limit blob:
	// the average period in 1/limitScale seconds.
	avg uint32
}

// period is libxt_limit's average period in 1/limitScale seconds.
func (e *limit) period() uint64 {
	if e.avg != 0 {
		return uint64(e.avg)
	}
	return limitScale * e.unit / e.rate
}

func parseLimit(ctx Context, m syntax.Match) (Ext, error) {
	e := &limit{rate: 3, unit: 3600, burst: 5}
	for _, o := range m.Options {
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		if err := noInvert(m.Name, o); err != nil {
			return nil, err
		}
		switch o.Name {
		case "limit":
			n, u, ok := strings.Cut(v, "/")
			r, err := strconv.ParseUint(n, 10, 32)
			if err != nil || r == 0 {
				return nil, paramErr("bad rate \"%s\"'", v)
			}
			e.rate, e.unit = r, 1
			if ok {
				found := false
				for _, lu := range []struct {
					full string
					secs uint64
				}{{"second", 1}, {"minute", 60}, {"hour", 3600}, {"day", 86400}} {
					if u != "" && strings.HasPrefix(lu.full, strings.ToLower(u)) {
						e.unit, found = lu.secs, true
						break
					}
				}
				if !found {
					return nil, paramErr("bad rate \"%s\"'", v)
				}
			}
			if limitScale*e.unit/e.rate == 0 {
				return nil, paramErr("Rate too fast \"%s\"", v)
			}
		case "limit-burst":
			b, err := strconv.ParseUint(v, 10, 32)
			if err != nil || b > 10000 {
				return nil, badRange(m.Name, o.Name, 0, 10000)
			}
			e.burst = uint32(b)
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
	}
	return e, nil
}

func (e *limit) Name() string                          { return "limit" }
func (e *limit) Revision() (string, uint8, bool, bool) { return "limit", 0, false, false }

func (e *limit) Exprs(Context) ([]expr.Any, error) {
	if e.avg != 0 {
		// Re-emit the compat form it was read from.
		b := newBlob(40)
		b.u32(0, e.avg)
		b.u32(4, e.burst)
		return []expr.Any{&expr.Match{Name: "limit", Info: rawInfo(b)}}, nil
	}
	return []expr.Any{&expr.Limit{Type: expr.LimitTypePkts, Rate: e.rate, Unit: expr.LimitTime(e.unit), Burst: e.burst}}, nil
}

// Save prints the rate the way libxt_limit's print_rate does from the
// average period, so odd rates round as iptables-nft-save rounds them.
func (e *limit) Save(Context) string {
	period := e.period()
	i := 1
	for ; i < len(limitUnits); i++ {
		mult := limitScale * limitUnits[i].secs
		if period > mult || mult/period < mult%period {
			break
		}
	}
	u := limitUnits[i-1]
	s := fmt.Sprintf("-m limit --limit %d/%s", limitScale*u.secs/period, u.name)
	if e.burst != 5 {
		s += fmt.Sprintf(" --limit-burst %d", e.burst)
	}
	return s
}

func decodeLimitNative(ctx Context, exprs []expr.Any) (Ext, int, error) {
	l, _ := at[*expr.Limit](exprs, 0)
	if l.Type != expr.LimitTypePkts || l.Over || l.Rate == 0 || l.Unit == 0 || limitScale*uint64(l.Unit)/l.Rate == 0 {
		return nil, 0, decodeErr("cannot decode limit expression (type %d, over %v, rate %d/%d)", l.Type, l.Over, l.Rate, l.Unit)
	}
	return &limit{rate: l.Rate, unit: uint64(l.Unit), burst: l.Burst}, 1, nil
}
