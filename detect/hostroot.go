package detect

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// initialPIDNSInode is the inode of the initial PID namespace
// (PROC_PID_INIT_INO, fixed by the kernel since Linux 3.8). Only a process
// in that namespace sees the host's PID 1 as its own PID 1.
const initialPIDNSInode = 0xEFFFFFFC

// initialMntNSInode is the initial mount namespace's inode on kernels that
// give the initial namespaces fixed inodes (MNT_NS_INIT_INO, Linux 6.18);
// older kernels number it dynamically from 0xF0000000, so no namespace
// there can be mistaken for it.
const initialMntNSInode = 0xEFFFFFF8

// initialNetNSInode is the same for the initial network namespace
// (NET_NS_INIT_INO).
const initialNetNSInode = 0xEFFFFFF9

// initRoot is the host's root as PID 1 of the initial PID namespace sees it.
const initRoot = "/proc/1/root"

// RootTrust says whether a host root really is the host's, where its files
// are read from, and why.
type RootTrust struct {
	// ReadFrom is the directory the hints are read under: the host root
	// itself, or /proc/1/root when "/" is this process's own (an image's)
	// but the host's PID 1 is visible. Empty when not trusted.
	ReadFrom string
	Trusted  bool
	Why      string
}

// CheckHostRoot decides whether root can stand for the host's root file
// system. Host hints read from an image would describe the image, not the
// host (a Debian 9 image's alternatives say "legacy" on any host), so they
// count only on positive evidence:
//
//   - a root other than "/" must be a mount point: the host's / mounted
//     into the container (hostPath "/" at /host). A plain directory is part
//     of the image;
//   - "/" is the host's root when this process runs in the initial PID
//     namespace, in the mount namespace of PID 1 (or the initial one, on
//     kernels that number it), under the same root directory: the node
//     package's case. In the initial PID namespace but
//     in a mount namespace of its own (ip netns exec, a hostPID container),
//     its / may be overlaid, so the hints are read through /proc/1/root, the
//     host PID 1's root. In any other PID namespace (a container) "/" is
//     taken for an image's and not used.
//
// Anything that cannot be checked (permission denied reading /proc/1) is
// untrusted, with the reason.
func CheckHostRoot(root string) RootTrust {
	if root == "" {
		return RootTrust{Why: "host hints are switched off"}
	}
	root = filepath.Clean(root)
	if root != "/" {
		return checkMountedRoot(root)
	}
	pidNS, err := nsInode("/proc/self/ns/pid")
	if err != nil {
		return RootTrust{Why: fmt.Sprintf("cannot tell whether / is the host's root: %v", err)}
	}
	if pidNS != initialPIDNSInode {
		return RootTrust{Why: "/ is not known to be the host's root: this process runs in a PID namespace of its own " +
			"(a container), so / is presumably its image; mount the host's / read-only and set host-root to it (e.g. /host) to use host hints"}
	}
	ownMnt, err := nsInode("/proc/self/ns/mnt")
	if err != nil {
		return RootTrust{Why: fmt.Sprintf("cannot tell whether / is the host's root: %v", err)}
	}
	var initSt, ownSt unix.Stat_t
	initErr := unix.Stat(initRoot+"/", &initSt)
	sameRoot := initErr == nil && unix.Stat("/", &ownSt) == nil && ownSt.Dev == initSt.Dev && ownSt.Ino == initSt.Ino
	if ownMnt == initialMntNSInode && (initErr != nil || sameRoot) {
		return RootTrust{ReadFrom: "/", Trusted: true,
			Why: "/ is the host's root: this process runs in the initial mount and PID namespaces"}
	}
	if initMnt, err := nsInode("/proc/1/ns/mnt"); err == nil && initMnt == ownMnt && sameRoot {
		return RootTrust{ReadFrom: "/", Trusted: true,
			Why: "/ is the host's root: this process shares the host PID 1's mount namespace and root"}
	}
	if initErr != nil {
		hint := "run as root"
		if os.Geteuid() == 0 {
			hint = "denied even to root here, so / may be an image's and is not used"
		}
		return RootTrust{Why: fmt.Sprintf("this process has a mount namespace of its own and cannot see the host's root through %s (%v): %s",
			initRoot, initErr, hint)}
	}
	return RootTrust{ReadFrom: initRoot, Trusted: true,
		Why: "this process has a mount namespace (or root) of its own, whose / may be an image's; " +
			"host hints are read through " + initRoot + ", the root of the host's PID 1"}
}

func checkMountedRoot(root string) RootTrust {
	fi, err := os.Stat(root)
	if err != nil {
		return RootTrust{Why: fmt.Sprintf("host-root %s: %v", root, err)}
	}
	if !fi.IsDir() {
		return RootTrust{Why: fmt.Sprintf("host-root %s is not a directory", root)}
	}
	mounted, err := isMountPoint(root)
	if err != nil {
		return RootTrust{Why: fmt.Sprintf("cannot tell whether host-root %s is a mount point: %v", root, err)}
	}
	if !mounted {
		return RootTrust{Why: fmt.Sprintf("host-root %s is not a mount point, so it is part of this image, not the host's root; "+
			"mount the host's / there (read-only)", root)}
	}
	return RootTrust{ReadFrom: root, Trusted: true, Why: fmt.Sprintf("host-root %s is a mount point (the host's / mounted here)", root)}
}

func nsInode(path string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// isMountPoint asks statx (Linux 5.8+) whether dir is the root of a mount,
// and otherwise looks for it in /proc/self/mountinfo.
func isMountPoint(dir string) (bool, error) {
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, dir, 0, unix.STATX_BASIC_STATS, &stx); err == nil &&
		stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 {
		return stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0, nil
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return false, err
	}
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false, err
	}
	return inMountinfo(data, real), nil
}

// inMountinfo reports whether dir is a mount point in a mountinfo table
// (the fifth field, with spaces and the like octal-escaped).
func inMountinfo(data []byte, dir string) bool {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 4 && unescapeMountinfo(f[4]) == dir {
			return true
		}
	}
	return false
}

func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
