package imagepatch

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/iptables-shim/iptables-shim/packaging/internal/fakeimage"
)

// stand-in shim binaries: the patcher never looks inside them, and a
// distinct content per architecture shows each platform got its own.
var testShims = Shims{"amd64": []byte("shim for amd64"), "arm64": []byte("shim for arm64")}

// twoPlatformBase pushes a two-platform kube-proxy look-alike (the 1.25+
// layout) to an in-process registry and returns the registry host.
func twoPlatformBase(t *testing.T) (host string, base map[string]v1.Image) {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host = strings.TrimPrefix(srv.URL, "http://")
	entries, err := fakeimage.Era("v1.25")
	if err != nil {
		t.Fatal(err)
	}
	base = map[string]v1.Image{}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := fakeimage.Image(append(slices.Clone(entries), fakeimage.Entry{Path: "/etc/arch", Data: arch}), arch)
		if err != nil {
			t.Fatal(err)
		}
		base[arch] = img
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
			Platform: &v1.Platform{OS: "linux", Architecture: arch}, Annotations: map[string]string{"arch": arch},
		}})
	}
	ref, err := name.ParseReference(host + "/kube-proxy:v1.30.0")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	return host, base
}

// assertImagePatched checks one patched image against its base.
func assertImagePatched(t *testing.T, got, base v1.Image, shim []byte) {
	t.Helper()
	gotFiles, err := fakeimage.Files(got)
	if err != nil {
		t.Fatal(err)
	}
	baseFiles, err := fakeimage.Files(base)
	if err != nil {
		t.Fatal(err)
	}
	if f := gotFiles["/usr/sbin/iptables-shim"]; f.Data != string(shim) {
		t.Errorf("shim is %q, want %q", f.Data, shim)
	}
	changed := fakeimage.Diff(baseFiles, gotFiles)
	want := []string{"/usr/sbin/ip6tables", "/usr/sbin/ip6tables-restore", "/usr/sbin/ip6tables-save", "/usr/sbin/iptables", "/usr/sbin/iptables-restore", "/usr/sbin/iptables-save", "/usr/sbin/iptables-shim"}
	if !slices.Equal(changed, want) {
		t.Errorf("changed paths %v, want %v", changed, want)
	}
	if l := gotFiles["/usr/sbin/iptables"].Link; l != "iptables-shim" {
		t.Errorf("iptables -> %q", l)
	}
	gcf, err := got.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	bcf, err := base.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gcf.Config.Entrypoint, bcf.Config.Entrypoint) || !slices.Equal(gcf.Config.Env, bcf.Config.Env) || gcf.Architecture != bcf.Architecture {
		t.Errorf("config changed: %+v vs %+v", gcf.Config, bcf.Config)
	}
	bl, _ := base.Layers()
	gl, _ := got.Layers()
	if len(gl) != len(bl)+1 {
		t.Errorf("%d layers, want base's %d plus one", len(gl), len(bl))
	}
	mt, _ := gl[len(gl)-1].MediaType()
	imt, _ := got.MediaType()
	if mt != layerMediaType(imt) {
		t.Errorf("shim layer media type %s in a %s image", mt, imt)
	}
}

func TestPatchMultiArchIndexInRegistry(t *testing.T) {
	ctx := context.Background()
	host, base := twoPlatformBase(t)
	a, err := Load(ctx, host+"/kube-proxy:v1.30.0")
	if err != nil {
		t.Fatal(err)
	}
	patched, err := Patch(a, testShims)
	if err != nil {
		t.Fatal(err)
	}
	if err := Save(ctx, patched, host+"/kube-proxy:v1.30.0-shim", ""); err != nil {
		t.Fatal(err)
	}
	back, err := Load(ctx, host+"/kube-proxy:v1.30.0-shim")
	if err != nil || back.Index == nil {
		t.Fatalf("reading back: %v (index %v)", err, back.Index)
	}
	m, err := back.Index.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 2 || m.MediaType != types.OCIImageIndex {
		t.Fatalf("index %+v", m)
	}
	for _, d := range m.Manifests {
		arch := d.Platform.Architecture
		if d.Annotations["arch"] != arch {
			t.Errorf("%s: annotations lost: %v", arch, d.Annotations)
		}
		img, err := back.Index.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		assertImagePatched(t, img, base[arch], testShims[arch])
	}
}

func TestPatchSingleImageToLayoutAndTarball(t *testing.T) {
	ctx := context.Background()
	host, base := twoPlatformBase(t)
	// A single platform's manifest, by digest, is a single image.
	a, err := Load(ctx, host+"/kube-proxy:v1.30.0")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := a.Index.IndexManifest()
	single, err := Load(ctx, host+"/kube-proxy@"+m.Manifests[1].Digest.String())
	if err != nil || single.Image == nil {
		t.Fatalf("single image: %v", err)
	}
	patched, err := Patch(single, testShims)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, dst := range []string{"oci:" + filepath.Join(dir, "layout"), filepath.Join(dir, "image.tar")} {
		if err := Save(ctx, patched, dst, "kube-proxy:shim"); err != nil {
			t.Fatalf("save %s: %v", dst, err)
		}
		back, err := Load(ctx, dst)
		if err != nil || back.Image == nil {
			t.Fatalf("load %s: %v", dst, err)
		}
		assertImagePatched(t, back.Image, base["arm64"], testShims["arm64"])
	}
}

func TestMissingShimIsAnError(t *testing.T) {
	ctx := context.Background()
	host, _ := twoPlatformBase(t)
	a, err := Load(ctx, host+"/kube-proxy:v1.30.0")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Patch(a, Shims{"amd64": []byte("x")})
	if err == nil || !strings.Contains(err.Error(), "linux/arm64") {
		t.Fatalf("got %v, want an error naming linux/arm64", err)
	}
}

func TestShimLayerIsReproducible(t *testing.T) {
	a, err := ShimLayer([]byte("x"), types.OCILayer)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ShimLayer([]byte("x"), types.OCILayer)
	if err != nil {
		t.Fatal(err)
	}
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db {
		t.Errorf("same shim, different layer digests %s %s", da, db)
	}
}
