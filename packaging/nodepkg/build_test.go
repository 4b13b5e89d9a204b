package nodepkg

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// standIn writes a small file to stand in for a shim binary where the bytes
// do not matter (build checks), so foreign architectures need no compile.
func standIn(t *testing.T, arch string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "iptables-shim-"+arch)
	if err := os.WriteFile(p, []byte("#!stand-in shim for "+arch+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// repoLicense is the repository's LICENSE, which the packages carry.
const repoLicense = "../../LICENSE"

func buildTo(t *testing.T, spec Spec, format string) string {
	t.Helper()
	if spec.License == "" {
		spec.License = repoLicense
	}
	name, err := FileName(spec, format)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), name)
	var buf bytes.Buffer
	if err := Build(spec, format, &buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPackagesAreReproducible(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		shim := standIn(t, arch)
		for _, format := range Formats() {
			var a, b bytes.Buffer
			spec := Spec{Version: "0.1.0", Arch: arch, Shim: shim, License: repoLicense}
			if err := Build(spec, format, &a); err != nil {
				t.Fatal(err)
			}
			if err := Build(spec, format, &b); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Errorf("%s %s: two builds differ", format, arch)
			}
		}
	}
}

func TestBuildNeedsTheLicense(t *testing.T) {
	err := Build(Spec{Version: "0.1.0", Arch: "amd64", Shim: standIn(t, "amd64")}, "deb", &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "license file") {
		t.Errorf("Build without License: %v", err)
	}
}

func TestFileNames(t *testing.T) {
	for _, c := range []struct{ arch, format, want string }{
		{"amd64", "rpm", "iptables-shim-0.1.0-1.x86_64.rpm"},
		{"arm64", "rpm", "iptables-shim-0.1.0-1.aarch64.rpm"},
		{"amd64", "deb", "iptables-shim_0.1.0-1_amd64.deb"},
		{"arm64", "deb", "iptables-shim_0.1.0-1_arm64.deb"},
	} {
		got, err := FileName(Spec{Version: "0.1.0", Arch: c.arch}, c.format)
		if err != nil || got != c.want {
			t.Errorf("%s %s: %q %v, want %q", c.arch, c.format, got, err, c.want)
		}
	}
	// A pre-release sorts before its release in dpkg and rpm ("~"), and
	// build metadata stays.
	for _, c := range []struct{ version, format, want string }{
		{"1.2.3-rc.1", "deb", "iptables-shim_1.2.3~rc.1-1_amd64.deb"},
		{"1.2.3-rc.1", "rpm", "iptables-shim-1.2.3~rc.1-1.x86_64.rpm"},
		{"1.2.3+4.gabcdef0", "deb", "iptables-shim_1.2.3+4.gabcdef0-1_amd64.deb"},
	} {
		got, err := FileName(Spec{Version: c.version, Arch: "amd64"}, c.format)
		if err != nil || got != c.want {
			t.Errorf("%s %s: %q %v, want %q", c.version, c.format, got, err, c.want)
		}
	}
	if _, err := FileName(Spec{Version: "1"}, "apk"); err == nil {
		t.Error("unknown format accepted")
	}
}

func rpmQuery(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := netnstest.LookBinary("rpm")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("rpm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// wantFiles is what both packages install, with the link targets.
var wantFiles = map[string]string{
	"/usr/libexec/iptables-shim/bin/iptables-shim":         "",
	"/usr/libexec/iptables-shim/bin/iptables":              "iptables-shim",
	"/usr/libexec/iptables-shim/bin/iptables-save":         "iptables-shim",
	"/usr/libexec/iptables-shim/bin/iptables-restore":      "iptables-shim",
	"/usr/libexec/iptables-shim/bin/ip6tables":             "iptables-shim",
	"/usr/libexec/iptables-shim/bin/ip6tables-save":        "iptables-shim",
	"/usr/libexec/iptables-shim/bin/ip6tables-restore":     "iptables-shim",
	"/usr/sbin/iptables-shim":                              "../libexec/iptables-shim/bin/iptables-shim",
	"/usr/libexec/iptables-shim/takeover":                  "",
	"/usr/lib/systemd/system/iptables-shim-repair.path":    "",
	"/usr/lib/systemd/system/iptables-shim-repair.service": "",
}

func TestRPMMetadata(t *testing.T) {
	netnstest.Require(t, "rpm")
	for _, c := range []struct{ arch, rpmArch string }{{"amd64", "x86_64"}, {"arm64", "aarch64"}} {
		pkg := buildTo(t, Spec{Version: "0.1.0", Arch: c.arch, Shim: standIn(t, c.arch)}, "rpm")
		got := map[string]string{}
		for _, l := range strings.Split(strings.TrimSpace(rpmQuery(t, "-qp", "--qf", "[%{FILENAMES}|%{FILELINKTOS}\n]", pkg)), "\n") {
			name, link, _ := strings.Cut(l, "|")
			got[name] = link
		}
		for name, link := range wantFiles {
			if g, ok := got[name]; !ok || g != link {
				t.Errorf("%s: %s -> %q (present %v), want -> %q", c.arch, name, g, ok, link)
			}
		}
		if lic := rpmQuery(t, "-qpL", pkg); strings.TrimSpace(lic) != "/usr/share/licenses/iptables-shim/LICENSE" {
			t.Errorf("rpm -qpL (license files): %q", lic)
		}
		list := rpmQuery(t, "-qpl", pkg)
		if !strings.Contains(list, "/usr/libexec/iptables-shim/bin/iptables-restore") {
			t.Errorf("rpm -qpl:\n%s", list)
		}
		if tags := rpmQuery(t, "-qp", "--qf", "%{ARCH} %{PAYLOADCOMPRESSOR} %{BUILDHOST}", pkg); tags != c.rpmArch+" xz iptables-shim" {
			t.Errorf("tags %q", tags)
		}
		scripts := rpmQuery(t, "-qp", "--scripts", pkg)
		for _, want := range []string{"postinstall scriptlet", "preuninstall scriptlet", "takeover enable", "takeover disable"} {
			if !strings.Contains(scripts, want) {
				t.Errorf("--scripts lacks %q:\n%s", want, scripts)
			}
		}
		if k := rpmQuery(t, "-K", "--nosignature", pkg); !strings.Contains(k, "digests OK") {
			t.Errorf("rpm -K: %s", k)
		}
	}
}

func TestDebMetadata(t *testing.T) {
	netnstest.Require(t, "dpkg-deb")
	pkg := buildTo(t, Spec{Version: "0.1.0", Arch: "arm64", Shim: standIn(t, "arm64")}, "deb")
	out, err := exec.Command("/usr/bin/dpkg-deb", "--field", pkg, "Package", "Architecture", "Version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Architecture: arm64") || !strings.Contains(string(out), "Version: 0.1.0-1") {
		t.Errorf("dpkg-deb --field: %v\n%s", err, out)
	}
	out, err = exec.Command("/usr/bin/dpkg-deb", "--contents", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for name, link := range wantFiles {
		want := "." + name
		if link != "" {
			want += " -> " + link
		}
		if !strings.Contains(string(out), want) {
			t.Errorf("deb lacks %s", want)
		}
	}
	if !strings.Contains(string(out), "./usr/share/doc/iptables-shim/copyright") || strings.Contains(string(out), "/usr/share/licenses/") {
		t.Errorf("deb: want the copyright file and no rpm license file:\n%s", out)
	}
	out, err = exec.Command("/usr/bin/dpkg-deb", "--ctrl-tarfile", pkg).Output()
	if err != nil || !bytes.Contains(out, []byte("takeover disable")) {
		t.Errorf("deb maintainer scripts missing: %v", err)
	}
	if ar, err := os.ReadFile(pkg); err != nil || !bytes.Contains(ar, []byte("data.tar.xz")) {
		t.Errorf("deb payload is not xz: %v", err)
	}
}

func TestShellcheckScriptlets(t *testing.T) {
	netnstest.Require(t, "shellcheck")
	dir := t.TempDir()
	if err := os.CopyFS(dir, assets); err != nil {
		t.Fatal(err)
	}
	scripts, _ := filepath.Glob(filepath.Join(dir, "scripts", "*.sh"))
	if len(scripts) != 3 {
		t.Fatalf("scripts: %v", scripts)
	}
	out, err := exec.Command("/usr/bin/shellcheck", append([]string{"--shell=sh", "--severity=style"}, scripts...)...).CombinedOutput()
	if err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}

var (
	rhelAltOnce sync.Once
	rhelAltPath string
	rhelAltErr  error
)

// rhelAlternatives builds the chkconfig alternatives double once.
func rhelAlternatives(t *testing.T) string {
	t.Helper()
	rhelAltOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rhelalternatives-")
		if err != nil {
			rhelAltErr = err
			return
		}
		rhelAltPath = filepath.Join(dir, "alternatives")
		cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", rhelAltPath, "./internal/rhelalternatives")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			rhelAltErr = err
			t.Log(string(out))
		}
	})
	if rhelAltErr != nil {
		t.Fatal(rhelAltErr)
	}
	return rhelAltPath
}
