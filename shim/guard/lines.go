package guard

import (
	"bytes"
	"io"
	"regexp"
	"strconv"
	"sync"
)

// restoreLineRefs are the two ways iptables-restore names an input line in
// its errors: "iptables-restore: line 7 failed" and "Error occurred at
// line: 12". Callers parse them (kube-proxy logs the line and its
// neighbours), so after the guard added lines they must name the caller's
// line again.
//
// Compiled on first use: every iptables call starts this binary, and only
// the rare restore the guard rewrote needs it.
var restoreLineRefs = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(line )([0-9]+)( failed)|(Error occurred at line: )([0-9]+)`)
})

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
	re := restoreLineRefs()
	return re.ReplaceAllFunc(line, func(m []byte) []byte {
		sub := re.FindSubmatch(m)
		prefix, num, suffix := sub[1], sub[2], sub[3]
		if len(prefix) == 0 {
			prefix, num = sub[4], sub[5]
		}
		n, err := strconv.Atoi(string(num))
		if err != nil {
			return m
		}
		if f.first == 0 {
			f.first = n
		}
		out := append([]byte{}, prefix...)
		out = strconv.AppendInt(out, int64(f.lineMap(n)), 10)
		return append(out, suffix...)
	})
}
