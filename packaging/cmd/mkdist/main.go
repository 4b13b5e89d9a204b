// Command mkdist turns the per-architecture shim binaries in
// dist/bin/linux_<arch>/iptables-shim into what `make packages` and
// `make image` ship:
//
//	mkdist packages -version 0.1.0 [-out dist] [-license ../LICENSE] amd64 arm64
//	    rpm and deb for each architecture, in dist/ (run from packaging/,
//	    as `make packages` does)
//	mkdist rootfs [-out dist] amd64 arm64
//	    dist/rootfs/linux_<arch>/usr/sbin/: the shim and the six names as
//	    relative links, which the Dockerfile's prebuilt stage copies
//	mkdist fakebase [-out dist/fake-base] [-era v1.25] amd64 arm64
//	    an OCI layout (tag "latest") of a stand-in kube-proxy image with the
//	    iptables layout of an era and no real programs, for building the
//	    image offline: KUBE_PROXY_IMAGE=oci:DIR KUBE_VERSION=latest
//
// SOURCE_DATE_EPOCH, when set, stamps the package files; otherwise a fixed
// date does, so builds are reproducible either way.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/iptables-shim/iptables-shim/packaging/internal/fakeimage"
	"github.com/iptables-shim/iptables-shim/packaging/nodepkg"
	"github.com/iptables-shim/iptables-shim/shim/install"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: mkdist packages|rootfs|fakebase [-out DIR] [-version V] [-era E] ARCH...")
		return 2
	}
	fl := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fl.SetOutput(stderr)
	out := fl.String("out", "dist", "output directory")
	version := fl.String("version", "", "package version (packages): the shim's, from the VERSION file")
	era := fl.String("era", "v1.25", "kube-proxy image layout (fakebase): "+strings.Join(fakeimage.Eras(), ", "))
	license := fl.String("license", "../LICENSE", "the LICENSE file the packages carry (packages)")
	if err := fl.Parse(args[1:]); err != nil {
		return 2
	}
	arches := fl.Args()
	if len(arches) == 0 {
		fmt.Fprintln(stderr, "mkdist: name at least one architecture")
		return 2
	}
	var err error
	switch args[0] {
	case "packages":
		if *version == "" {
			fmt.Fprintln(stderr, "mkdist packages: -version is required")
			return 2
		}
		err = packages(*out, *version, *license, arches, stdout)
	case "rootfs":
		err = rootfs(*out, arches, stdout)
	case "fakebase":
		err = fakeBase(*out, *era, arches, stdout)
	default:
		fmt.Fprintf(stderr, "mkdist: unknown command %q\n", args[0])
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "mkdist %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func shimFor(out, arch string) string {
	return filepath.Join(out, "bin", "linux_"+arch, "iptables-shim")
}

// mtime honours SOURCE_DATE_EPOCH (the reproducible-builds convention).
func mtime() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH: %w", err)
	}
	return time.Unix(n, 0).UTC(), nil
}

func packages(out, version, license string, arches []string, stdout io.Writer) error {
	mt, err := mtime()
	if err != nil {
		return err
	}
	for _, arch := range arches {
		spec := nodepkg.Spec{Version: version, Arch: arch, Shim: shimFor(out, arch), License: license, MTime: mt}
		for _, format := range nodepkg.Formats() {
			name, err := nodepkg.FileName(spec, format)
			if err != nil {
				return err
			}
			p := filepath.Join(out, name)
			if err := writeAtomically(p, func(w io.Writer) error { return nodepkg.Build(spec, format, w) }); err != nil {
				return err
			}
			fmt.Fprintln(stdout, p)
		}
	}
	return nil
}

func rootfs(out string, arches []string, stdout io.Writer) error {
	for _, arch := range arches {
		shim, err := filepath.Abs(shimFor(out, arch))
		if err != nil {
			return err
		}
		dir, err := filepath.Abs(filepath.Join(out, "rootfs", "linux_"+arch))
		if err != nil {
			return err
		}
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		sbin := filepath.Join(dir, "usr", "sbin")
		if err := os.MkdirAll(sbin, 0o755); err != nil {
			return err
		}
		// The same code that `iptables-shim install --copy` runs lays out
		// the directory: a copy of the binary and relative links.
		if err := install.Run(context.Background(), install.Options{
			Shim: shim, Dest: sbin, Copy: true, Alternatives: install.AltNo, Out: io.Discard,
		}); err != nil {
			return fmt.Errorf("%s: %w", arch, err)
		}
		fmt.Fprintln(stdout, dir)
	}
	return nil
}

func writeAtomically(p string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(p), ".mkdist-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}

// fakeBase writes an OCI layout holding a multi-platform stand-in for the
// kube-proxy image (tag "latest"), so `make image` can run with no
// registry: the Dockerfile's prebuilt stage only copies files over it.
func fakeBase(out, era string, arches []string, stdout io.Writer) error {
	entries, err := fakeimage.Era(era)
	if err != nil {
		return err
	}
	var idx v1.ImageIndex = empty.Index
	for _, arch := range arches {
		img, err := fakeimage.Image(entries, arch)
		if err != nil {
			return err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	p, err := layout.Write(out, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "latest"})); err != nil {
		return err
	}
	fmt.Fprintln(stdout, out)
	return nil
}
