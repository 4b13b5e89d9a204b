package config

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Setting is one setting as every source names it: the config file's key
// and the flag are Name, the environment variable is Env. The config file,
// the environment, the flags of `iptables-shim`, its help text and the
// documentation all derive from Settings, so they cannot drift apart.
type Setting struct {
	// Name is the config-file key and the flag (--Name).
	Name string
	// Env is the environment variable.
	Env string
	// Values says what the setting accepts, for help: "auto|legacy|nft".
	Values string
	// Help is one line on what it means.
	Help string
	// Bool settings are switches: --Name alone means true.
	Bool bool
}

// Settings lists every setting, in the order help shows them.
var Settings = []Setting{
	{Name: "mode", Env: "IPTABLES_SHIM_MODE", Values: "auto|legacy|nft", Help: "force a backend; auto detects the host's"},
	{Name: "nft", Env: "IPTABLES_SHIM_NFT", Values: "auto|exec|native", Help: "nf_tables calls: netlink for what the native backend carries out and a real iptables-nft for the rest (auto, native), or always a real iptables-nft (exec); auto leaves --version and -h to the image's binary and never hands a call to one that misreads the host's dialect"},
	{Name: "log", Env: "IPTABLES_SHIM_LOG", Values: "PATH|syslog", Help: "log every call and every chain the guard creates (empty: off)"},
	{Name: "backend-dirs", Env: "IPTABLES_SHIM_BACKEND_DIRS", Values: "DIR:DIR...", Help: "where real binaries are looked for (absolute paths; PATH is never used)"},
	{Name: "host-root", Env: "IPTABLES_SHIM_HOST_ROOT", Values: "DIR", Help: "where the host's root is mounted (/host in a pod), for host hints"},
	{Name: "cache-dir", Env: "IPTABLES_SHIM_CACHE_DIR", Values: "DIR", Help: "per-network-namespace decision cache"},
	{Name: "detect-wait", Env: "IPTABLES_SHIM_DETECT_WAIT", Values: "DURATION", Help: "on an empty host, how long to wait for kubelet's chains"},
	{Name: "default-mode", Env: "IPTABLES_SHIM_DEFAULT_MODE", Values: "legacy|nft", Help: "the answer when no evidence exists"},
	{Name: "guard", Env: "IPTABLES_SHIM_GUARD", Values: "true|false", Help: "create the chains a call jumps to that kubelet should have made", Bool: true},
	{Name: "unknown-chains", Env: "IPTABLES_SHIM_UNKNOWN_CHAINS", Values: "create|refuse", Help: "a missing jump target the guard's catalog does not know: create it empty, or refuse (fail as iptables does)"},
	{Name: "drop-bit", Env: "IPTABLES_SHIM_DROP_BIT", Values: "0-31", Help: "kubelet's --iptables-drop-bit, for KUBE-MARK-DROP"},
	{Name: "masquerade-bit", Env: "IPTABLES_SHIM_MASQUERADE_BIT", Values: "0-31", Help: "kubelet's --iptables-masquerade-bit, for KUBE-MARK-MASQ"},
	{Name: "guard-era", Env: "IPTABLES_SHIM_GUARD_ERA", Values: "1.13|1.19", Help: "whose chain contents the guard writes: kubelet 1.13 (to 1.18.4) or 1.19 (1.18.5+)"},
	{Name: "guard-companion-chains", Env: "IPTABLES_SHIM_GUARD_COMPANION_CHAINS", Values: "true|false", Help: "with KUBE-MARK-DROP also create filter KUBE-FIREWALL, hooked into INPUT and OUTPUT", Bool: true},
	{Name: "nft-dialect", Env: "IPTABLES_SHIM_NFT_DIALECT", Values: "auto|1.8.7|1.8.9|1.8.11", Help: "the iptables-nft encoding native writes use: the host's (auto, from its rules, package database or binary) or a fixed version"},
}

// Lookup finds a setting by name.
func Lookup(name string) (Setting, bool) {
	for _, s := range Settings {
		if s.Name == name {
			return s, true
		}
	}
	return Setting{}, false
}

// Get renders a setting's current value the way the config file would
// spell it ("" for an unknown name).
func (c Config) Get(name string) string {
	switch name {
	case "mode":
		return c.Mode
	case "nft":
		return c.NFT
	case "log":
		return c.Log
	case "backend-dirs":
		return strings.Join(c.BackendDirs, ":")
	case "host-root":
		return c.HostRoot
	case "cache-dir":
		return c.CacheDir
	case "detect-wait":
		return c.DetectWait.String()
	case "default-mode":
		return c.DefaultMode
	case "guard":
		return strconv.FormatBool(c.Guard)
	case "unknown-chains":
		return c.UnknownChains
	case "drop-bit":
		return strconv.Itoa(c.DropBit)
	case "masquerade-bit":
		return strconv.Itoa(c.MasqueradeBit)
	case "guard-era":
		return c.GuardEra
	case "guard-companion-chains":
		return strconv.FormatBool(c.GuardCompanion)
	case "nft-dialect":
		return c.NFTDialect
	}
	return ""
}

// settingFlag is a flag.Value that sets one setting on a Config.
type settingFlag struct {
	c *Config
	s Setting
}

func (f settingFlag) String() string {
	if f.c == nil { // the flag package probes zero values
		return ""
	}
	return f.c.Get(f.s.Name)
}

// Set applies the flag's value; the flag package's error names the flag,
// so the error here says only what is wrong with the value.
func (f settingFlag) Set(v string) error {
	if err := f.c.setValue(f.s.Name, v); err != nil {
		return err
	}
	if f.s.Name == "mode" {
		f.c.ModeSource = "flag --mode"
	}
	return nil
}

func (f settingFlag) IsBoolFlag() bool { return f.s.Bool }

// RegisterFlags adds every setting to fs as --NAME (a switch for the
// true/false ones), setting it on c with the source "flag --NAME".
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	for _, s := range Settings {
		fs.Var(settingFlag{c: c, s: s}, s.Name, s.Help)
	}
}

// WriteFlagHelp prints one line per setting: the flag, what it accepts,
// what it means and its built-in default.
func WriteFlagHelp(w io.Writer) {
	d := Default()
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range Settings {
		def := d.Get(s.Name)
		if def == "" {
			def = "off"
		}
		fmt.Fprintf(tw, "  --%s=%s\t%s (default %s; %s)\n", s.Name, s.Values, s.Help, def, s.Env)
	}
	tw.Flush()
}
