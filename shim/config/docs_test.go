package config

import (
	"os"
	"strings"
	"testing"
)

// TestREADMESettingsTable keeps the README's settings table true: one row
// per setting, with its environment variable and its built-in default.
func TestREADMESettingsTable(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.Trim(strings.TrimSpace(cells[i]), "`")
		}
		rows[cells[0]] = cells
	}
	d := Default()
	for _, s := range Settings {
		row, ok := rows[s.Name]
		if !ok {
			t.Errorf("README has no row for setting %s", s.Name)
			continue
		}
		want := d.Get(s.Name)
		if want == "" {
			want = "off"
		}
		if len(row) < 3 || row[1] != s.Env || row[2] != want {
			t.Errorf("README row %q: want environment %s and default %s", row, s.Env, want)
		}
	}
}

// TestDifferencesPageStatesTheDefault: the page listing deviations from
// iptables says which unknown-chains behaviour is the default.
func TestDifferencesPageStatesTheDefault(t *testing.T) {
	data, err := os.ReadFile("../../docs/differences.md")
	if err != nil {
		t.Fatal(err)
	}
	want := "The current default is `unknown-chains=" + Default().UnknownChains + "`"
	if !strings.Contains(strings.Join(strings.Fields(string(data)), " "), want) {
		t.Errorf("docs/differences.md does not say %q", want)
	}
}
