package xt

import (
	"strconv"
	"strings"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

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
	// rangeGiven records --nflog-range, which 1.8.9 accepts with a
	// warning and leaves out of the rule: the kernel never used it.
	rangeGiven bool
}

// nflogRangeWarning is what libxt_NFLOG 1.8.9 prints for --nflog-range.
const nflogRangeWarning = "warn: --nflog-range has never worked and is no longer supported, please use --nflog-size instead"

// ParseWarnings is libxt_NFLOG's final check: the --nflog-range warning.
func (e *nflogTarget) ParseWarnings() []string {
	if e.rangeGiven {
		return []string{nflogRangeWarning}
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
			if _, tail, ok := strtoulPrefix(v); !ok || tail != "" {
				return nil, badRange(t.Name, o.Name, 0, 0xffffffff)
			}
			// 1.8.9 warns and drops it: the kernel never used it.
			e.rangeGiven = true
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

// Save prints as libxt_NFLOG 1.8.9 does.
func (e *nflogTarget) Save(Context) string { return "-j NFLOG" + e.options("--") }

// options renders the options with the given prefix ("--" for save, ""
// for -L).
func (e *nflogTarget) options(dashes string) string {
	var b strings.Builder
	if e.prefix != "" {
		b.WriteString(" " + dashes + "nflog-prefix" + saveString(e.prefix))
	}
	if e.group != 0 {
		b.WriteString(" " + dashes + "nflog-group " + strconv.Itoa(int(e.group)))
	}
	if e.hasSize {
		b.WriteString(" " + dashes + "nflog-size " + strconv.FormatUint(uint64(e.size), 10))
	}
	if e.threshold != 0 {
		b.WriteString(" " + dashes + "nflog-threshold " + strconv.Itoa(int(e.threshold)))
	}
	return b.String()
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
