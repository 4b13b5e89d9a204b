package install

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// maxLinkHops bounds symlink chains the way the kernel's ELOOP limit does.
const maxLinkHops = 40

// errLinkLoop reports a symlink chain longer than maxLinkHops.
var errLinkLoop = errors.New("too many levels of symbolic links")

// fsRoot is the file system the install works on: "/" on a host or in an
// image build, a temporary directory in tests. Paths given to its methods are
// absolute paths inside the root; absolute link targets are looked up inside
// the root again, never on the host.
type fsRoot struct {
	dir string
}

// host turns a path inside the root into the path the process opens.
func (r fsRoot) host(p string) string {
	if r.dir == "" || r.dir == "/" {
		return p
	}
	return filepath.Join(r.dir, p)
}

// resolve follows every symlink in p, inside the root.
func (r fsRoot) resolve(p string) (string, error) {
	rest := strings.Split(p, "/")
	cur := "/"
	hops := 0
	for len(rest) > 0 {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, c)
		fi, err := os.Lstat(r.host(next))
		if err != nil {
			return "", err
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			cur = next
			continue
		}
		if hops++; hops > maxLinkHops {
			return "", fmt.Errorf("%s: %w", p, errLinkLoop)
		}
		target, err := os.Readlink(r.host(next))
		if err != nil {
			return "", err
		}
		if path.IsAbs(target) {
			cur = "/"
		}
		rest = append(strings.Split(target, "/"), rest...)
	}
	return cur, nil
}

// fileIdentity is a file's device and inode: two paths name the same file
// when they agree, whatever links lead there.
type fileIdentity struct {
	dev, ino uint64
}

// identity returns the identity of the file p (inside the root) finally
// resolves to.
func (r fsRoot) identity(p string) (fileIdentity, error) {
	real, err := r.resolve(p)
	if err != nil {
		return fileIdentity{}, err
	}
	fi, err := os.Stat(r.host(real))
	if err != nil {
		return fileIdentity{}, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileIdentity{}, fmt.Errorf("%s: no device and inode available", p)
	}
	return fileIdentity{dev: uint64(st.Dev), ino: uint64(st.Ino)}, nil
}
