package guard

import (
	"bytes"
	"io"
	"strconv"
)

// The two ways iptables-restore names an input line in its errors:
// "iptables-restore: line 7 failed" and "Error occurred at line: 12".
// Callers parse them (kube-proxy logs the line and its neighbours), so
// after the guard added lines they must name the caller's line again.
// (Matched by hand: linking package regexp costs every call of the shim
// its package initialisation, which builds Unicode tables.)
const (
	lineRefFailed     = "line "
	lineRefFailedTail = " failed"
	lineRefOccurred   = "Error occurred at line: "
)

// digitsAt is the length of the run of ASCII digits at the start of b.
func digitsAt(b []byte) int {
	n := 0
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		n++
	}
	return n
}

// lineRefAt matches a line reference at the start of b: the prefix and
// digits, the length of the whole match (0: none).
func lineRefAt(b []byte) (prefix, num []byte, n int) {
	if bytes.HasPrefix(b, []byte(lineRefFailed)) {
		d := digitsAt(b[len(lineRefFailed):])
		rest := b[len(lineRefFailed)+d:]
		if d > 0 && bytes.HasPrefix(rest, []byte(lineRefFailedTail)) {
			return b[:len(lineRefFailed)], b[len(lineRefFailed) : len(lineRefFailed)+d], len(lineRefFailed) + d + len(lineRefFailedTail)
		}
	}
	if bytes.HasPrefix(b, []byte(lineRefOccurred)) {
		if d := digitsAt(b[len(lineRefOccurred):]); d > 0 {
			return b[:len(lineRefOccurred)], b[len(lineRefOccurred) : len(lineRefOccurred)+d], len(lineRefOccurred) + d
		}
	}
	return nil, nil, 0
}

// LineFixer is a writer that passes a real iptables-restore's stderr
// through, rewriting the line numbers it reports with a line map from
// Plan.Apply. It works line by line; Close flushes a last partial line.
type LineFixer struct {
	w       io.Writer
	lineMap func(int) int
	buf     []byte
	first   int
}

// FirstLine is the first input line number the backend named (counted in
// the text it read, before mapping), 0 when it named none: the line a
// failed restore stopped at.
func (f *LineFixer) FirstLine() int { return f.first }

// NewLineFixer returns a LineFixer writing to w.
func NewLineFixer(w io.Writer, lineMap func(int) int) *LineFixer {
	return &LineFixer{w: w, lineMap: lineMap}
}

// Write implements io.Writer.
func (f *LineFixer) Write(p []byte) (int, error) {
	f.buf = append(f.buf, p...)
	for {
		i := bytes.IndexByte(f.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		if _, err := f.w.Write(f.fix(f.buf[:i+1])); err != nil {
			return len(p), err
		}
		f.buf = f.buf[i+1:]
	}
}

// Close writes what is left of an unfinished line.
func (f *LineFixer) Close() error {
	if len(f.buf) == 0 {
		return nil
	}
	_, err := f.w.Write(f.fix(f.buf))
	f.buf = nil
	return err
}

func (f *LineFixer) fix(line []byte) []byte {
	var out []byte
	done := 0 // line[:done] is in out
	for i := 0; i < len(line); {
		prefix, num, n := lineRefAt(line[i:])
		if n == 0 {
			i++
			continue
		}
		if v, err := strconv.Atoi(string(num)); err == nil {
			if f.first == 0 {
				f.first = v
			}
			out = append(out, line[done:i]...)
			out = append(out, prefix...)
			out = strconv.AppendInt(out, int64(f.lineMap(v)), 10)
			out = append(out, line[i+len(prefix)+len(num):i+n]...)
			done = i + n
		}
		i += n
	}
	if out == nil {
		return line
	}
	return append(out, line[done:]...)
}
