package execbackend

import (
	"os"

	"github.com/iptables-shim/iptables-shim/internal/rootfs"
)

// resolveIn follows symlinks in p (an absolute path inside root) as if root
// were "/": an absolute link target such as /etc/alternatives/iptables is
// looked up under root again, never on the host.
func resolveIn(root, p string) (string, error) { return rootfs.Root(root).Resolve(p) }

// hostPath turns a path inside root into the path the process opens.
func hostPath(root, p string) string { return rootfs.Root(root).Host(p) }

// fileID is a file's identity (device and inode).
type fileID = rootfs.FileID

func idOf(fi os.FileInfo) (fileID, bool) { return rootfs.IDOf(fi) }

// selfID is the identity of the file at self (normally /proc/self/exe, the
// running shim). ok is false when it cannot be told, in which case no
// candidate is ever taken for the shim by identity. os.Stat follows the
// kernel's magic link, which resolving by name inside a root could not.
func selfID(self string) (fileID, bool) {
	fi, err := os.Stat(self)
	if err != nil {
		return fileID{}, false
	}
	return idOf(fi)
}
