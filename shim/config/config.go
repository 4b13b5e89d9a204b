// Package config holds the shim's settings: where they come from (built-in
// defaults, the config file, the environment, subcommand flags, in rising
// precedence) and what they mean.
//
// Reading settings is on every iptables call's path, so it is one small file
// read (or one failed open) and a few getenv calls.
package config

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultFile is the config file read when IPTABLES_SHIM_CONFIG is unset.
const DefaultFile = "/etc/iptables-shim/config"

// Mode values accepted for the "mode" setting.
const (
	ModeAuto   = "auto"
	ModeLegacy = "legacy"
	ModeNFT    = "nft"
)

// NFT path values accepted for the "nft" setting: how nf_tables calls run.
const (
	// NFTAuto uses the native backend for every call it can carry out,
	// and the image's real iptables-nft for the rest (when its dialect is
	// safe on the host) and for --version and -h.
	NFTAuto = "auto"
	// NFTExec always runs a real iptables-nft binary.
	NFTExec = "exec"
	// NFTNative uses the native backend for every call it can carry out,
	// --version and -h included, and a real iptables-nft for the rest.
	NFTNative = "native"
)

// Unknown-chain policies for the missing-chain guard.
const (
	UnknownCreate = "create"
	UnknownRefuse = "refuse"
)

// Config is the shim's effective configuration.
type Config struct {
	// Mode is "auto", "legacy" or "nft". Explicit values override detection.
	Mode string
	// ModeSource says where Mode came from ("default", "file <path>",
	// "env IPTABLES_SHIM_MODE", "flag --mode"), for the log and doctor.
	ModeSource string
	// NFT is how nf_tables calls are carried out: "auto", "exec", "native".
	NFT string
	// Log is where calls are logged: "" (off), "syslog", or a file path.
	Log string
	// BackendDirs are searched, in order, for real iptables binaries.
	BackendDirs []string
	// HostRoot is where the host's root file system is mounted ("/" when the
	// shim runs on the node itself, e.g. "/host" in a pod).
	HostRoot string
	// CacheDir holds per-network-namespace decisions.
	CacheDir string
	// DetectWait bounds how long auto detection waits for evidence on an
	// empty host before falling back to DefaultMode.
	DetectWait time.Duration
	// DefaultMode is the mode auto detection falls back to.
	DefaultMode string
	// Guard settings: whether to create chains a call references but nobody
	// created, what to do with chains the catalog does not know, kubelet's
	// mark bits, and whether kubelet's companion chains are created too.
	Guard          bool
	UnknownChains  string
	DropBit        int
	MasqueradeBit  int
	GuardCompanion bool
	// GuardEra picks the kubelet era whose chain contents the guard
	// writes: "1.13" (kubelet 1.13-1.18.4) or "1.19" (1.18.5 and later).
	GuardEra string
	// NFTDialect is the iptables-nft encoding native writes use: "auto"
	// (the host's, from its rules, package database or binary), or
	// "1.8.7", "1.8.9", "1.8.11" (see shim/dialect).
	NFTDialect string
	// File is the config file that was read ("" when none existed).
	File string
	// Warnings are problems met while reading settings; they never stop a
	// call, and doctor shows them.
	Warnings []string
}

// Default returns the built-in configuration.
func Default() Config {
	return Config{
		Mode:          ModeAuto,
		ModeSource:    "default",
		NFT:           NFTAuto,
		BackendDirs:   []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"},
		HostRoot:      "/",
		CacheDir:      "/run/iptables-shim",
		DetectWait:    3 * time.Second,
		DefaultMode:   ModeNFT,
		Guard:         true,
		UnknownChains: UnknownRefuse,
		DropBit:       15,
		MasqueradeBit: 14,
		GuardEra:      "1.13",
		NFTDialect:    "auto",
	}
}

// Getenv looks up an environment variable; os.LookupEnv in production, a map
// in tests.
type Getenv func(string) (string, bool)

// Load returns the defaults overlaid with the config file (IPTABLES_SHIM_CONFIG
// or DefaultFile) and then the environment.
func Load(getenv Getenv) Config {
	c := Default()
	path := DefaultFile
	if p, ok := getenv("IPTABLES_SHIM_CONFIG"); ok && p != "" {
		path = p
	}
	if data, err := os.ReadFile(path); err == nil {
		c.File = path
		c.applyFile(path, string(data))
	} else if !os.IsNotExist(err) {
		c.Warnings = append(c.Warnings, fmt.Sprintf("config file %s: %v", path, err))
	}
	for _, k := range Settings {
		if v, ok := getenv(k.Env); ok && v != "" {
			if err := c.set(k.Name, v, "env "+k.Env); err != nil {
				c.Warnings = append(c.Warnings, err.Error())
			}
		}
	}
	return c
}

// Set applies one setting by its config-file name (as the subcommand form's
// flags do); source says where it came from.
func (c *Config) Set(name, value, source string) error { return c.set(name, value, source) }

// Keys lists the setting names the config file accepts, with their
// environment variables, for help and documentation.
func Keys() [][2]string {
	out := make([][2]string, len(Settings))
	for i, k := range Settings {
		out[i] = [2]string{k.Name, k.Env}
	}
	return out
}

func (c *Config) applyFile(path, data string) {
	sc := bufio.NewScanner(strings.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s:%d: expected key = value", path, n))
			continue
		}
		k, v = strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"`)
		if err := c.set(k, v, fmt.Sprintf("file %s", path)); err != nil {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s:%d: %v", path, n, err))
		}
	}
}

func (c *Config) set(name, v, source string) error {
	if err := c.setValue(name, v); err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}
	if name == "mode" {
		c.ModeSource = source
	}
	return nil
}

// setValue checks and applies one setting; its errors say what is wrong
// with the value, not where it came from.
func (c *Config) setValue(name, v string) error {
	switch name {
	case "mode":
		if v != ModeAuto && v != ModeLegacy && v != ModeNFT {
			return fmt.Errorf("mode %q is not auto, legacy or nft", v)
		}
		c.Mode = v
	case "nft":
		if v != NFTAuto && v != NFTExec && v != NFTNative {
			return fmt.Errorf("nft %q is not auto, exec or native", v)
		}
		c.NFT = v
	case "log":
		c.Log = v
	case "backend-dirs":
		var dirs []string
		for _, d := range strings.Split(v, ":") {
			if d == "" {
				continue
			}
			if !filepath.IsAbs(d) {
				return fmt.Errorf("backend-dirs entry %q is not an absolute path", d)
			}
			dirs = append(dirs, filepath.Clean(d))
		}
		if len(dirs) == 0 {
			return fmt.Errorf("backend-dirs is empty")
		}
		c.BackendDirs = dirs
	case "host-root":
		if !filepath.IsAbs(v) {
			return fmt.Errorf("host-root %q is not an absolute path", v)
		}
		c.HostRoot = filepath.Clean(v)
	case "cache-dir":
		if !filepath.IsAbs(v) {
			return fmt.Errorf("cache-dir %q is not an absolute path", v)
		}
		c.CacheDir = filepath.Clean(v)
	case "detect-wait":
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("detect-wait %q is not a duration such as 3s", v)
		}
		c.DetectWait = d
	case "default-mode":
		if v != ModeLegacy && v != ModeNFT {
			return fmt.Errorf("default-mode %q is not legacy or nft", v)
		}
		c.DefaultMode = v
	case "guard", "guard-companion-chains":
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%s %q is not true or false", name, v)
		}
		if name == "guard" {
			c.Guard = b
		} else {
			c.GuardCompanion = b
		}
	case "guard-era":
		if v != "1.13" && v != "1.19" {
			return fmt.Errorf("guard-era %q is not 1.13 or 1.19", v)
		}
		c.GuardEra = v
	case "unknown-chains":
		if v != UnknownCreate && v != UnknownRefuse {
			return fmt.Errorf("unknown-chains %q is not create or refuse", v)
		}
		c.UnknownChains = v
	case "drop-bit", "masquerade-bit":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 31 {
			return fmt.Errorf("%s %q is not a bit number 0-31", name, v)
		}
		if name == "drop-bit" {
			c.DropBit = n
		} else {
			c.MasqueradeBit = n
		}
	case "nft-dialect":
		switch v {
		case "auto", "1.8.7", "1.8.9", "1.8.11":
		default:
			return fmt.Errorf("nft-dialect %q is not auto, 1.8.7, 1.8.9 or 1.8.11", v)
		}
		c.NFTDialect = v
	default:
		return fmt.Errorf("unknown setting %q", name)
	}
	return nil
}
