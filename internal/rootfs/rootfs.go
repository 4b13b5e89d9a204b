// Package rootfs looks at a file system tree as if it were mounted at "/":
// an image unpacked in a directory, the host's root mounted at /host in a
// pod, or a fake root in a test. Symbolic links are followed inside the
// tree, absolute targets (/etc/alternatives/iptables) included, which
// filepath.EvalSymlinks cannot do: it would follow them on the machine the
// process runs on.
package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// MaxHops bounds a chain of symbolic links, like the kernel's ELOOP limit.
const MaxHops = 40

// ErrLoop is returned (wrapped) for a chain longer than MaxHops.
var ErrLoop = errors.New("too many levels of symbolic links")

// Root is the directory taken as "/". "" and "/" are the real root, where
// paths are used as they are.
type Root string

// Host turns an absolute path inside the root into the path the process
// opens.
func (r Root) Host(p string) string {
	if r == "" || r == "/" {
		return p
	}
	return filepath.Join(string(r), p)
}

// Resolve follows every symbolic link in p (an absolute path inside the
// root) and returns the absolute path, inside the root, of the file it
// leads to. Every component must exist. ".." is taken after the links
// before it are followed, as the kernel does, and never climbs out of the
// root.
func (r Root) Resolve(p string) (string, error) {
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
		fi, err := os.Lstat(r.Host(next))
		if err != nil {
			return "", err
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			cur = next
			continue
		}
		if hops++; hops > MaxHops {
			return "", fmt.Errorf("%s: %w", p, ErrLoop)
		}
		target, err := os.Readlink(r.Host(next))
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

// FileID is a file's identity: two paths name the same file when device
// and inode agree, whatever links lead to them.
type FileID struct {
	Dev, Ino uint64
}

// IDOf is the identity of the file fi describes; ok is false when the
// file system gives none.
func IDOf(fi os.FileInfo) (id FileID, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return FileID{}, false
	}
	return FileID{Dev: uint64(st.Dev), Ino: uint64(st.Ino)}, true //nolint:unconvert // Dev is uint32 on some arches
}

// Identity is the identity of the file p (inside the root) finally
// resolves to.
func (r Root) Identity(p string) (FileID, error) {
	real, err := r.Resolve(p)
	if err != nil {
		return FileID{}, err
	}
	fi, err := os.Stat(r.Host(real))
	if err != nil {
		return FileID{}, err
	}
	id, ok := IDOf(fi)
	if !ok {
		return FileID{}, fmt.Errorf("%s: no device and inode available", p)
	}
	return id, nil
}
