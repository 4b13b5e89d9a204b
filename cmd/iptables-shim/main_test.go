package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/shim/config"
)

func shim(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = dispatch(append([]string{"/usr/sbin/iptables-shim"}, args...), strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestHelpEverywhere(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-h"}, "Called as iptables-shim"},
		{[]string{"--help"}, "Called as iptables-shim"},
		{[]string{"help"}, "Called as iptables-shim"},
		{[]string{"detect", "-h"}, "Usage: iptables-shim [flags] detect"},
		{[]string{"detect", "--help"}, "Usage: iptables-shim [flags] detect"},
		{[]string{"doctor", "-h"}, "Needs root"},
		{[]string{"install", "-h"}, "Usage: iptables-shim install"},
		{[]string{"--guard=false", "detect", "-h"}, "Usage: iptables-shim [flags] detect"},
	} {
		code, out, errOut := shim(c.args...)
		if code != 0 || !strings.Contains(out, c.want) || errOut != "" {
			t.Errorf("%v: exit %d, stdout %.60q, stderr %q; want 0 and %q on stdout", c.args, code, out, errOut, c.want)
		}
	}
}

// TestHelpListsEverySetting: the flags help shows come from the settings
// table, so every setting the config file takes is a flag.
func TestHelpListsEverySetting(t *testing.T) {
	_, out, _ := shim("-h")
	for _, s := range config.Settings {
		if !strings.Contains(out, "--"+s.Name+"=") {
			t.Errorf("help lacks --%s", s.Name)
		}
	}
}

func TestMistakesAreNamedWithTheNearestWord(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"dcotor"}, `unknown command "dcotor" (did you mean "doctor"?)`},
		{[]string{"detcet"}, `unknown command "detect"`[:0] + `(did you mean "detect"?)`},
		{[]string{"iptables-sav"}, `(did you mean "iptables-save"?)`},
		{[]string{"frobnicate"}, `unknown command "frobnicate"` + "\n"},
		{[]string{"--gaurd=false", "detect"}, `unknown flag --gaurd (did you mean --guard?)`},
		{[]string{"--drop-bit=99", "detect"}, `invalid value "99" for flag --drop-bit: drop-bit "99" is not a bit number 0-31`},
		{[]string{"detect", "--jsn"}, `iptables-shim detect: unknown flag --jsn (did you mean --json?)`},
		{[]string{"doctor", "extra"}, `iptables-shim doctor: unexpected argument "extra"`},
	} {
		code, out, errOut := shim(c.args...)
		if code != 2 || out != "" || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and %q", c.args, code, out, errOut, c.want)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		if code, out, _ := shim(args...); code != 0 || out != "iptables-shim "+version+"\n" {
			t.Errorf("%v: exit %d, %q", args, code, out)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"doctor", "doctor", 0}, {"dcotor", "doctor", 1}, {"detec", "detect", 1}, {"", "abc", 3}, {"abc", "xyz", 3}} {
		if got := editDistance(c.a, c.b); got != c.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
