package xt

import (
	"math"
	"strconv"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

const (
	statModeRandom = 0
	statModeNth    = 1
	statInvert     = 0x1
)

// statistic is -m statistic (struct xt_statistic_info, rev 0). libxt
// stores "every" minus one and a count of every-packet, which for random
// mode (where every aliases the probability) is the probability itself: the
// kernel's state keeps that value, so the encoder reproduces it.
type statistic struct {
	mode   uint16
	flags  uint16
	prob   uint32 // random: probability * 2^31
	every  uint32 // nth: every-1
	packet uint32
}

func parseStatistic(ctx Context, m syntax.Match) (Ext, error) {
	e := &statistic{}
	var mode string
	var haveProb, haveEvery, havePacket bool
	for _, o := range m.Options {
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		switch o.Name {
		case "mode":
			if err := noInvert(m.Name, o); err != nil {
				return nil, err
			}
			mode = v
		case "probability":
			p, err := strconv.ParseFloat(v, 64)
			if err != nil || p < 0 || p > 1 {
				return nil, badRange(m.Name, o.Name, 0, 1)
			}
			e.prob = uint32(math.Round(0x80000000 * p))
			haveProb = true
		case "every":
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil || n == 0 {
				return nil, badRange(m.Name, o.Name, 1, 0xffffffff)
			}
			e.every, haveEvery = uint32(n-1), true
		case "packet":
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return nil, badRange(m.Name, o.Name, 0, 0xffffffff)
			}
			e.packet, havePacket = uint32(n), true
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
		if o.Invert && o.Name != "mode" {
			e.flags |= statInvert
		}
	}
	if mode == "" {
		// --mode is optional; random is libxt_statistic's default.
		mode = "random"
	}
	switch mode {
	case "random":
		if !haveProb {
			return nil, paramErr("--probability must be specified when using random mode")
		}
		if haveEvery || havePacket {
			return nil, paramErr("statistic: --every and --packet are not valid in random mode")
		}
	case "nth":
		e.mode = statModeNth
		if haveProb {
			return nil, paramErr("statistic: --probability is not valid in nth mode")
		}
		if !haveEvery {
			return nil, paramErr("statistic: no --every specified")
		}
		if !havePacket {
			return nil, alsoRequires("statistic", "every", "packet")
		}
		if e.packet > e.every {
			return nil, paramErr("the --packet p must be 0 <= p <= n-1")
		}
	default:
		return nil, paramErr("Bad mode \"%s\"", mode)
	}
	return e, nil
}

func (e *statistic) Name() string                          { return "statistic" }
func (e *statistic) Revision() (string, uint8, bool, bool) { return "statistic", 0, false, true }

func (e *statistic) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(24)
	b.u16(0, e.mode)
	b.u16(2, e.flags)
	first := e.every
	if e.mode == statModeRandom {
		first = e.prob
	}
	b.u32(4, first)
	b.u32(8, e.packet)
	b.u32(12, first-e.packet)
	return []expr.Any{&expr.Match{Name: "statistic", Info: rawInfo(b)}}, nil
}

func (e *statistic) Save(ctx Context) string { return string(e.appendSave(nil, ctx)) }
func (e *statistic) appendSave(dst []byte, _ Context) []byte {
	inv := ""
	if e.flags&statInvert != 0 {
		inv = " !"
	}
	if e.mode == statModeRandom {
		dst = append(dst, "-m statistic --mode random"...)
		dst = append(dst, inv...)
		dst = append(dst, " --probability "...)
		return strconv.AppendFloat(dst, float64(e.prob)/0x80000000, 'f', 11, 64)
	}
	dst = append(dst, "-m statistic --mode nth"...)
	dst = append(dst, inv...)
	dst = append(dst, " --every "...)
	dst = strconv.AppendUint(dst, uint64(e.every)+1, 10)
	dst = append(dst, " --packet "...)
	return strconv.AppendUint(dst, uint64(e.packet), 10)
}

// decodeStatisticBlob accepts a count field other than libxt's (another
// writer may zero it): it is kernel scratch that -C does not compare.
func decodeStatisticBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match statistic rev %d is not supported", rev)
	}
	if err := checkSize("statistic", rev, data, 24); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &statistic{mode: b.get16(0), flags: b.get16(2), packet: b.get32(8)}
	if e.mode > statModeNth || e.flags&^statInvert != 0 {
		return nil, decodeErr("xt match statistic: unknown mode %d or flags %#x", e.mode, e.flags)
	}
	if e.mode == statModeRandom {
		e.prob = b.get32(4)
		if e.packet != 0 {
			return nil, decodeErr("xt match statistic: random mode with a packet field")
		}
	} else {
		e.every = b.get32(4)
	}
	return e, nil
}
