package detect

import (
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
func parseJSON(data []byte) (jsonValue, error) {
	p := jsonParser{data: data}
	v, err := p.value(0)
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

func (p *jsonParser) value(depth int) (jsonValue, error) {
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
			key, err := p.str()
			if err != nil {
				return jsonValue{}, err
			}
			p.space()
			if p.i >= len(p.data) || p.data[p.i] != ':' {
				return jsonValue{}, errJSONLite
			}
			p.i++
			val, err := p.value(depth + 1)
			if err != nil {
				return jsonValue{}, err
			}
			v.obj = append(v.obj, jsonMember{key, val})
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
			val, err := p.value(depth + 1)
			if err != nil {
				return jsonValue{}, err
			}
			v.arr = append(v.arr, val)
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
		s, err := p.str()
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
// pair, invalid UTF-8, a control character) gives up.
func (p *jsonParser) str() (string, error) {
	if p.i >= len(p.data) || p.data[p.i] != '"' {
		return "", errJSONLite
	}
	p.i++
	start := p.i
	var b []byte // only when there are escapes
	for p.i < len(p.data) {
		c := p.data[p.i]
		switch {
		case c == '"':
			s := p.data[start:p.i]
			p.i++
			if b != nil {
				return string(append(b, s...)), nil
			}
			if !utf8.Valid(s) {
				return "", errJSONLite
			}
			return string(s), nil
		case c < 0x20:
			return "", errJSONLite
		case c == '\\':
			if !utf8.Valid(p.data[start:p.i]) {
				return "", errJSONLite
			}
			b = append(b, p.data[start:p.i]...)
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
			start = p.i
		default:
			p.i++
		}
	}
	return "", errJSONLite
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
