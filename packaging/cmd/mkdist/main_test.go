package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/iptables-shim/iptables-shim/packaging/internal/fakeimage"
)

func TestRootfsAndPackages(t *testing.T) {
	out := t.TempDir()
	for _, arch := range []string{"amd64", "arm64"} {
		p := shimFor(out, arch)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("shim "+arch), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"rootfs", "-out", out, "amd64", "arm64"}, &stdout, &stderr); code != 0 {
		t.Fatalf("rootfs: %d %s", code, stderr.String())
	}
	sbin := filepath.Join(out, "rootfs", "linux_arm64", "usr", "sbin")
	if data, err := os.ReadFile(filepath.Join(sbin, "iptables-shim")); err != nil || string(data) != "shim arm64" {
		t.Errorf("arm64 rootfs shim: %q %v", data, err)
	}
	if l, err := os.Readlink(filepath.Join(sbin, "ip6tables-restore")); err != nil || l != "iptables-shim" {
		t.Errorf("link %q %v", l, err)
	}
	if code := run([]string{"packages", "-out", out, "-version", "1.2.3", "-license", "../../../LICENSE", "amd64", "arm64"}, &stdout, &stderr); code != 0 {
		t.Fatalf("packages: %d %s", code, stderr.String())
	}
	for _, name := range []string{"iptables-shim-1.2.3-1.x86_64.rpm", "iptables-shim-1.2.3-1.aarch64.rpm", "iptables-shim_1.2.3-1_amd64.deb", "iptables-shim_1.2.3-1_arm64.deb"} {
		if !strings.Contains(stdout.String(), name) {
			t.Errorf("%s not reported", name)
		}
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Error(err)
		}
	}
	if code := run([]string{"packages", "amd64"}, &stdout, &stderr); code != 2 {
		t.Errorf("packages without -version: exit %d", code)
	}
}

func TestFakeBaseIsAMultiPlatformLayout(t *testing.T) {
	out := filepath.Join(t.TempDir(), "fake-base")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"fakebase", "-out", out, "-era", "v1.13", "amd64", "arm64"}, &stdout, &stderr); code != 0 {
		t.Fatalf("fakebase: %d %s", code, stderr.String())
	}
	p, err := layout.FromPath(out)
	if err != nil {
		t.Fatal(err)
	}
	top, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, err := top.IndexManifest()
	if err != nil || len(m.Manifests) != 1 || m.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "latest" {
		t.Fatalf("top index: %+v %v", m, err)
	}
	idx, err := top.ImageIndex(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil || len(im.Manifests) != 2 || im.Manifests[1].Platform.Architecture != "arm64" {
		t.Fatalf("platform index: %+v %v", im, err)
	}
	img, err := idx.Image(im.Manifests[1].Digest)
	if err != nil {
		t.Fatal(err)
	}
	files, err := fakeimage.Files(img)
	if err != nil || files["/sbin/iptables"].Link != "xtables-multi" {
		t.Errorf("v1.13 layout missing: %v", err)
	}
	if code := run([]string{"fakebase", "-out", out, "-era", "v9", "amd64"}, &stdout, &stderr); code != 1 {
		t.Errorf("unknown era: exit %d", code)
	}
}
