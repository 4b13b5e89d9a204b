package nodepkg

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if builtTop != "" {
		_ = os.RemoveAll(builtTop)
	}
	if rhelAltPath != "" {
		_ = os.RemoveAll(filepath.Dir(rhelAltPath))
	}
	os.Exit(code)
}

// throwawayRoot is a directory that package managers install into and run
// scriptlets in (chrooted): busybox provides /bin/sh and the tools the
// scriptlets call.
type throwawayRoot struct {
	t   *testing.T
	dir string
}

func newThrowawayRoot(t *testing.T, tools ...string) throwawayRoot {
	t.Helper()
	netnstest.Require(t, append(tools, "busybox", "chroot")...)
	r := throwawayRoot{t: t, dir: t.TempDir()}
	for _, d := range []string{"bin", "usr/bin", "usr/sbin", "etc/alternatives", "tmp", "var/tmp", "var/log", "var/lib"} {
		r.mkdir("/" + d)
	}
	// Scriptlets redirect to /dev/null: a real device node, since writes to
	// a plain file would pass where a host would not.
	r.mkdir("/dev")
	if err := syscall.Mknod(r.host("/dev/null"), syscall.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatalf("mknod /dev/null: %v", err)
	}
	r.copyFile("/bin/busybox", mustLook(t, "busybox"), 0o755)
	r.chroot("/bin/busybox", "--install", "-s", "/bin")
	return r
}

func mustLook(t *testing.T, name string) string {
	t.Helper()
	p, err := netnstest.LookBinary(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (r throwawayRoot) host(p string) string { return filepath.Join(r.dir, p) }

// inside fails the test unless the directory p (in the root) really lies in
// the throwaway root once its links are followed: the layouts hold absolute
// links such as /etc/alternatives/..., and following one from the test
// process would reach this machine's own files.
func (r throwawayRoot) inside(dir string) {
	r.t.Helper()
	real, err := filepath.EvalSymlinks(r.host(dir))
	if err != nil {
		r.t.Fatal(err)
	}
	base, err := filepath.EvalSymlinks(r.dir)
	if err != nil {
		r.t.Fatal(err)
	}
	if real != base && !strings.HasPrefix(real, base+string(filepath.Separator)) {
		r.t.Fatalf("refusing to write: %s leads to %s, outside the throwaway root", dir, real)
	}
}

func (r throwawayRoot) mkdir(p string) {
	r.t.Helper()
	if err := os.MkdirAll(r.host(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	r.inside(p)
}

// write creates a regular file at p, replacing whatever entry is there and
// never writing through a link (O_NOFOLLOW|O_EXCL after removing it).
func (r throwawayRoot) write(p, content string, mode fs.FileMode) {
	r.t.Helper()
	r.mkdir(filepath.Dir(p))
	_ = os.Remove(r.host(p))
	f, err := os.OpenFile(r.host(p), os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, mode)
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := f.WriteString(content); err != nil {
		r.t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		r.t.Fatal(err)
	}
	if err := os.Chmod(r.host(p), mode); err != nil { // umask
		r.t.Fatal(err)
	}
}

func (r throwawayRoot) copyFile(p, from string, mode fs.FileMode) {
	r.t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		r.t.Fatal(err)
	}
	r.write(p, string(data), mode)
}

func (r throwawayRoot) symlink(p, target string) {
	r.t.Helper()
	r.mkdir(filepath.Dir(p))
	_ = os.Remove(r.host(p))
	if err := os.Symlink(target, r.host(p)); err != nil {
		r.t.Fatal(err)
	}
}

func (r throwawayRoot) readlink(p string) string {
	r.t.Helper()
	s, err := os.Readlink(r.host(p))
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

// run runs a host command and returns its combined output; failure fails
// the test.
func (r throwawayRoot) run(prog string, args ...string) string {
	r.t.Helper()
	out, err := exec.Command(prog, args...).CombinedOutput()
	if err != nil {
		r.t.Fatalf("%s %s: %v\n%s", prog, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// chroot runs a command inside the root.
func (r throwawayRoot) chroot(args ...string) string {
	r.t.Helper()
	return r.run(mustLook(r.t, "chroot"), append([]string{r.dir}, args...)...)
}

func (r throwawayRoot) rpm(args ...string) string {
	r.t.Helper()
	return r.run(mustLook(r.t, "rpm"), append([]string{"--root", r.dir, "--dbpath", "/var/lib/rpm"}, args...)...)
}

// copyDynamic copies a dynamically linked host binary into the root with
// the shared libraries ldd names, at the same paths.
func (r throwawayRoot) copyDynamic(bin string) {
	r.t.Helper()
	r.copyFile(bin, bin, 0o755)
	out := r.run(mustLook(r.t, "ldd"), bin)
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		for _, w := range f {
			if strings.HasPrefix(w, "/") {
				r.copyFile(w, w, 0o755)
				break
			}
		}
	}
}

// resolve follows links inside the root (absolute targets included).
func (r throwawayRoot) resolve(p string) string {
	r.t.Helper()
	return strings.TrimSpace(r.chroot("/bin/readlink", "-f", p))
}

// snapshot records every object under the paths that iptables, the
// alternatives tools and the takeover touch: links with their targets,
// files with their content hashes.
func (r throwawayRoot) snapshot() map[string]string {
	r.t.Helper()
	out := map[string]string{}
	for _, top := range []string{"/usr/sbin", "/usr/bin", "/etc/alternatives", "/var/lib/alternatives", "/var/lib/dpkg/alternatives", "/var/lib/iptables-shim"} {
		_ = filepath.WalkDir(r.host(top), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			rel := strings.TrimPrefix(p, r.dir)
			switch {
			case d.Type()&fs.ModeSymlink != 0:
				t, _ := os.Readlink(p)
				out[rel] = "-> " + t
			case d.IsDir():
				out[rel] = "dir"
			default:
				data, _ := os.ReadFile(p)
				sum := sha256.Sum256(data)
				out[rel] = hex.EncodeToString(sum[:8])
			}
			return nil
		})
	}
	return out
}

func diffSnapshots(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if b[k] != v {
			out = append(out, k+": "+v+" => "+b[k])
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k+": (none) => "+v)
		}
	}
	sort.Strings(out)
	return out
}

var shimNames = []string{"iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore"}

// assertNamesLeadTo checks the six names in dir resolve to want.
func (r throwawayRoot) assertNamesLeadTo(dir, want string) {
	r.t.Helper()
	for _, n := range shimNames {
		if got := r.resolve(dir + "/" + n); got != want {
			r.t.Errorf("%s/%s leads to %s, want %s", dir, n, got, want)
		}
	}
}

// iptablesBackends installs stand-in backend binaries and the per-backend
// names (iptables-nft, ip6tables-legacy-save, ...) as iptables 1.8 ships them.
func (r throwawayRoot) iptablesBackends(dir string, backends ...string) {
	r.t.Helper()
	for _, be := range backends {
		r.write(dir+"/xtables-"+be+"-multi", "#!stand-in "+be+" backend\n", 0o755)
		for _, n := range shimNames {
			r.symlink(dir+"/"+strings.Replace(n, "tables", "tables-"+be, 1), "xtables-"+be+"-multi")
		}
	}
}
