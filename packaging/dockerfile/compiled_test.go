package dockerfile

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/packaging/internal/fakeimage"
)

// goEnv reads one `go env` value from the toolchain running the tests.
func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "env", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// TestDockerfileCompiledStage builds the default path, the shim compiled
// from this tree inside the Dockerfile, offline: a stand-in for the golang
// image holds only a static busybox, and the toolchain, module cache and
// build cache of this machine are mounted into the RUN steps.
func TestDockerfileCompiledStage(t *testing.T) {
	b := newBuildah(t)
	bb, err := netnstest.LookBinary("busybox")
	if err != nil {
		t.Fatal(err)
	}
	busybox, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	goImg, err := fakeimage.Image([]fakeimage.Entry{
		{Path: "/bin/busybox", Data: string(busybox)},
		{Path: "/bin/sh", Link: "busybox"},
		{Path: "/bin/ln", Link: "busybox"},
		{Path: "/usr/local/go", Dir: true},
		{Path: "/gomodcache", Dir: true},
		{Path: "/gocache", Dir: true},
		{Path: "/tmp", Dir: true},
	}, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	goImg, err = mutate.Config(goImg, v1.Config{Env: []string{
		"PATH=/usr/local/go/bin:/bin", "HOME=/tmp", "GOTOOLCHAIN=local", "GOPROXY=off",
		"GOFLAGS=-buildvcs=false", "GOMODCACHE=/gomodcache", "GOCACHE=/gocache",
	}})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := fakeimage.Era("v1.25")
	if err != nil {
		t.Fatal(err)
	}
	base := baseLayout(t, entries)
	golang := writeLayout(t, goImg)
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	got, cf := b.budFor(t, "amd64", repo,
		"GO_IMAGE=oci:"+golang+":latest", "KUBE_PROXY_IMAGE=oci:"+base, "KUBE_VERSION=latest",
		"--volume", runtime.GOROOT()+":/usr/local/go:ro",
		"--volume", goEnv(t, "GOMODCACHE")+":/gomodcache:ro",
		"--volume", goEnv(t, "GOCACHE")+":/gocache")
	shim := got["/usr/sbin/iptables-shim"]
	if !bytes.HasPrefix([]byte(shim.Data), []byte("\x7fELF")) {
		t.Fatalf("/usr/sbin/iptables-shim is not an ELF binary (%d bytes)", len(shim.Data))
	}
	for _, n := range netnstest.ShimNames {
		if l := got["/usr/sbin/"+n].Link; l != "iptables-shim" {
			t.Errorf("%s -> %q", n, l)
		}
	}
	if got["/usr/sbin/xtables-nft-multi"].Data != "nft backend" || !slices.Equal(cf.Config.Entrypoint, fakeimage.Entrypoint()) {
		t.Error("backend or entrypoint changed")
	}
}
