package config

import (
	"bytes"
	"flag"
	"io"
	"strings"
	"testing"
)

// TestEverySettingRoundTrips: each entry of the table is known to the
// parser and the renderer, so a setting cannot exist in one and not the
// other.
func TestEverySettingRoundTrips(t *testing.T) {
	d := Default()
	seen := map[string]bool{}
	for _, s := range Settings {
		if seen[s.Name] || seen[s.Env] || !strings.HasPrefix(s.Env, "IPTABLES_SHIM_") || s.Help == "" || s.Values == "" {
			t.Errorf("%+v: duplicate or incomplete entry", s)
		}
		seen[s.Name], seen[s.Env] = true, true
		v := d.Get(s.Name)
		if v == "" && s.Name != "log" {
			t.Errorf("%s: Get renders nothing", s.Name)
			continue
		}
		c := Default()
		if err := c.Set(s.Name, v, "test"); err != nil && s.Name != "log" {
			t.Errorf("%s: the default %q does not parse back: %v", s.Name, v, err)
		}
		if c.Get(s.Name) != v {
			t.Errorf("%s: %q became %q", s.Name, v, c.Get(s.Name))
		}
	}
}

func TestFlagsSetEverySetting(t *testing.T) {
	c := Default()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.RegisterFlags(fs)
	args := []string{"--mode=legacy", "--nft", "native", "--log=/tmp/l", "--backend-dirs=/a:/b", "--host-root=/host",
		"--cache-dir=/c", "--detect-wait=1s", "--default-mode=legacy", "--guard=false", "--unknown-chains=refuse",
		"--drop-bit=3", "--masquerade-bit=4", "--guard-era=1.19", "--guard-companion-chains", "iptables", "-S"}
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	if fs.NArg() != 2 || fs.Arg(0) != "iptables" {
		t.Errorf("parsing did not stop at the program name: %q", fs.Args())
	}
	want := map[string]string{"mode": "legacy", "nft": "native", "log": "/tmp/l", "backend-dirs": "/a:/b", "host-root": "/host",
		"cache-dir": "/c", "detect-wait": "1s", "default-mode": "legacy", "guard": "false", "unknown-chains": "refuse",
		"drop-bit": "3", "masquerade-bit": "4", "guard-era": "1.19", "guard-companion-chains": "true"}
	for name, v := range want {
		if got := c.Get(name); got != v {
			t.Errorf("--%s: got %q, want %q", name, got, v)
		}
	}
	if c.ModeSource != "flag --mode" {
		t.Errorf("ModeSource %q", c.ModeSource)
	}
	err := fs.Parse([]string{"--drop-bit=40"})
	if err == nil || !strings.Contains(err.Error(), `drop-bit "40" is not a bit number 0-31`) {
		t.Errorf("bad value: %v", err)
	}
}

// TestEverySettingIsAFlag: each setting of the table, whatever it is,
// parses as a flag (here with its default value).
func TestEverySettingIsAFlag(t *testing.T) {
	for _, s := range Settings {
		c := Default()
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c.RegisterFlags(fs)
		v := Default().Get(s.Name)
		if v == "" {
			v = "/tmp/x"
		}
		if err := fs.Parse([]string{"--" + s.Name + "=" + v, "iptables"}); err != nil || c.Get(s.Name) != v || fs.Arg(0) != "iptables" {
			t.Errorf("--%s=%s: %v, value %q", s.Name, v, err, c.Get(s.Name))
		}
	}
}

func TestFlagHelpListsEverySetting(t *testing.T) {
	var b bytes.Buffer
	WriteFlagHelp(&b)
	for _, s := range Settings {
		if !strings.Contains(b.String(), "--"+s.Name+"=") || !strings.Contains(b.String(), s.Env) {
			t.Errorf("help lacks --%s or %s:\n%s", s.Name, s.Env, b.String())
		}
	}
}
