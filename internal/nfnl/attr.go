package nfnl

import (
	"encoding/binary"
	"strings"

	"golang.org/x/sys/unix"
)

// Attrs builds a netlink attribute stream by appending; the zero value is
// ready to use. nf_tables wants integers in network byte order.
type Attrs struct {
	B []byte
}

func (a *Attrs) header(typ uint16, n int) {
	a.B = binary.NativeEndian.AppendUint16(a.B, uint16(4+n))
	a.B = binary.NativeEndian.AppendUint16(a.B, typ)
}

// Bytes appends an attribute holding b.
func (a *Attrs) Bytes(typ uint16, b []byte) {
	a.header(typ, len(b))
	a.B = pad4(append(a.B, b...))
}

// String appends a NUL-terminated string attribute.
func (a *Attrs) String(typ uint16, s string) {
	a.header(typ, len(s)+1)
	a.B = append(a.B, s...)
	a.B = pad4(append(a.B, 0))
}

// U32 appends a big-endian u32 attribute.
func (a *Attrs) U32(typ uint16, v uint32) {
	a.header(typ, 4)
	a.B = binary.BigEndian.AppendUint32(a.B, v)
}

// U64 appends a big-endian u64 attribute.
func (a *Attrs) U64(typ uint16, v uint64) {
	a.header(typ, 8)
	a.B = binary.BigEndian.AppendUint64(a.B, v)
}

// Nest starts a nested attribute and returns the token End needs.
func (a *Attrs) Nest(typ uint16) int {
	at := len(a.B)
	a.header(typ|unix.NLA_F_NESTED, 0)
	return at
}

// End closes the nested attribute started at at.
func (a *Attrs) End(at int) {
	binary.NativeEndian.PutUint16(a.B[at:], uint16(len(a.B)-at))
}

// Attr is one parsed attribute; Data aliases the parsed buffer.
type Attr struct {
	Type uint16 // without the nested/byte-order flags
	Data []byte
}

// String returns the attribute as a string without its trailing NULs.
func (a Attr) String() string { return strings.TrimRight(string(a.Data), "\x00") }

// U32 returns a big-endian u32 (0 when too short).
func (a Attr) U32() uint32 {
	if len(a.Data) < 4 {
		return 0
	}
	return binary.BigEndian.Uint32(a.Data)
}

// U64 returns a big-endian u64 (0 when too short).
func (a Attr) U64() uint64 {
	if len(a.Data) < 8 {
		return 0
	}
	return binary.BigEndian.Uint64(a.Data)
}

// ParseAttrs splits an attribute stream (with Scan); a truncated tail is
// dropped.
func ParseAttrs(b []byte) []Attr {
	var out []Attr
	for s := Scan(b); s.Next(); {
		out = append(out, s.Attr)
	}
	return out
}

// Scanner steps through an attribute stream without allocating: the
// decoders of a save run it a few million times, nested three deep, where
// ranging over Walk's closures makes them escape to the heap.
type Scanner struct {
	rest []byte
	// Attr is the current attribute after Next returned true.
	Attr
}

// Scan returns a Scanner over b.
func Scan(b []byte) Scanner { return Scanner{rest: b} }

// Next advances to the next attribute; false at the end or at a
// truncated tail.
func (s *Scanner) Next() bool {
	b := s.rest
	if len(b) < 4 {
		return false
	}
	l := int(binary.NativeEndian.Uint16(b))
	if l < 4 || l > len(b) {
		s.rest = nil
		return false
	}
	s.Type = binary.NativeEndian.Uint16(b[2:]) &^ (unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER)
	s.Data = b[4:l]
	if l = (l + 3) &^ 3; l > len(b) {
		s.rest = nil
	} else {
		s.rest = b[l:]
	}
	return true
}
