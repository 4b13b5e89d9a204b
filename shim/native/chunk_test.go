package native

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/kubepayload"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// TestChunkedTextMatchesWholeParse checks that parsing in pieces yields
// the lines a whole parse yields, with the same numbers, for piece sizes
// that cut sections at every kind of line.
func TestChunkedTextMatchesWholeParse(t *testing.T) {
	texts := map[string]string{
		"kube":   kubepayload.Generate(kubepayload.Options{Services: 5}).Text,
		"ipvs":   kubepayload.Generate(kubepayload.Options{Services: 3, Shape: kubepayload.IPVSMode}).Text,
		"shapes": "# head\n\n*filter\n:A - [0:0]\n\n# in table\n-A A -j ACCEPT\nCOMMIT\n\n*nat\nCOMMIT\n*raw\n-A PREROUTING -j ACCEPT\n-A PREROUTING -j RETURN\nCOMMIT",
	}
	for name, text := range texts {
		o := syntax.RestoreOptions{Family: syntax.IPv4}
		whole, err := syntax.ParseRestoreWith(strings.NewReader(text), o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, size := range []int{1, 2, 3, 7, 1 << 20} {
			c := newChunkedText([]byte(text), o, nil)
			c.size = size
			var got []syntax.Line
			if err := c.each(func(p *syntax.Payload) error {
				got = append(got, p.Lines...)
				return nil
			}); err != nil {
				t.Fatalf("%s/%d: %v", name, size, err)
			}
			if !reflect.DeepEqual(got, whole.Lines) {
				for i := range min(len(got), len(whole.Lines)) {
					if !reflect.DeepEqual(got[i], whole.Lines[i]) {
						t.Errorf("%s/%d: line %d: got %+v, want %+v", name, size, i, got[i], whole.Lines[i])
						break
					}
				}
				t.Errorf("%s/%d: %d lines, want %d", name, size, len(got), len(whole.Lines))
			}
		}
	}
}

// TestChunkedTextErrorsAreWholeParseErrors: structure the scan does not
// take as plain, and pieces that fail to parse, give syntax's own error for
// the whole text.
func TestChunkedTextErrorsAreWholeParseErrors(t *testing.T) {
	for _, text := range []string{
		"*filter\n-A INPUT -j ACCEPT\n-A INPUT --bogus\nCOMMIT\n",
		"*filter\n-A INPUT -j ACCEPT\n-A INPUT -j ACCEPT\n",
		"-A INPUT -j ACCEPT\n*filter\nCOMMIT\n",
		"*bogus\n-A INPUT -j ACCEPT\nCOMMIT\n",
		"*\nCOMMIT\n",
	} {
		o := syntax.RestoreOptions{Family: syntax.IPv4}
		_, want := syntax.ParseRestoreWith(strings.NewReader(text), o)
		c := newChunkedText([]byte(text), o, nil)
		c.size = 1
		got := c.each(func(*syntax.Payload) error { return nil })
		// Parse errors come marked as such (a restore commits the
		// sections before them first).
		var pf *parseFailure
		if errors.As(got, &pf) {
			got = pf.err
		} else {
			t.Errorf("%q: %v is not marked a parse failure", text, got)
		}
		if want == nil || got == nil || got.Error() != want.Error() || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: got %v, want %v", text, got, want)
		}
	}
}
