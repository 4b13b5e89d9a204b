package execbackend

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// maxSymlinkHops bounds symlink chains like the kernel's ELOOP limit does.
const maxSymlinkHops = 40

// errSymlinkLoop is returned for a chain longer than maxSymlinkHops.
var errSymlinkLoop = errors.New("too many levels of symbolic links")

// resolveIn follows symlinks in p (an absolute path inside root) as if root
// were "/": an absolute link target such as /etc/alternatives/iptables is
// looked up under root again, never on the host. filepath.EvalSymlinks cannot
// do this, and tests need a fake root that holds absolute links.
func resolveIn(root, p string) (string, error) {
	rest := splitPath(p)
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
		fi, err := os.Lstat(hostPath(root, next))
		if err != nil {
			return "", err
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			cur = next
			continue
		}
		if hops++; hops > maxSymlinkHops {
			return "", fmt.Errorf("%s: %w", p, errSymlinkLoop)
		}
		target, err := os.Readlink(hostPath(root, next))
		if err != nil {
			return "", err
		}
		if path.IsAbs(target) {
			cur = "/"
		}
		rest = append(splitPath(target), rest...)
	}
	return cur, nil
}

func splitPath(p string) []string { return strings.Split(p, "/") }

// hostPath turns a path inside root into the path the process opens.
func hostPath(root, p string) string {
	if root == "" || root == "/" {
		return p
	}
	return filepath.Join(root, p)
}

// fileID is a file's identity: two paths name the same file when device and
// inode agree, whatever links lead to them.
type fileID struct {
	dev, ino uint64
}

func idOf(fi os.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}, true //nolint:unconvert // Dev is uint32 on some arches
}

// selfID is the identity of the file at self (normally /proc/self/exe, the
// running shim). ok is false when it cannot be told, in which case no
// candidate is ever taken for the shim by identity.
func selfID(self string) (fileID, bool) {
	fi, err := os.Stat(self)
	if err != nil {
		return fileID{}, false
	}
	return idOf(fi)
}
