package xt

import (
	"strconv"
	"strings"
	"sync"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// xt_log_info logflags, in the order libxt_LOG saves them.
var logFlags = []struct {
	opt string
	bit uint8
}{{"log-tcp-sequence", 0x01}, {"log-tcp-options", 0x02}, {"log-ip-options", 0x04}, {"log-uid", 0x08}, {"log-macdecode", 0x20}}

// logLevels are syslog level names libxt_LOG accepts.
var logLevels = sync.OnceValue(func() map[string]uint8 {
	return map[string]uint8{"emerg": 0, "panic": 0, "alert": 1, "crit": 2, "error": 3,
		"warning": 4, "notice": 5, "info": 6, "debug": 7}
})

const (
	logDefaultLevel = 4
	logPrefixLen    = 30 // with its NUL
)

// logTarget is -j LOG (struct xt_log_info, rev 0).
type logTarget struct {
	level, flags uint8
	prefix       string
}

func parseLog(ctx Context, t syntax.Target) (Ext, error) {
	e := &logTarget{level: logDefaultLevel}
	for _, o := range t.Options {
		switch o.Name {
		case "log-level":
			v, err := oneArg(t.Name, o)
			if err != nil {
				return nil, err
			}
			if n, err := strconv.ParseUint(v, 10, 8); err == nil && n <= 7 {
				e.level = uint8(n)
			} else if l, ok := logLevels()[v]; ok {
				e.level = l
			} else {
				return nil, paramErr("log level \"%s\" unknown\n", v)
			}
		case "log-prefix":
			v, err := oneArg(t.Name, o)
			if err != nil {
				return nil, err
			}
			v = cutNUL(v)
			if v == "" {
				return nil, paramErr("Argument must have a minimum length of 1 characters\n")
			}
			// libxt_LOG keeps only what fits, silently.
			if len(v) > logPrefixLen-1 {
				v = v[:logPrefixLen-1]
			}
			e.prefix = v
		default:
			found := false
			for _, f := range logFlags {
				if f.opt == o.Name {
					if err := noArg(t.Name, o); err != nil {
						return nil, err
					}
					e.flags |= f.bit
					found = true
				}
			}
			if !found {
				return nil, unsupportedOption(t.Name, o.Name)
			}
		}
	}
	return e, nil
}

func (e *logTarget) Name() string                          { return "LOG" }
func (e *logTarget) Revision() (string, uint8, bool, bool) { return "LOG", 0, true, true }

func (e *logTarget) Save(Context) string {
	var b strings.Builder
	b.WriteString("-j LOG")
	if e.prefix != "" {
		b.WriteString(" --log-prefix" + saveString(e.prefix))
	}
	if e.level != logDefaultLevel {
		b.WriteString(" --log-level " + strconv.Itoa(int(e.level)))
	}
	for _, f := range logFlags {
		if e.flags&f.bit != 0 {
			b.WriteString(" --" + f.opt)
		}
	}
	return b.String()
}

func (e *logTarget) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(32)
	b.u8(0, e.level)
	b.u8(1, e.flags)
	b.str(2, logPrefixLen, e.prefix)
	return []expr.Any{&expr.Target{Name: "LOG", Info: rawInfo(b)}}, nil
}

func decodeLogBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt target LOG rev %d is not supported", rev)
	}
	if err := checkSize("LOG", rev, data, 32); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &logTarget{level: b.get8(0), flags: b.get8(1)}
	p, ok := b.getStr(2, logPrefixLen)
	if !ok || e.level > 7 || e.flags&^0x2f != 0 || !b.zero(2+len(p), logPrefixLen-len(p)) {
		return nil, decodeErr("xt target LOG: unknown level, flags or prefix")
	}
	e.prefix = p
	return e, nil
}
