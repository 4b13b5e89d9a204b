// Package nodepkg builds the iptables-shim RPM and deb for nodes, in Go
// (nfpm), without rpmbuild or dpkg-deb.
//
// Layout on the node:
//
//	/usr/libexec/iptables-shim/bin/iptables-shim   the binary
//	/usr/libexec/iptables-shim/bin/iptables ...    the six names, relative links
//	/usr/sbin/iptables-shim                        relative link to the binary
//	/usr/libexec/iptables-shim/takeover            optional takeover of the host's names
//	/usr/lib/systemd/system/iptables-shim-repair.* re-point after iptables updates
//
// The bin directory is self-contained (the binary and links to it), so the
// Kubernetes hostPath patch can mount it anywhere in a container. Packages
// are xz-compressed (RHEL 7 has no zstd) and reproducible: fixed mtimes and
// build host, so the same inputs give the same bytes.
package nodepkg

import (
	"embed"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
	"github.com/goreleaser/nfpm/v2/rpm"
)

//go:embed scripts/*.sh systemd/*
var assets embed.FS

// BinDir is the directory holding the binary and the six names; the
// hostPath patch mounts it.
const BinDir = "/usr/libexec/iptables-shim/bin"

// Formats are the package formats Build knows.
func Formats() []string { return []string{"rpm", "deb"} }

// defaultMTime is the time stamp of every file when the caller gives none
// (and SOURCE_DATE_EPOCH is unset): fixed, for reproducible packages.
var defaultMTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Spec says what to package.
type Spec struct {
	// Version is the package version, e.g. 0.1.0.
	Version string
	// Release is the RPM release / Debian revision; "1" when empty.
	Release string
	// Arch is a Go architecture: amd64 or arm64.
	Arch string
	// Shim is the path of the static shim binary built for Arch.
	Shim string
	// License is the path of the project's LICENSE (Apache-2.0). The rpm
	// carries it as its license file; the deb gets a machine-readable
	// copyright file that names it.
	License string
	// MTime stamps every file; zero means 2024-01-01 UTC.
	MTime time.Time
}

// FileName is the conventional file name of the package for a format.
func FileName(spec Spec, format string) (string, error) {
	p, err := packager(format)
	if err != nil {
		return "", err
	}
	return p.ConventionalFileName(info(spec, "")), nil
}

// Build writes the package in the given format to w.
func Build(spec Spec, format string, w io.Writer) error {
	p, err := packager(format)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(spec.Shim); err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("shim binary %q: not a file (%v)", spec.Shim, err)
	}
	if fi, err := os.Stat(spec.License); err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("license file %q: not a file (%v)", spec.License, err)
	}
	// nfpm reads scripts and files from paths: unpack the embedded assets.
	dir, err := os.MkdirTemp("", "iptables-shim-nodepkg-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.CopyFS(dir, assets); err != nil {
		return fmt.Errorf("unpacking package assets: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "copyright"), []byte(debianCopyright), 0o644); err != nil {
		return err
	}
	in := info(spec, dir)
	if err := nfpm.PrepareForPackager(in, format); err != nil {
		return fmt.Errorf("preparing %s: %w", format, err)
	}
	if err := p.Package(in, w); err != nil {
		return fmt.Errorf("building %s: %w", format, err)
	}
	return nil
}

// splitVersion splits a semantic version into what nfpm writes as
// VERSION~PRERELEASE+METADATA, so that 1.2.3-rc.1 sorts before 1.2.3 in
// both dpkg and rpm ("-" would be taken for the revision separator).
func splitVersion(v string) (version, prerelease, metadata string) {
	v, metadata, _ = strings.Cut(v, "+")
	version, prerelease, _ = strings.Cut(v, "-")
	return version, prerelease, metadata
}

// debianCopyright is the deb's copyright file, in Debian's machine-readable
// format; Debian systems carry the license text in common-licenses.
const debianCopyright = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: iptables-shim
Source: https://github.com/iptables-shim/iptables-shim

Files: *
Copyright: The iptables-shim authors
License: Apache-2.0

License: Apache-2.0
 Licensed under the Apache License, Version 2.0 (the "License"); you may not
 use this file except in compliance with the License. You may obtain a copy of
 the License at http://www.apache.org/licenses/LICENSE-2.0
 .
 Unless required by applicable law or agreed to in writing, software
 distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
 WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
 License for the specific language governing permissions and limitations under
 the License.
 .
 On Debian systems, the full text of the Apache License, Version 2.0 can be
 found in /usr/share/common-licenses/Apache-2.0.
`

func packager(format string) (nfpm.Packager, error) {
	switch format {
	case "rpm":
		return rpm.DefaultRPM, nil
	case "deb":
		return deb.Default, nil
	}
	return nil, fmt.Errorf("unknown package format %q (want rpm or deb)", format)
}

// info describes the package; assetDir is where the embedded assets were
// unpacked ("" when only the name is wanted).
func info(spec Spec, assetDir string) *nfpm.Info {
	mtime := spec.MTime
	if mtime.IsZero() {
		mtime = defaultMTime
	}
	release := spec.Release
	if release == "" {
		release = "1"
	}
	asset := func(p string) string { return filepath.Join(assetDir, filepath.FromSlash(p)) }
	file := func(src, dst string, mode fs.FileMode) *files.Content {
		return &files.Content{Source: src, Destination: dst, Type: files.TypeFile,
			FileInfo: &files.ContentFileInfo{Mode: mode, MTime: mtime, Owner: "root", Group: "root"}}
	}
	link := func(target, at string) *files.Content {
		return &files.Content{Source: target, Destination: at, Type: files.TypeSymlink,
			FileInfo: &files.ContentFileInfo{MTime: mtime, Owner: "root", Group: "root"}}
	}
	contents := files.Contents{
		file(spec.Shim, BinDir+"/iptables-shim", 0o755),
		link("../libexec/iptables-shim/bin/iptables-shim", "/usr/sbin/iptables-shim"),
		file(asset("scripts/takeover.sh"), "/usr/libexec/iptables-shim/takeover", 0o755),
		file(asset("systemd/iptables-shim-repair.path"), "/usr/lib/systemd/system/iptables-shim-repair.path", 0o644),
		file(asset("systemd/iptables-shim-repair.service"), "/usr/lib/systemd/system/iptables-shim-repair.service", 0o644),
	}
	if spec.License != "" {
		// Debian policy wants /usr/share/doc/PKG/copyright; RPM marks
		// the license text as such (%license).
		deb := file(asset("copyright"), "/usr/share/doc/iptables-shim/copyright", 0o644)
		deb.Packager = "deb"
		rpm := file(spec.License, "/usr/share/licenses/iptables-shim/LICENSE", 0o644)
		rpm.Packager, rpm.Type = "rpm", files.TypeRPMLicense
		contents = append(contents, deb, rpm)
	}
	for _, n := range []string{"iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore"} {
		contents = append(contents, link("iptables-shim", BinDir+"/"+n))
	}
	version, prerelease, metadata := splitVersion(spec.Version)
	return &nfpm.Info{
		Name:            "iptables-shim",
		Arch:            spec.Arch,
		Platform:        "linux",
		Version:         version,
		Prerelease:      prerelease,
		VersionMetadata: metadata,
		Release:         release,
		Section:         "net",
		Priority:        "optional",
		Maintainer:      "iptables-shim developers <iptables-shim@users.noreply.github.com>",
		Description:     "iptables front end that routes each call to the host's real backend (legacy or nf_tables)",
		Vendor:          "iptables-shim",
		Homepage:        "https://github.com/iptables-shim/iptables-shim",
		License:         "Apache-2.0",
		MTime:           mtime,
		Overridables: nfpm.Overridables{
			Umask:    0o022,
			Contents: contents,
			Scripts: nfpm.Scripts{
				PostInstall: asset("scripts/postinstall.sh"),
				PreRemove:   asset("scripts/preremove.sh"),
			},
			RPM: nfpm.RPM{Compression: "xz", BuildHost: "iptables-shim", Summary: "iptables front end for mixed-backend hosts", Group: "System Environment/Base"},
			Deb: nfpm.Deb{Compression: "xz"},
		},
	}
}
