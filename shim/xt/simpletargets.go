package xt

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// This file holds the small fixed-layout targets iptables-nft 1.8.9
// writes as xt targets: TCPMSS, CHECKSUM, CLASSIFY and NFQUEUE.

// xtTarget is the one expression of a compat target.
func xtTarget(name string, rev uint32, b blob) []expr.Any {
	return []expr.Any{&expr.Target{Name: name, Rev: rev, Info: rawInfo(b)}}
}

// parseU16 reads an XTTYPE_UINT16 option value.
func parseU16(ext, opt, v string) (uint16, error) {
	n, tail, ok := strtoulPrefix(v)
	if !ok || tail != "" || n > 0xffff {
		return 0, badRange(ext, opt, 0, 0xffff)
	}
	return uint16(n), nil
}

// tcpmssClamp is XT_TCPMSS_CLAMP_PMTU.
const tcpmssClamp = 0xffff

// tcpmssTarget is -j TCPMSS (struct xt_tcpmss_info).
type tcpmssTarget struct{ mss uint16 }

func parseTCPMSSTarget(ctx Context, t syntax.Target) (Ext, error) {
	var e *tcpmssTarget
	for _, o := range t.Options {
		if e != nil {
			return nil, paramErr("TCPMSS target: Only one option may be specified")
		}
		switch o.Name {
		case "set-mss":
			v, err := oneArg(t.Name, o)
			if err != nil {
				return nil, err
			}
			n, tail, ok := strtoulPrefix(v)
			if !ok || tail != "" || n > 0xffff-40 {
				return nil, badRange(t.Name, o.Name, 0, 0xffff-40)
			}
			e = &tcpmssTarget{mss: uint16(n)}
		case "clamp-mss-to-pmtu":
			e = &tcpmssTarget{mss: tcpmssClamp}
		default:
			return nil, unsupportedOption(t.Name, o.Name)
		}
	}
	if e == nil {
		return nil, paramErr("TCPMSS target: At least one parameter is required")
	}
	return e, nil
}

func (e *tcpmssTarget) Name() string                          { return "TCPMSS" }
func (e *tcpmssTarget) Revision() (string, uint8, bool, bool) { return "TCPMSS", 0, true, true }
func (e *tcpmssTarget) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(2)
	b.u16(0, e.mss)
	return xtTarget("TCPMSS", 0, b), nil
}
func (e *tcpmssTarget) Save(Context) string {
	if e.mss == tcpmssClamp {
		return "-j TCPMSS --clamp-mss-to-pmtu"
	}
	return "-j TCPMSS --set-mss " + strconv.Itoa(int(e.mss))
}

func decodeTCPMSSTargetBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt target TCPMSS rev %d is not supported", rev)
	}
	if err := checkSize("TCPMSS", rev, data, 2); err != nil {
		return nil, err
	}
	b := blob(data)
	if !b.zero(2, len(b)-2) {
		return nil, decodeErr("xt target TCPMSS: unknown data")
	}
	return &tcpmssTarget{mss: b.get16(0)}, nil
}

// checksumTarget is -j CHECKSUM --checksum-fill (struct xt_CHECKSUM_info).
type checksumTarget struct{}

func parseChecksum(ctx Context, t syntax.Target) (Ext, error) {
	seen := false
	for _, o := range t.Options {
		if o.Name != "checksum-fill" {
			return nil, unsupportedOption(t.Name, o.Name)
		}
		seen = true
	}
	if !seen {
		return nil, paramErr("CHECKSUM: option \"--checksum-fill\" must be specified\n")
	}
	return &checksumTarget{}, nil
}

func (e *checksumTarget) Name() string                          { return "CHECKSUM" }
func (e *checksumTarget) Revision() (string, uint8, bool, bool) { return "CHECKSUM", 0, true, true }
func (e *checksumTarget) Save(Context) string                   { return "-j CHECKSUM --checksum-fill" }
func (e *checksumTarget) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(1)
	b.u8(0, 1)
	return xtTarget("CHECKSUM", 0, b), nil
}

func decodeChecksumBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt target CHECKSUM rev %d is not supported", rev)
	}
	if err := checkSize("CHECKSUM", rev, data, 1); err != nil {
		return nil, err
	}
	b := blob(data)
	if b.get8(0) != 1 || !b.zero(1, len(b)-1) {
		return nil, decodeErr("xt target CHECKSUM: operation %d has no iptables form", b.get8(0))
	}
	return &checksumTarget{}, nil
}

// classifyTarget is -j CLASSIFY (struct xt_classify_target_info).
type classifyTarget struct{ priority uint32 }

func parseClassify(ctx Context, t syntax.Target) (Ext, error) {
	var e *classifyTarget
	for _, o := range t.Options {
		if o.Name != "set-class" {
			return nil, unsupportedOption(t.Name, o.Name)
		}
		v, err := oneArg(t.Name, o)
		if err != nil {
			return nil, err
		}
		maj, min, ok := strings.Cut(v, ":")
		a, err1 := strconv.ParseUint(maj, 16, 16)
		b, err2 := strconv.ParseUint(min, 16, 16)
		if !ok || err1 != nil || err2 != nil {
			return nil, paramErr("Bad class value \"%s\"", v)
		}
		e = &classifyTarget{priority: uint32(a)<<16 | uint32(b)}
	}
	if e == nil {
		return nil, mustSpecify("CLASSIFY", "set-class")
	}
	return e, nil
}

func (e *classifyTarget) Name() string                          { return "CLASSIFY" }
func (e *classifyTarget) Revision() (string, uint8, bool, bool) { return "CLASSIFY", 0, true, true }
func (e *classifyTarget) Save(Context) string {
	return fmt.Sprintf("-j CLASSIFY --set-class %04x:%04x", e.priority>>16, e.priority&0xffff)
}
func (e *classifyTarget) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(4)
	b.u32(0, e.priority)
	return xtTarget("CLASSIFY", 0, b), nil
}

func decodeClassifyBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt target CLASSIFY rev %d is not supported", rev)
	}
	if err := checkSize("CLASSIFY", rev, data, 4); err != nil {
		return nil, err
	}
	b := blob(data)
	if !b.zero(4, len(b)-4) {
		return nil, decodeErr("xt target CLASSIFY: unknown data")
	}
	return &classifyTarget{priority: b.get32(0)}, nil
}

// NFQUEUE v3 flags.
const (
	nfqBypass     = 0x01
	nfqCPUFanout  = 0x02
	nfqueueV3Size = 6
)

// nfqueueTarget is -j NFQUEUE (struct xt_NFQ_info_v3, revision 3).
type nfqueueTarget struct {
	num, total, flags uint16
}

func parseNFQueue(ctx Context, t syntax.Target) (Ext, error) {
	e := &nfqueueTarget{total: 1}
	for _, o := range t.Options {
		switch o.Name {
		case "queue-num":
			v, err := oneArg(t.Name, o)
			if err != nil {
				return nil, err
			}
			if e.num, err = parseU16(t.Name, o.Name, v); err != nil {
				return nil, err
			}
		case "queue-balance":
			v, err := oneArg(t.Name, o)
			if err != nil {
				return nil, err
			}
			var r [2]uint32
			rest, n := v, 0
			for ; n < 2; n++ {
				num, after, more := strings.Cut(rest, ":")
				x, tail, ok := strtoulPrefix(num)
				if !ok || tail != "" || x > 0xffff {
					return nil, paramErr("%s: bad value for option \"--%s\" near \"%s\", or out of range (0-65535).\n", t.Name, o.Name, rest)
				}
				r[n] = x
				if !more {
					break
				}
				rest = after
			}
			if n != 1 {
				return nil, paramErr("%s: bad value for option \"--%s\", or out of range (0-65535).\n", t.Name, o.Name)
			}
			if r[0] > r[1] {
				return nil, paramErr("%d should be less than %d", r[0], r[1])
			}
			e.num, e.total = uint16(r[0]), uint16(r[1]-r[0]+1)
		case "queue-bypass":
			e.flags |= nfqBypass
		case "queue-cpu-fanout":
			e.flags |= nfqCPUFanout
		default:
			return nil, unsupportedOption(t.Name, o.Name)
		}
	}
	if e.flags&nfqCPUFanout != 0 && e.total <= 1 {
		return nil, alsoRequires(t.Name, "queue-cpu-fanout", "queue-balance")
	}
	return e, nil
}

func (e *nfqueueTarget) Name() string                          { return "NFQUEUE" }
func (e *nfqueueTarget) Revision() (string, uint8, bool, bool) { return "NFQUEUE", 3, true, true }
func (e *nfqueueTarget) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(nfqueueV3Size)
	b.u16(0, e.num)
	b.u16(2, e.total)
	b.u16(4, e.flags)
	return xtTarget("NFQUEUE", 3, b), nil
}

// options renders the options as libxt_NFQUEUE saves (dashes "--") or
// prints them (dashes "").
func (e *nfqueueTarget) options(dashes string) string {
	var b strings.Builder
	if e.total > 1 {
		fmt.Fprintf(&b, " %squeue-balance %d:%d", dashes, e.num, int(e.num)+int(e.total)-1)
	} else {
		fmt.Fprintf(&b, " %squeue-num %d", dashes, e.num)
	}
	if e.flags&nfqBypass != 0 {
		b.WriteString(" " + dashes + "queue-bypass")
	}
	if e.flags&nfqCPUFanout != 0 {
		b.WriteString(" " + dashes + "queue-cpu-fanout")
	}
	return b.String()
}

func (e *nfqueueTarget) Save(Context) string { return "-j NFQUEUE" + e.options("--") }

func decodeNFQueueBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 3 {
		return nil, decodeErr("xt target NFQUEUE rev %d is not supported", rev)
	}
	if err := checkSize("NFQUEUE", rev, data, nfqueueV3Size); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &nfqueueTarget{num: b.get16(0), total: b.get16(2), flags: b.get16(4)}
	if e.total == 0 || e.flags&^(nfqBypass|nfqCPUFanout) != 0 || int(e.num)+int(e.total)-1 > 0xffff || !b.zero(6, len(b)-6) {
		return nil, decodeErr("xt target NFQUEUE: queue range or flags have no iptables form")
	}
	return e, nil
}

// NFQueueListing is -L's text for an NFQUEUE save form: "NFQUEUE num 3",
// "NFQUEUE balance 0:3 bypass".
func NFQueueListing(save string) string {
	r := strings.NewReplacer(" --queue-num", " num", " --queue-balance", " balance", " --queue-bypass", " bypass", " --queue-cpu-fanout", " cpu-fanout")
	return " NFQUEUE" + r.Replace(strings.TrimPrefix(save, "-j NFQUEUE"))
}
