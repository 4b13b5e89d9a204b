package detect

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The per-namespace records are read on every iptables call, and
// encoding/json's first use of a struct type (reflection over its fields,
// per type and per process) costs more than the rest of a warm call's
// bookkeeping together. The hot readers (the router's lean decision, the
// dialect record) therefore read the files with the small JSON reader
// below and take the fields they need by name. It is a fast path only:
// whatever it does not read exactly as encoding/json would (a value of
// another type, an escape it does not handle, a malformed file) makes it
// give up, and the caller decodes the file with encoding/json as before.

// errJSONLite means the fast reader gave up; the caller falls back to
// encoding/json.
var errJSONLite = errors.New("jsonlite: not read by the fast path")

// jsonValue is one parsed JSON value.
type jsonValue struct {
	kind byte   // 'o' object, 'a' array, 's' string, 'n' number, 'b' bool, 'z' null
	s    string // a string's contents, a number's literal
	b    bool
	obj  []jsonMember
	arr  []jsonValue
}

type jsonMember struct {
	key string
	val jsonValue
}

// parseJSON reads one JSON document (surrounding white space allowed).
// Members called one of skip, at any depth, are checked but not kept
// (a cached decision's evidence, which the hot path never reads).
func parseJSON(data []byte, skip ...string) (jsonValue, error) {
	p := jsonParser{data: data, skip: skip}
	v, err := p.value(0, true)
	if err != nil {
		return jsonValue{}, err
	}
	p.space()
	if p.i != len(p.data) {
		return jsonValue{}, errJSONLite
	}
	return v, nil
}

type jsonParser struct {
	data []byte
	i    int
	skip []string
}

func (p *jsonParser) skipped(key string) bool {
	for _, s := range p.skip {
		if key == s {
			return true
		}
	}
	return false
}

// maxJSONDepth bounds nesting (the records nest three deep).
const maxJSONDepth = 32

func (p *jsonParser) space() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// value reads one value; without build it is only checked (nothing is
// kept or allocated).
func (p *jsonParser) value(depth int, build bool) (jsonValue, error) {
	if depth > maxJSONDepth {
		return jsonValue{}, errJSONLite
	}
	p.space()
	if p.i >= len(p.data) {
		return jsonValue{}, errJSONLite
	}
	switch c := p.data[p.i]; {
	case c == '{':
		p.i++
		v := jsonValue{kind: 'o'}
		p.space()
		if p.i < len(p.data) && p.data[p.i] == '}' {
			p.i++
			return v, nil
		}
		for {
			p.space()
			key, err := p.str(build)
			if err != nil {
				return jsonValue{}, err
			}
			p.space()
			if p.i >= len(p.data) || p.data[p.i] != ':' {
				return jsonValue{}, errJSONLite
			}
			p.i++
			keep := build && !p.skipped(key)
			val, err := p.value(depth+1, keep)
			if err != nil {
				return jsonValue{}, err
			}
			if keep {
				v.obj = append(v.obj, jsonMember{key, val})
			}
			p.space()
			if p.i >= len(p.data) {
				return jsonValue{}, errJSONLite
			}
			p.i++
			switch p.data[p.i-1] {
			case ',':
				continue
			case '}':
				return v, nil
			}
			return jsonValue{}, errJSONLite
		}
	case c == '[':
		p.i++
		v := jsonValue{kind: 'a'}
		p.space()
		if p.i < len(p.data) && p.data[p.i] == ']' {
			p.i++
			return v, nil
		}
		for {
			val, err := p.value(depth+1, build)
			if err != nil {
				return jsonValue{}, err
			}
			if build {
				v.arr = append(v.arr, val)
			}
			p.space()
			if p.i >= len(p.data) {
				return jsonValue{}, errJSONLite
			}
			p.i++
			switch p.data[p.i-1] {
			case ',':
				continue
			case ']':
				return v, nil
			}
			return jsonValue{}, errJSONLite
		}
	case c == '"':
		s, err := p.str(build)
		return jsonValue{kind: 's', s: s}, err
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if strings.HasPrefix(string(p.data[p.i:min(len(p.data), p.i+5)]), lit) {
				p.i += len(lit)
				if lit == "null" {
					return jsonValue{kind: 'z'}, nil
				}
				return jsonValue{kind: 'b', b: lit == "true"}, nil
			}
		}
		return jsonValue{}, errJSONLite
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.i
		if !p.number() {
			return jsonValue{}, errJSONLite
		}
		if !build {
			return jsonValue{kind: 'n'}, nil
		}
		return jsonValue{kind: 'n', s: string(p.data[start:p.i])}, nil
	}
	return jsonValue{}, errJSONLite
}

// number reads a number as JSON's grammar has it:
// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *jsonParser) number() bool {
	digits := func() int {
		n := 0
		for p.i < len(p.data) && p.data[p.i] >= '0' && p.data[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.i < len(p.data) && p.data[p.i] == '-' {
		p.i++
	}
	if p.i < len(p.data) && p.data[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return false
	}
	if p.i < len(p.data) && p.data[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return false
		}
	}
	if p.i < len(p.data) && (p.data[p.i] == 'e' || p.data[p.i] == 'E') {
		p.i++
		if p.i < len(p.data) && (p.data[p.i] == '+' || p.data[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

// str reads a string: plain characters, the one-letter escapes and \u of
// a character outside the surrogate range; anything else (a surrogate
// pair, invalid UTF-8, a control character) gives up. Without build it
// only checks.
func (p *jsonParser) str(build bool) (string, error) {
	if p.i >= len(p.data) || p.data[p.i] != '"' {
		return "", errJSONLite
	}
	p.i++
	var b []byte // only when there are escapes
	for {
		// The run of plain characters up to the next quote or escape.
		end := bytes.IndexByte(p.data[p.i:], '"')
		if end < 0 {
			return "", errJSONLite
		}
		run := p.data[p.i : p.i+end]
		if esc := bytes.IndexByte(run, '\\'); esc >= 0 {
			run = run[:esc]
		}
		if !printableASCII(run) {
			for _, c := range run {
				if c < 0x20 {
					return "", errJSONLite
				}
			}
			if !utf8.Valid(run) {
				return "", errJSONLite
			}
		}
		p.i += len(run)
		if p.data[p.i] == '"' {
			p.i++
			switch {
			case !build:
				return "", nil
			case b != nil:
				return string(append(b, run...)), nil
			}
			return string(run), nil
		}
		// An escape.
		if build {
			b = append(b, run...)
		}
		if p.i+1 >= len(p.data) {
			return "", errJSONLite
		}
		e := p.data[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			if p.i+4 > len(p.data) {
				return "", errJSONLite
			}
			r, err := strconv.ParseUint(string(p.data[p.i:p.i+4]), 16, 32)
			if err != nil || (r >= 0xd800 && r < 0xe000) {
				return "", errJSONLite
			}
			b = utf8.AppendRune(b, rune(r))
			p.i += 4
		default:
			return "", errJSONLite
		}
	}
}

// printableASCII reports whether every byte of b is in 0x20-0x7f, eight
// bytes at a time (the records are almost all plain ASCII).
func printableASCII(b []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for len(b) >= 8 {
		w := binary.LittleEndian.Uint64(b)
		// A byte with its high bit set, or one below 0x20 (the
		// subtraction borrows into its high bit).
		if w&highs != 0 || (w-0x20*ones)&^w&highs != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c < 0x20 || c >= 0x80 {
			return false
		}
	}
	return true
}

// member is the value of an object's member name as encoding/json assigns
// it: the last member whose key matches, exactly or without case. ok is
// false when there is none (or v is not an object).
func (v jsonValue) member(name string) (jsonValue, bool) {
	var out jsonValue
	found := false
	for _, m := range v.obj {
		if m.key == name || strings.EqualFold(m.key, name) {
			out, found = m.val, true
		}
	}
	return out, found
}

// jsonFields reads members of an object into Go values as encoding/json
// would for the types used here; the first problem sticks in err.
type jsonFields struct {
	v   jsonValue
	err error
}

func (f *jsonFields) fail() { f.err = errJSONLite }

// str reads a string member; absent or null leaves it "".
func (f *jsonFields) str(name string) string {
	m, ok := f.v.member(name)
	switch {
	case !ok || m.kind == 'z':
		return ""
	case m.kind != 's':
		f.fail()
	}
	return m.s
}

func (f *jsonFields) boolean(name string) bool {
	m, ok := f.v.member(name)
	switch {
	case !ok || m.kind == 'z':
		return false
	case m.kind != 'b':
		f.fail()
	}
	return m.b
}

func (f *jsonFields) uint(name string, bits int) uint64 {
	m, ok := f.v.member(name)
	switch {
	case !ok || m.kind == 'z':
		return 0
	case m.kind != 'n':
		f.fail()
		return 0
	}
	n, err := strconv.ParseUint(m.s, 10, bits)
	if err != nil || (len(m.s) > 1 && m.s[0] == '0') {
		f.fail()
	}
	return n
}

func (f *jsonFields) int(name string) int {
	m, ok := f.v.member(name)
	switch {
	case !ok || m.kind == 'z':
		return 0
	case m.kind != 'n':
		f.fail()
		return 0
	}
	n, err := strconv.ParseInt(m.s, 10, strconv.IntSize)
	if err != nil || strings.HasPrefix(strings.TrimPrefix(m.s, "-"), "0") && m.s != "0" {
		f.fail()
	}
	return int(n)
}

// time reads a time.Time as its MarshalJSON writes it (RFC 3339).
func (f *jsonFields) time(name string) time.Time {
	m, ok := f.v.member(name)
	switch {
	case !ok || m.kind == 'z':
		return time.Time{}
	case m.kind != 's':
		f.fail()
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, m.s)
	if err != nil {
		f.fail()
	}
	return t
}

// strings reads an array of strings; absent or null is nil.
func (f *jsonFields) strings(name string) []string {
	m, ok := f.v.member(name)
	switch {
	case !ok || m.kind == 'z':
		return nil
	case m.kind != 'a':
		f.fail()
		return nil
	}
	out := make([]string, 0, len(m.arr))
	for _, e := range m.arr {
		switch e.kind {
		case 's':
			out = append(out, e.s)
		case 'z':
			out = append(out, "")
		default:
			f.fail()
		}
	}
	return out
}

// object reads an object member: ok is false when it is absent or null.
func (f *jsonFields) object(name string) (jsonFields, bool) {
	m, ok := f.v.member(name)
	switch {
	case !ok || m.kind == 'z':
		return jsonFields{}, false
	case m.kind != 'o':
		f.fail()
		return jsonFields{}, false
	}
	return jsonFields{v: m}, true
}

// header reads a record's header fields (recordHeader).
func (f *jsonFields) header() recordHeader {
	return recordHeader{
		Version: f.int("version"),
		NetNS: NetNS{
			Inode:   f.uint("netns", 64),
			Cookie:  f.uint("cookie", 64),
			Boot:    f.str("boot"),
			Initial: f.boolean("initial"),
		},
	}
}
