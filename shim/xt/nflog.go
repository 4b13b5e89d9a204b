package xt

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// nflogPrefixLen is the kernel's limit on a log prefix (NF_LOG_PREFIXLEN),
// with its NUL.
const nflogPrefixLen = 128

// nflogTarget is -j NFLOG, which iptables-nft 1.8.9 writes natively as a
// log expression with a group (nft's "log group N"): prefix when set,
// snaplen for --nflog-size, qthreshold when not zero.
type nflogTarget struct {
	group     uint16
	prefix    string
	size      uint32
	hasSize   bool
	threshold uint16
	// rangeWarning is the warning --nflog-range draws (1.8.9 accepts it
	// and leaves it out of the rule: the kernel never used it).
	rangeWarning string
	// rangeLen is --nflog-range as 1.8.7 keeps it, in xt_nflog_info's
	// len without the copy-length flag (and as every version prints it
	// back from there).
	rangeLen uint32
}

// nflogRangeWarning is what libxt_NFLOG 1.8.9 prints for --nflog-range;
// 1.8.7's has a typo ("insted").
const nflogRangeWarning = "warn: --nflog-range has never worked and is no longer supported, please use --nflog-size instead"

// ParseWarnings is libxt_NFLOG's final check: the --nflog-range warning.
func (e *nflogTarget) ParseWarnings() []string {
	if e.rangeWarning != "" {
		return []string{e.rangeWarning}
	}
	return nil
}

func parseNFLOG(ctx Context, t syntax.Target) (Ext, error) {
	e := &nflogTarget{}
	for _, o := range t.Options {
		v, err := oneArg(t.Name, o)
		if err != nil {
			return nil, err
		}
		v = cutNUL(v)
		switch o.Name {
		case "nflog-group":
			n, tail, ok := strtoulPrefix(v)
			if !ok || tail != "" || n > 0xffff {
				return nil, badRange(t.Name, o.Name, 0, 0xffff)
			}
			e.group = uint16(n)
		case "nflog-prefix":
			if v == "" {
				return nil, paramErr("Argument must have a minimum length of 1 characters\n")
			}
			// Written to the log expression whole: 1.8.9 does not cut
			// it to xt_nflog_info's 64 bytes in nf_tables mode.
			e.prefix = v
		case "nflog-range":
			n, tail, ok := strtoulPrefix(v)
			if !ok || tail != "" {
				return nil, badRange(t.Name, o.Name, 0, 0xffffffff)
			}
			// Both warn; 1.8.9 drops it (the kernel never used it),
			// 1.8.7 keeps it in the rule.
			e.rangeWarning = nflogRangeWarning
			if ctx.Dialect == dialect.V187 {
				e.rangeWarning = strings.Replace(nflogRangeWarning, "instead", "insted", 1)
				e.rangeLen = n
			}
		case "nflog-size":
			n, tail, ok := strtoulPrefix(v)
			if !ok || tail != "" {
				return nil, badRange(t.Name, o.Name, 0, 0xffffffff)
			}
			e.size, e.hasSize = n, true
		case "nflog-threshold":
			n, tail, ok := strtoulPrefix(v)
			if !ok || tail != "" || n > 0xffff {
				return nil, badRange(t.Name, o.Name, 0, 0xffff)
			}
			e.threshold = uint16(n)
		default:
			return nil, unsupportedOption(t.Name, o.Name)
		}
	}
	if e.rangeWarning != "" && e.hasSize {
		// libxt_NFLOG's options exclude each other, checked after the
		// parse: the warning is out by then.
		return nil, warnedParamErr(e.rangeWarning, "NFLOG: option \"--nflog-range\" cannot be used together with \"--nflog-size\".\n")
	}
	return e, nil
}

func (e *nflogTarget) Name() string                          { return "NFLOG" }
func (e *nflogTarget) Revision() (string, uint8, bool, bool) { return "NFLOG", 0, true, false }

func (e *nflogTarget) Exprs(Context) ([]expr.Any, error) {
	l := &expr.Log{Key: 1 << unix.NFTA_LOG_GROUP, Group: e.group}
	if e.hasSize {
		l.Key |= 1 << unix.NFTA_LOG_SNAPLEN
		l.Snaplen = e.size
	}
	if e.threshold != 0 {
		l.Key |= 1 << unix.NFTA_LOG_QTHRESHOLD
		l.QThreshold = e.threshold
	}
	if e.prefix != "" {
		l.Key |= 1 << unix.NFTA_LOG_PREFIX
		l.Data = []byte(e.prefix)
	}
	return []expr.Any{l}, nil
}

// Save prints as libxt_NFLOG of the context's dialect does: 1.8.7 puts
// two spaces after --nflog-prefix.
func (e *nflogTarget) Save(ctx Context) string {
	return "-j NFLOG" + e.options("--", ctx.Dialect == dialect.V187)
}

// options renders the options with the given prefix ("--" for save, ""
// for -L).
func (e *nflogTarget) options(dashes string, wide bool) string {
	var b strings.Builder
	if e.prefix != "" {
		b.WriteString(" " + dashes + "nflog-prefix")
		if wide {
			b.WriteByte(' ')
		}
		b.WriteString(saveString(e.prefix))
	}
	if e.group != 0 {
		b.WriteString(" " + dashes + "nflog-group " + strconv.Itoa(int(e.group)))
	}
	if e.hasSize {
		b.WriteString(" " + dashes + "nflog-size " + strconv.FormatUint(uint64(e.size), 10))
	} else if e.rangeLen != 0 {
		b.WriteString(" " + dashes + "nflog-range " + strconv.FormatUint(uint64(e.rangeLen), 10))
	}
	if e.threshold != 0 {
		b.WriteString(" " + dashes + "nflog-threshold " + strconv.Itoa(int(e.threshold)))
	}
	return b.String()
}

// xt_nflog_info's layout (linux/netfilter/xt_NFLOG.h): len, group,
// threshold, flags, pad, then the prefix, NUL-terminated.
const (
	nflogInfoSize   = 4 + 2 + 2 + 2 + 2 + nflogInfoPrefix
	nflogInfoPrefix = 64
	// nflogCopyLen is XT_NFLOG_F_COPY_LEN: len is --nflog-size.
	nflogCopyLen = 0x1
)

// blob is the target as xt_nflog_info, as libxt_NFLOG fills it in xt
// mode (iptables-nft 1.8.7): the prefix cut to 63 bytes.
func (e *nflogTarget) blob() blob {
	b := newBlob(nflogInfoSize)
	if e.hasSize {
		b.u32(0, e.size)
		b.u16(8, nflogCopyLen)
	} else {
		b.u32(0, e.rangeLen)
	}
	b.u16(4, e.group)
	b.u16(6, e.threshold)
	copy(b[12:12+nflogInfoPrefix-1], e.prefix)
	return b
}

// decodeNFLOGBlob reads xt NFLOG rev 0, as iptables-nft 1.8.7 writes it.
func decodeNFLOGBlob(_ Context, rev uint32, b []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt target NFLOG rev %d is not supported", rev)
	}
	if err := checkSize("NFLOG", rev, b, nflogInfoSize); err != nil {
		return nil, err
	}
	flags := hostOrder.Uint16(b[8:])
	if flags&^nflogCopyLen != 0 {
		return nil, decodeErr("NFLOG flags %#x", flags)
	}
	e := &nflogTarget{group: hostOrder.Uint16(b[4:]), threshold: hostOrder.Uint16(b[6:])}
	if flags&nflogCopyLen != 0 {
		e.size, e.hasSize = hostOrder.Uint32(b[0:]), true
	} else {
		e.rangeLen = hostOrder.Uint32(b[0:])
	}
	prefix := b[12 : 12+nflogInfoPrefix]
	if i := bytes.IndexByte(prefix, 0); i >= 0 {
		prefix = prefix[:i]
	}
	e.prefix = string(prefix)
	return e, nil
}

// decodeNFLOGNative reads the log expression NFLOG is written as.
func decodeNFLOGNative(ctx Context, exprs []expr.Any) (Ext, int, error) {
	l, _ := at[*expr.Log](exprs, 0)
	known := uint32(1<<unix.NFTA_LOG_GROUP | 1<<unix.NFTA_LOG_PREFIX | 1<<unix.NFTA_LOG_SNAPLEN | 1<<unix.NFTA_LOG_QTHRESHOLD)
	if l.Key&(1<<unix.NFTA_LOG_GROUP) == 0 || l.Key&^known != 0 || len(l.Data) > nflogPrefixLen-1 {
		return nil, 0, decodeErr("cannot decode %s as NFLOG", describe(l))
	}
	e := &nflogTarget{group: l.Group, prefix: string(l.Data), threshold: l.QThreshold}
	if l.Key&(1<<unix.NFTA_LOG_SNAPLEN) != 0 {
		e.size, e.hasSize = l.Snaplen, true
	}
	if strings.IndexByte(e.prefix, 0) >= 0 {
		return nil, 0, decodeErr("NFLOG prefix with a NUL")
	}
	return e, 1, nil
}

// NFLOGListing is -L's text for an NFLOG target's save form.
func NFLOGListing(save string) string {
	return strings.ReplaceAll(strings.TrimPrefix(save, "-j NFLOG"), " --nflog-", " nflog-")
}
