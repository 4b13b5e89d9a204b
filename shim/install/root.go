package install

import (
	"github.com/iptables-shim/iptables-shim/internal/rootfs"
)

// fsRoot is the file system the install works on: "/" on a host or in an
// image build, a temporary directory in tests. Paths given to its methods are
// absolute paths inside the root; absolute link targets are looked up inside
// the root again, never on the host.
type fsRoot struct {
	dir string
}

func (r fsRoot) fs() rootfs.Root { return rootfs.Root(r.dir) }

// host turns a path inside the root into the path the process opens.
func (r fsRoot) host(p string) string { return r.fs().Host(p) }

// resolve follows every symlink in p, inside the root.
func (r fsRoot) resolve(p string) (string, error) { return r.fs().Resolve(p) }

// fileIdentity is a file's device and inode: two paths name the same file
// when they agree, whatever links lead there.
type fileIdentity = rootfs.FileID

// identity returns the identity of the file p (inside the root) finally
// resolves to.
func (r fsRoot) identity(p string) (fileIdentity, error) { return r.fs().Identity(p) }
