package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func env(m map[string]string) Getenv {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config")
	if err := os.WriteFile(file, []byte("# comment\nmode = legacy\nlog=/tmp/x.log\ndetect-wait = 5s\nbogus = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := Load(env(map[string]string{"IPTABLES_SHIM_CONFIG": file}))
	if c.Mode != "legacy" || c.ModeSource != "file "+file || c.Log != "/tmp/x.log" || c.DetectWait != 5*time.Second {
		t.Errorf("file not applied: %+v", c)
	}
	if len(c.Warnings) != 1 {
		t.Errorf("want one warning for the unknown key, got %q", c.Warnings)
	}
	c = Load(env(map[string]string{"IPTABLES_SHIM_CONFIG": file, "IPTABLES_SHIM_MODE": "nft"}))
	if c.Mode != "nft" || c.ModeSource != "env IPTABLES_SHIM_MODE" {
		t.Errorf("env does not override file: %+v", c)
	}
	if err := c.Set("mode", "legacy", "flag --mode"); err != nil || c.Mode != "legacy" {
		t.Errorf("flag: %v %+v", err, c)
	}
}

func TestBadValuesWarnAndKeepDefaults(t *testing.T) {
	c := Load(env(map[string]string{
		"IPTABLES_SHIM_CONFIG":       "/nonexistent/config",
		"IPTABLES_SHIM_MODE":         "fast",
		"IPTABLES_SHIM_BACKEND_DIRS": "sbin",
		"IPTABLES_SHIM_DROP_BIT":     "40",
	}))
	if c.Mode != ModeAuto || c.BackendDirs[0] != "/usr/sbin" || c.DropBit != 15 {
		t.Errorf("bad values changed settings: %+v", c)
	}
	if len(c.Warnings) != 3 {
		t.Errorf("want 3 warnings, got %q", c.Warnings)
	}
	if c.File != "" {
		t.Errorf("missing file recorded as read: %q", c.File)
	}
}
