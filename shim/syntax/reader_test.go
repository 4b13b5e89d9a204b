package syntax

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/iptables-shim/iptables-shim/shim/ipterr"
)

// TestParseRestoreReaders parses the same payload from readers that hand
// it over whole, a byte at a time, and with the last data together with
// io.EOF: the lines read must not depend on how the input arrives.
func TestParseRestoreReaders(t *testing.T) {
	for _, payload := range []string{kubeProxyIptablesMode, kubeProxy113IPVS, strings.TrimSuffix(kubeProxyIptablesMode, "\n")} {
		want, err := ParseRestore(strings.NewReader(payload), IPv4)
		if err != nil {
			t.Fatal(err)
		}
		for name, r := range map[string]io.Reader{
			"one byte": iotest.OneByteReader(strings.NewReader(payload)),
			"data+EOF": iotest.DataErrReader(strings.NewReader(payload)),
			"half":     iotest.HalfReader(strings.NewReader(payload)),
		} {
			got, err := ParseRestore(r, IPv4)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: payload differs", name)
			}
		}
	}
}

// TestParseRestoreReadErrorOrder checks that, as with a line-by-line read,
// a bad line before the point where reading fails is reported as such, and
// a read failure after good lines is reported as a read error.
func TestParseRestoreReadErrorOrder(t *testing.T) {
	broken := errors.New("broken pipe")
	read := func(s string) error {
		_, err := ParseRestore(io.MultiReader(strings.NewReader(s), iotest.ErrReader(broken)), IPv4)
		return err
	}
	if err := read("*filter\n-A INPUT --bogus\n-A INPUT"); DiagnosticOf(err) == nil || !ipterr.Is(err, ipterr.Parameter) {
		t.Errorf("bad line before the failure: got %v, want the parameter problem", err)
	}
	if err := read("*filter\n-A INPUT -j ACCEPT\n-A INP"); !errors.Is(err, broken) {
		t.Errorf("good lines, then failure: got %v, want the read error", err)
	}
}

// TestParsedListsDoNotAlias checks that the lists of a parsed rule are cut
// with no spare capacity from the arrays shared by a payload: appending
// to one must not change the next rule.
func TestParsedListsDoNotAlias(t *testing.T) {
	p, err := ParseRestore(strings.NewReader("*filter\n"+
		"-A INPUT -m comment --comment one -m mark --mark 1 -j MARK --set-xmark 2\n"+
		"-A INPUT -m comment --comment two -m mark --mark 3 -j MARK --set-xmark 4\n"+
		"COMMIT\n"), IPv4)
	if err != nil {
		t.Fatal(err)
	}
	first, second := p.Lines[1].Cmd.Rule, p.Lines[2].Cmd.Rule
	want := RuleWords(second, false)
	_ = append(first.Matches, Match{Name: "x"})
	_ = append(first.Matches[0].Options, Option{Name: "x"})
	_ = append(first.Matches[0].Options[0].Args, "x")
	_ = append(first.Target.Options, Option{Name: "x"})
	_ = append(first.Target.Options[0].Args, "x")
	if got := RuleWords(second, false); !reflect.DeepEqual(got, want) {
		t.Errorf("appending to the first rule changed the second:\n%q\n%q", want, got)
	}
}
