// Package calllog records what the shim did on each call: the program and
// arguments, the mode and why it was chosen, the backend, the exit status and
// the time taken, and events such as chains the guard created.
//
// The log is off by default and goes only where the operator points it (a
// file or syslog): in iptables mode nothing of ours may reach stdout or
// stderr. A log that cannot be opened or written is ignored, because the
// iptables call must still work.
package calllog

import (
	"fmt"
	"log/syslog"
	"os"
	"strconv"
	"strings"
	"time"
)

// Logger writes one line per record. The zero value and nil discard
// everything.
type Logger struct {
	file   *os.File
	syslog *syslog.Writer
}

// Open returns a logger for spec: "" (off), "syslog", or a file path opened
// for appending. Failures give a logger that discards.
func Open(spec string) *Logger {
	switch spec {
	case "":
		return nil
	case "syslog":
		w, err := syslog.New(syslog.LOG_INFO|syslog.LOG_DAEMON, "iptables-shim")
		if err != nil {
			return nil
		}
		return &Logger{syslog: w}
	}
	f, err := os.OpenFile(spec, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil
	}
	return &Logger{file: f}
}

// Enabled reports whether records go anywhere.
func (l *Logger) Enabled() bool { return l != nil && (l.file != nil || l.syslog != nil) }

// Field is one key=value pair of a record.
type Field struct {
	Key   string
	Value any
}

// F makes a Field.
func F(key string, value any) Field { return Field{key, value} }

// Log writes one record made of an event name and fields, as logfmt.
func (l *Logger) Log(event string, fields ...Field) {
	if !l.Enabled() {
		return
	}
	var b strings.Builder
	if l.file != nil {
		b.WriteString(time.Now().UTC().Format(time.RFC3339Nano))
		b.WriteString(" pid=")
		b.WriteString(strconv.Itoa(os.Getpid()))
		b.WriteByte(' ')
	}
	b.WriteString("event=")
	b.WriteString(event)
	for _, f := range fields {
		b.WriteByte(' ')
		b.WriteString(f.Key)
		b.WriteByte('=')
		b.WriteString(quote(fmt.Sprint(f.Value)))
	}
	b.WriteByte('\n')
	// One write per record: with O_APPEND, concurrent shims' lines do not
	// interleave.
	if l.file != nil {
		_, _ = l.file.WriteString(b.String())
	} else {
		_ = l.syslog.Info(b.String())
	}
}

// Close releases the log.
func (l *Logger) Close() {
	if l == nil {
		return
	}
	if l.file != nil {
		_ = l.file.Close()
	}
	if l.syslog != nil {
		_ = l.syslog.Close()
	}
}

func quote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n\"=\\") {
		return s
	}
	return strconv.Quote(s)
}

// Args renders an argument vector for a record the way a shell would need it
// quoted, so the line can be pasted to reproduce the call.
func Args(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && !strings.ContainsAny(a, " \t\n\"'\\$`!*?[]{}()<>|&;#~") {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}

// Phases times the stages of one call (settings, detection, guard,
// backend, ...) for the "phases" field of its call record, so the log says
// where a slow call spent its time. Marking costs a clock read; a nil
// *Phases ignores marks, so callers need not check.
type Phases struct {
	start, last time.Time
	names       []string
	durs        []time.Duration
}

// NewPhases starts timing at start (the moment main began, say).
func NewPhases(start time.Time) *Phases {
	return &Phases{start: start, last: start, names: make([]string, 0, 16), durs: make([]time.Duration, 0, 16)}
}

// Mark ends the phase called name: the time since the previous mark (or the
// start) is charged to it. A name marked twice adds up.
func (p *Phases) Mark(name string) {
	if p == nil {
		return
	}
	now := time.Now()
	d := now.Sub(p.last)
	p.last = now
	for i, n := range p.names {
		if n == name {
			p.durs[i] += d
			return
		}
	}
	p.names = append(p.names, name)
	p.durs = append(p.durs, d)
}

// Total is the time from the start to the last mark.
func (p *Phases) Total() time.Duration {
	if p == nil {
		return 0
	}
	return p.last.Sub(p.start)
}

// String renders the phases in the order first marked, as
// "name=1.234ms name=0.056ms" (microsecond precision), the form the call
// record's phases field and bench/callcost read.
func (p *Phases) String() string {
	if p == nil {
		return ""
	}
	var b strings.Builder
	for i, n := range p.names {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(n)
		b.WriteByte('=')
		b.WriteString(strconv.FormatFloat(float64(p.durs[i].Microseconds())/1000, 'f', 3, 64))
		b.WriteString("ms")
	}
	return b.String()
}

// ParsePhases reads a phases field back (as String writes it) into
// durations by name; malformed parts are skipped.
func ParsePhases(s string) map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, part := range strings.Fields(s) {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			continue
		}
		out[k] += d
	}
	return out
}
