package xt

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// cpuMatch is -m cpu (struct xt_cpu_info): the CPU handling the packet.
type cpuMatch struct {
	cpu    uint32
	invert bool
}

func parseCPU(ctx Context, m syntax.Match) (Ext, error) {
	var e *cpuMatch
	for _, o := range m.Options {
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		if o.Name != "cpu" {
			return nil, unsupportedOption(m.Name, o.Name)
		}
		n, tail, ok := strtoulPrefix(v)
		if !ok || tail != "" {
			return nil, badRange(m.Name, o.Name, 0, 0xffffffff)
		}
		e = &cpuMatch{cpu: n, invert: o.Invert}
	}
	if e == nil {
		return nil, mustSpecify("cpu", "cpu")
	}
	return e, nil
}

func (e *cpuMatch) Name() string                          { return "cpu" }
func (e *cpuMatch) Revision() (string, uint8, bool, bool) { return "cpu", 0, false, true }
func (e *cpuMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(8)
	b.u32(0, e.cpu)
	if e.invert {
		b.u32(4, 1)
	}
	return xtMatch("cpu", 0, b), nil
}
func (e *cpuMatch) Save(Context) string {
	return fmt.Sprintf("-m cpu %s--cpu %d", invertSave(e.invert), e.cpu)
}

// List prints "cpu 3" or "cpu ! 3".
func (e *cpuMatch) List(bool) string { return fmt.Sprintf(" cpu %s%d", invertSave(e.invert), e.cpu) }

func decodeCPUBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match cpu rev %d is not supported", rev)
	}
	if err := checkSize("cpu", rev, data, 8); err != nil {
		return nil, err
	}
	b := blob(data)
	if b.get32(4) > 1 {
		return nil, decodeErr("xt match cpu: invert flag %d", b.get32(4))
	}
	return &cpuMatch{cpu: b.get32(0), invert: b.get32(4) == 1}, nil
}

// quotaMatch is -m quota (struct xt_quota_info): a byte budget. The
// kernel keeps the remaining quota in a private struct its master pointer
// (the last 8 bytes) refers to, so a dump shows the configured quota.
type quotaMatch struct {
	quota  uint64
	invert bool
}

// xtQuotaInvert is XT_QUOTA_INVERT.
const xtQuotaInvert = 1

// parseU64 reads a number as strtoull(s, &end, 0) with nothing after it.
func parseU64(s string) (uint64, bool) {
	if s == "" || strings.ContainsAny(s, "_+-") || (s[0] < '0' || s[0] > '9') {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 0, 64)
	return v, err == nil
}

func parseQuota(ctx Context, m syntax.Match) (Ext, error) {
	var e *quotaMatch
	for _, o := range m.Options {
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		if o.Name != "quota" {
			return nil, unsupportedOption(m.Name, o.Name)
		}
		n, ok := parseU64(v)
		if !ok {
			return nil, badRange(m.Name, o.Name, 0, ^uint64(0))
		}
		e = &quotaMatch{quota: n, invert: o.Invert}
	}
	if e == nil {
		return nil, mustSpecify("quota", "quota")
	}
	return e, nil
}

func (e *quotaMatch) Name() string                          { return "quota" }
func (e *quotaMatch) Revision() (string, uint8, bool, bool) { return "quota", 0, false, true }
func (e *quotaMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(24)
	if e.invert {
		b.u32(0, xtQuotaInvert)
	}
	b.u64(8, e.quota)
	return xtMatch("quota", 0, b), nil
}
func (e *quotaMatch) Save(Context) string {
	return fmt.Sprintf("-m quota %s--quota %d", invertSave(e.invert), e.quota)
}

// List prints "quota: 5 bytes"; libxt_quota 1.8.9 prints no "!".
func (e *quotaMatch) List(bool) string { return fmt.Sprintf(" quota: %d bytes", e.quota) }

func decodeQuotaBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match quota rev %d is not supported", rev)
	}
	if err := checkSize("quota", rev, data, 24); err != nil {
		return nil, err
	}
	b := blob(data)
	if b.get32(0)&^xtQuotaInvert != 0 {
		return nil, decodeErr("xt match quota: unknown flags 0x%x", b.get32(0))
	}
	return &quotaMatch{quota: b.get64(8), invert: b.get32(0)&xtQuotaInvert != 0}, nil
}
