package nfnl

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// TestScan steps through well-formed, padded, nested and truncated
// attribute streams: every attribute that lies whole within the bytes is
// read, in order, and nothing else.
func TestScan(t *testing.T) {
	var a Attrs
	a.String(1, "abc")
	a.U32(2, 7)
	n := a.Nest(3)
	a.U64(1, 9)
	a.End(n)
	a.Bytes(4, []byte{1, 2, 3, 4, 5})
	full := a.B
	type attr struct {
		typ      uint16
		data     []byte
		end      int // where its bytes (unpadded) end
		nextFrom int
	}
	var want []attr
	for off := 0; off < len(full); {
		l := int(binary.NativeEndian.Uint16(full[off:]))
		typ := binary.NativeEndian.Uint16(full[off+2:]) &^ 0xc000
		want = append(want, attr{typ, full[off+4 : off+l], off + l, off})
		off += (l + 3) &^ 3
	}
	if len(want) != 4 || want[2].typ != 3 {
		t.Fatalf("encoding: %v", want)
	}
	for cut := 0; cut <= len(full); cut++ {
		i := 0
		for s := Scan(full[:cut]); s.Next(); i++ {
			if i >= len(want) || want[i].end > cut || s.Type != want[i].typ || !bytes.Equal(s.Data, want[i].data) {
				t.Fatalf("cut at %d: attribute %d = %d %x", cut, i, s.Type, s.Data)
			}
		}
		whole := 0
		for _, w := range want {
			if w.end <= cut {
				whole++
			}
		}
		if i != whole {
			t.Errorf("cut at %d: read %d attributes, %d lie whole within", cut, i, whole)
		}
		if got := ParseAttrs(full[:cut]); len(got) != i {
			t.Errorf("cut at %d: ParseAttrs read %d, Scan %d", cut, len(got), i)
		}
	}
	var inner []uint16
	for s := Scan(want[2].data); s.Next(); {
		inner = append(inner, s.Type)
		if s.U64() != 9 {
			t.Errorf("nested u64 = %d", s.U64())
		}
	}
	if len(inner) != 1 || inner[0] != 1 {
		t.Errorf("nested attributes %v", inner)
	}
}

// FuzzScan reads arbitrary bytes as attributes: nothing may panic, and
// every attribute read must lie within the input.
func FuzzScan(f *testing.F) {
	var a Attrs
	a.String(1, "abc")
	n := a.Nest(3)
	a.U64(1, 9)
	a.End(n)
	f.Add(a.B)
	f.Add([]byte{4, 0, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		total := 0
		for s := Scan(b); s.Next(); {
			total += 4 + len(s.Data)
			if total > len(b) {
				t.Fatalf("read %d bytes of %d", total, len(b))
			}
			for in := Scan(s.Data); in.Next(); {
			}
		}
	})
}
