package syntax

import "testing"

// globalOpts is searched through a switch that returns an entry's index;
// an entry the switch misses, or finds at another index, would silently be
// unknown (the extension tables' twin is in shim/extopts).
func TestTableIndexes(t *testing.T) {
	for i, o := range globalOpts {
		if got := globalIndex(o.long); got != i {
			t.Errorf("globalIndex(%q) = %d, the option is at %d", o.long, got, i)
		}
	}
	for _, name := range []string{"", "x", "KUBE-SVC-X", "Tcp", "tcp ", "appen"} {
		if globalIndex(name) >= 0 {
			t.Errorf("%q found", name)
		}
	}
}

// shortArity is written out by hand; it must agree with globalOpts.
func TestShortArityMatchesGlobalOpts(t *testing.T) {
	var want [256]shortOpt
	want['b'] = shortOpt{ok: true, arity: argNone} // -b: optstring only
	for _, o := range globalOpts {
		if o.short != '0' { // --line-numbers has no short form
			want[o.short] = shortOpt{ok: true, arity: o.arity}
		}
	}
	for c := range want {
		if shortArity[c] != want[c] {
			t.Errorf("shortArity[%q] = %+v, globalOpts say %+v", rune(c), shortArity[c], want[c])
		}
	}
}
