package nfnl

import (
	"reflect"
	"testing"
)

// TestScanAgreesWithParseAttrs steps through well-formed, padded, nested
// and truncated attribute streams with Scanner and ParseAttrs.
func TestScanAgreesWithParseAttrs(t *testing.T) {
	var a Attrs
	a.String(1, "abc")
	a.U32(2, 7)
	n := a.Nest(3)
	a.U64(1, 9)
	a.End(n)
	a.Bytes(4, []byte{1, 2, 3, 4, 5})
	full := a.B
	for cut := 0; cut <= len(full); cut++ {
		b := full[:cut]
		var got []Attr
		for s := Scan(b); s.Next(); {
			got = append(got, s.Attr)
		}
		if want := ParseAttrs(b); !reflect.DeepEqual(got, want) {
			t.Errorf("cut at %d: Scan %v, ParseAttrs %v", cut, got, want)
		}
	}
}
