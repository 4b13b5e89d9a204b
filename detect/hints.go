package detect

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/iptables-shim/iptables-shim/internal/rootfs"
	"github.com/iptables-shim/iptables-shim/shim/backend"
)

// ReadHostHints reads the host hints under root (the host's root file system
// as configured: "/" by default, e.g. "/host" in a container), once
// CheckHostRoot has found it to be the host's; otherwise the hints are left
// empty and say why (an image's /etc is no evidence about the host). Missing
// files are not errors; unreadable ones are recorded in Errors.
func ReadHostHints(root string) HostHints {
	h := HostHints{Root: root}
	trust := CheckHostRoot(root)
	h.Trusted, h.Trust, h.ReadFrom = trust.Trusted, trust.Why, trust.ReadFrom
	if !trust.Trusted {
		return h
	}
	dir := trust.ReadFrom
	link := func(rel string) string {
		t, err := os.Readlink(filepath.Join(dir, rel))
		if err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, errInvalid) {
			h.Errors = append(h.Errors, fmt.Sprintf("%s: %v", rel, err))
		}
		return t
	}
	h.Alternatives = link("etc/alternatives/iptables")
	h.IptablesLink = link("usr/sbin/iptables")
	// os-release is often a link (to ../usr/lib/os-release, or an absolute
	// one): follow it inside the host root, never on this machine's own /.
	osRelease := "/etc/os-release"
	if resolved, err := rootfs.Root(dir).Resolve(osRelease); err == nil {
		osRelease = resolved
	}
	if data, err := os.ReadFile(rootfs.Root(dir).Host(osRelease)); err == nil {
		h.OSID, h.OSVersionID = parseOSRelease(data)
	} else if !errors.Is(err, os.ErrNotExist) {
		h.Errors = append(h.Errors, fmt.Sprintf("etc/os-release: %v", err))
	}
	for _, name := range []string{"xtables-nft-multi", "xtables-legacy-multi"} {
		for _, sub := range []string{"usr/sbin", "sbin", "usr/bin", "bin"} {
			if st, err := os.Stat(filepath.Join(dir, sub, name)); err == nil && st.Mode().IsRegular() {
				h.Xtables = append(h.Xtables, name)
				break
			}
		}
	}
	return h
}

// errInvalid is what Readlink gives for a path that is not a link.
var errInvalid = os.ErrInvalid

func parseOSRelease(data []byte) (id, versionID string) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"'`)
		switch k {
		case "ID":
			id = v
		case "VERSION_ID":
			versionID = v
		}
	}
	return id, versionID
}

// modeInName reads a backend from a link target such as
// "/usr/sbin/iptables-legacy" or "xtables-nft-multi".
func modeInName(target string) (backend.Mode, bool) {
	base := filepath.Base(target)
	switch {
	case strings.Contains(base, "legacy"):
		return backend.Legacy, true
	case strings.Contains(base, "nft"):
		return backend.NFT, true
	}
	return "", false
}

// decideHints applies layer 5: the alternatives link, then the iptables link,
// then which xtables binaries exist when only one kind does, then the OS
// release.
func decideHints(h HostHints) (backend.Mode, string, bool) {
	if h.Root == "" || !h.Trusted {
		return "", "", false
	}
	if m, ok := modeInName(h.Alternatives); ok {
		return m, fmt.Sprintf("host's %s links to %s", filepath.Join(h.dir(), "etc/alternatives/iptables"), h.Alternatives), true
	}
	if m, ok := modeInName(h.IptablesLink); ok {
		return m, fmt.Sprintf("host's %s links to %s", filepath.Join(h.dir(), "usr/sbin/iptables"), h.IptablesLink), true
	}
	if len(h.Xtables) == 1 {
		if m, ok := modeInName(h.Xtables[0]); ok {
			return m, fmt.Sprintf("the host has only %s", h.Xtables[0]), true
		}
	}
	if m, ok := osReleaseMode(h.OSID, h.OSVersionID); ok {
		return m, fmt.Sprintf("host OS %s %s uses %s by default", h.OSID, h.OSVersionID, modeLabel(m)), true
	}
	return "", "", false
}

// osReleaseMode knows the default backend of common distributions: the
// version from which each switched its iptables to nf_tables.
func osReleaseMode(id, version string) (backend.Mode, bool) {
	major, minor := parseVersion(version)
	if major < 0 {
		return "", false
	}
	since := map[string][2]int{
		"rhel": {8, 0}, "centos": {8, 0}, "rocky": {8, 0}, "almalinux": {8, 0}, "ol": {8, 0},
		"fedora": {32, 0}, "debian": {10, 0}, "ubuntu": {20, 10}, "amzn": {2023, 0},
	}
	s, ok := since[id]
	if !ok {
		return "", false
	}
	if major > s[0] || (major == s[0] && minor >= s[1]) {
		return backend.NFT, true
	}
	return backend.Legacy, true
}

func parseVersion(v string) (major, minor int) {
	a, b, _ := strings.Cut(v, ".")
	major, err := strconv.Atoi(a)
	if err != nil {
		return -1, 0
	}
	minor, _ = strconv.Atoi(b)
	return major, minor
}

// dir is where the hints were read.
func (h HostHints) dir() string {
	if h.ReadFrom != "" {
		return h.ReadFrom
	}
	return h.Root
}

// Summary is one line for people, to follow "host hints:": whether the host
// root's hints are used, why, and what they say.
func (h HostHints) Summary() string {
	switch {
	case h.Root == "":
		return "off"
	case !h.Trusted:
		return fmt.Sprintf("not used (host-root %s): %s", h.Root, h.Trust)
	}
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	return fmt.Sprintf("read from %s (host-root %s; %s): alternatives %s, iptables link %s, os %s %s, xtables %s",
		h.dir(), h.Root, h.Trust, dash(h.Alternatives), dash(h.IptablesLink), dash(h.OSID), h.OSVersionID, dash(strings.Join(h.Xtables, ",")))
}
