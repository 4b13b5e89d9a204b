package dockerfile

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/packaging/internal/fakeimage"
)

// buildah runs buildah against private vfs storage under one test's temp
// directory, so nothing is left behind and nothing is shared.
type buildah struct {
	t       *testing.T
	bin     string
	unshare string
	args    []string
}

func newBuildah(t *testing.T) buildah {
	t.Helper()
	netnstest.Require(t, "buildah", "unshare")
	bin, err := netnstest.LookBinary("buildah")
	if err != nil {
		t.Fatal(err)
	}
	unshare, err := netnstest.LookBinary("unshare")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	b := buildah{t: t, bin: bin, unshare: unshare, args: []string{
		"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "runroot"), "--storage-driver", "vfs",
	}}
	t.Cleanup(func() {
		// Containers of RUN steps and images live under the temp dir; rm
		// releases anything still registered before the dir is deleted.
		_, _ = b.run("rm", "--all")
		_, _ = b.run("rmi", "--all", "--force")
	})
	return b
}

// run runs buildah in a private mount namespace whose /var/lib and /run
// are empty tmpfs mounts: buildah keeps a blob-info cache in
// /var/lib/containers and network state in /run/containers whatever
// --root says, and the tests must leave nothing behind on the host.
func (b buildah) run(args ...string) (string, error) {
	script := `mount -t tmpfs tmpfs /var/lib && mount -t tmpfs tmpfs /run && exec "$0" "$@"`
	argv := append([]string{"--mount", "--propagation", "private", "/bin/sh", "-c", script, b.bin}, b.args...)
	cmd := exec.Command(b.unshare, append(argv, args...)...)
	cmd.Env = append(os.Environ(), "BUILDAH_ISOLATION=chroot", "TMPDIR="+b.t.TempDir())
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (b buildah) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := b.run(args...)
	if err != nil {
		t.Fatalf("buildah %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// bud builds a Dockerfile offline and returns the flattened result and its
// entrypoint.
func (b buildah) bud(t *testing.T, contextDir string, buildArgs ...string) (map[string]fakeimage.File, []string) {
	t.Helper()
	files, cf := b.budFor(t, "amd64", contextDir, buildArgs...)
	return files, cf.Config.Entrypoint
}

// budFor builds for one target architecture and returns the flattened
// result and its config.
func (b buildah) budFor(t *testing.T, arch, contextDir string, buildArgs ...string) (map[string]fakeimage.File, *v1.ConfigFile) {
	t.Helper()
	args := []string{"bud", "--isolation", "chroot", "--pull=never", "--layers=false", "--platform", "linux/" + arch, "-t", "localhost/result:test"}
	for i := 0; i < len(buildArgs); i++ {
		if strings.HasPrefix(buildArgs[i], "--") { // a raw flag and its value
			args = append(args, buildArgs[i], buildArgs[i+1])
			i++
			continue
		}
		args = append(args, "--build-arg", buildArgs[i])
	}
	b.mustRun(t, append(args, contextDir)...)
	out := filepath.Join(t.TempDir(), "out")
	b.mustRun(t, "push", "localhost/result:test", "oci:"+out+":test")
	idx, err := layout.ImageIndexFromPath(out)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil || len(m.Manifests) != 1 {
		t.Fatalf("pushed layout: %v %+v", err, m)
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	files, err := fakeimage.Files(img)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return files, cf
}

// baseLayout writes a fake kube-proxy image as an OCI layout tagged latest
// and returns the directory.
func baseLayout(t *testing.T, entries []fakeimage.Entry) string {
	t.Helper()
	return baseLayoutFor(t, entries, "amd64")
}

func baseLayoutFor(t *testing.T, entries []fakeimage.Entry, arch string) string {
	t.Helper()
	img, err := fakeimage.Image(entries, arch)
	if err != nil {
		t.Fatal(err)
	}
	return writeLayout(t, img)
}

// writeLayout writes an image as an OCI layout tagged latest in a fresh
// lower-case directory and returns it.
func writeLayout(t *testing.T, img v1.Image) string {
	t.Helper()
	// buildah turns an oci: path into an image name, which must be lower
	// case; t.TempDir carries the test's name.
	parent, err := os.MkdirTemp("", "iptables-shim-base-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(parent) })
	dir := filepath.Join(parent, "base")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "latest"})); err != nil {
		t.Fatal(err)
	}
	return dir
}

func repoFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// prebuiltContext lays out a build context holding the Dockerfile and the
// prepared root file system the prebuilt stage copies, as `make image` does.
func prebuiltContext(t *testing.T, shim string) string {
	t.Helper()
	ctx := t.TempDir()
	for _, f := range []string{"Dockerfile", ".dockerignore"} {
		if err := os.WriteFile(filepath.Join(ctx, f), repoFile(t, f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sbin := filepath.Join(ctx, "dist/rootfs/linux_amd64/usr/sbin")
	if err := os.MkdirAll(sbin, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(shim)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sbin, "iptables-shim"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range netnstest.ShimNames {
		if err := os.Symlink("iptables-shim", filepath.Join(sbin, n)); err != nil {
			t.Fatal(err)
		}
	}
	return ctx
}

// assertPatched checks the result against its base: the six names in
// /usr/sbin are relative links to the shim, the shim is the binary given,
// and every other path of the base is untouched (backends, wrapper,
// alternatives links, /sbin of 1.13).
func assertPatched(t *testing.T, base, got map[string]fakeimage.File, shim []byte) {
	t.Helper()
	if f := got["/usr/sbin/iptables-shim"]; f.Data != string(shim) {
		t.Errorf("/usr/sbin/iptables-shim is not the shim (%d bytes)", len(f.Data))
	}
	ours := map[string]bool{"/usr/sbin/iptables-shim": true}
	for _, n := range netnstest.ShimNames {
		p := "/usr/sbin/" + n
		ours[p] = true
		if f := got[p]; f.Link != "iptables-shim" {
			t.Errorf("%s -> %q, want relative link iptables-shim", p, f.Link)
		}
	}
	for _, p := range fakeimage.Diff(base, got) {
		_, inBase := base[p]
		if !ours[p] && (inBase || !runArtefacts[p]) {
			t.Errorf("%s changed: base %+v, result %+v", p, base[p], got[p])
		}
	}
}

// runArtefacts are the mount points and files a RUN step leaves in an image
// that lacked them; they are not the install's doing.
var runArtefacts = map[string]bool{
	"/dev": true, "/proc": true, "/sys": true, "/run": true, "/etc": true,
	"/etc/hostname": true, "/etc/hosts": true, "/etc/resolv.conf": true,
}

func TestDockerfileOnEveryEra(t *testing.T) {
	b := newBuildah(t)
	shim := netnstest.ShimBinary(t)
	shimData, err := os.ReadFile(shim)
	if err != nil {
		t.Fatal(err)
	}
	ctx := prebuiltContext(t, shim)
	for _, era := range fakeimage.Eras() {
		t.Run(era, func(t *testing.T) {
			entries, err := fakeimage.Era(era)
			if err != nil {
				t.Fatal(err)
			}
			base := baseLayout(t, entries)
			baseImg, err := fakeimage.Image(entries, "amd64")
			if err != nil {
				t.Fatal(err)
			}
			baseFiles, err := fakeimage.Files(baseImg)
			if err != nil {
				t.Fatal(err)
			}
			got, ep := b.bud(t, ctx, "KUBE_PROXY_IMAGE=oci:"+base, "KUBE_VERSION=latest", "--target", "kube-proxy-prebuilt")
			assertPatched(t, baseFiles, got, shimData)
			if !slices.Equal(ep, fakeimage.Entrypoint()) {
				t.Errorf("entrypoint %v, want kube-proxy's %v", ep, fakeimage.Entrypoint())
			}
		})
	}
}

// TestDockerfileTakesEachArchitecturesShim builds for arm64 on this amd64
// machine: the final stage has no RUN, so no emulation is needed, and the
// prebuilt stage must pick the arm64 root file system. A stand-in binary
// marks which one was taken.
func TestDockerfileTakesEachArchitecturesShim(t *testing.T) {
	b := newBuildah(t)
	ctx := prebuiltContext(t, netnstest.ShimBinary(t))
	arm := filepath.Join(ctx, "dist/rootfs/linux_arm64/usr/sbin")
	if err := os.MkdirAll(arm, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(arm, "iptables-shim"), []byte("arm64 shim"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range netnstest.ShimNames {
		if err := os.Symlink("iptables-shim", filepath.Join(arm, n)); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := fakeimage.Era("v1.25")
	if err != nil {
		t.Fatal(err)
	}
	base := baseLayoutFor(t, entries, "arm64")
	baseImg, _ := fakeimage.Image(entries, "arm64")
	baseFiles, err := fakeimage.Files(baseImg)
	if err != nil {
		t.Fatal(err)
	}
	got, cf := b.budFor(t, "arm64", ctx, "KUBE_PROXY_IMAGE=oci:"+base, "KUBE_VERSION=latest", "--target", "kube-proxy-prebuilt")
	assertPatched(t, baseFiles, got, []byte("arm64 shim"))
	if cf.Architecture != "arm64" || !slices.Equal(cf.Config.Entrypoint, fakeimage.Entrypoint()) {
		t.Errorf("result is %s with entrypoint %v", cf.Architecture, cf.Config.Entrypoint)
	}
}

// TestInstallRunsWithoutAShell builds `RUN ["/usr/sbin/iptables-shim",
// "install"]` (exec form) on bases that have no /bin/sh at all, which is how
// users patch their own images.
func TestInstallRunsWithoutAShell(t *testing.T) {
	b := newBuildah(t)
	shim := netnstest.ShimBinary(t)
	shimData, err := os.ReadFile(shim)
	if err != nil {
		t.Fatal(err)
	}
	for _, era := range []string{"v1.17", "v1.25"} {
		t.Run(era, func(t *testing.T) {
			entries, err := fakeimage.Era(era)
			if err != nil {
				t.Fatal(err)
			}
			entries = slices.DeleteFunc(entries, func(e fakeimage.Entry) bool { return e.Path == "/bin/sh" })
			base := baseLayout(t, entries)
			baseImg, _ := fakeimage.Image(entries, "amd64")
			baseFiles, err := fakeimage.Files(baseImg)
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.TempDir()
			if err := os.WriteFile(filepath.Join(ctx, "iptables-shim"), shimData, 0o755); err != nil {
				t.Fatal(err)
			}
			df := "FROM oci:" + base + ":latest\nCOPY iptables-shim /usr/sbin/iptables-shim\nRUN [\"/usr/sbin/iptables-shim\", \"install\"]\n"
			if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte(df), 0o644); err != nil {
				t.Fatal(err)
			}
			got, ep := b.bud(t, ctx)
			assertPatched(t, baseFiles, got, shimData)
			if !slices.Equal(ep, fakeimage.Entrypoint()) {
				t.Errorf("entrypoint %v", ep)
			}
		})
	}
}
