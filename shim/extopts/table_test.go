package extopts

import "testing"

// The tables are searched through switches that return an entry's index;
// an entry the switch misses, or finds at another index, would silently be
// unknown.
func TestTableIndexes(t *testing.T) {
	for i, e := range matchTable {
		if got := matchIndex(e.name); got != i {
			t.Errorf("matchIndex(%q) = %d, the entry is at %d", e.name, got, i)
		}
	}
	for i, e := range targetTable {
		if got := targetIndex(e.name); got != i {
			t.Errorf("targetIndex(%q) = %d, the entry is at %d", e.name, got, i)
		}
	}
	for _, name := range []string{"", "x", "KUBE-SVC-X", "Tcp", "tcp ", "appen"} {
		if matchIndex(name) >= 0 || targetIndex(name) >= 0 {
			t.Errorf("%q found", name)
		}
	}
}

func TestExtensionTables(t *testing.T) {
	for _, tc := range []struct {
		table  []extension
		target bool
	}{{matchTable, false}, {targetTable, true}} {
		for _, e := range tc.table {
			if e.target != tc.target {
				t.Errorf("%s: target is %v in the table of target=%v", e.name, e.target, tc.target)
			}
			// instance.used has one bit per option.
			if len(e.opts) > 64 {
				t.Errorf("%s: %d options, at most 64", e.name, len(e.opts))
			}
			seen := map[string]bool{}
			for _, o := range e.opts {
				for _, n := range []string{o.name, o.alias} {
					if n == "" {
						continue
					}
					if seen[n] {
						t.Errorf("%s: option name %q twice", e.name, n)
					}
					seen[n] = true
				}
			}
		}
	}
}
