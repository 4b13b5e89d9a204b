package doctor

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/detect"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// XtablesLockPath is where iptables and kube-proxy take the xtables lock.
const XtablesLockPath = "/run/xtables.lock"

func readKernel(inv Inventory, legacy detect.LegacyProber) Kernel {
	k := Kernel{XtablesLock: readLock(XtablesLockPath)}
	var u unix.Utsname
	if err := unix.Uname(&u); err == nil {
		k.Release = unix.ByteSliceToString(u.Release[:])
	}
	nft := inv.family("nft", "ipv4")
	k.NFTables = facility(nft.Err, nft.Unavailable)
	for _, f := range []syntax.Family{syntax.IPv4, syntax.IPv6} {
		err := legacy.Loaded(f)
		fac := facility(err, detect.IsUnavailable(err))
		if f == syntax.IPv4 {
			k.XTablesIPv4 = fac
		} else {
			k.XTablesIPv6 = fac
		}
	}
	return k
}

func facility(err error, unavailable bool) Facility {
	if err == nil {
		return Facility{Available: true}
	}
	return Facility{Available: !unavailable, Error: err.Error()}
}

// readLock reports the lock file and whether /proc/locks shows a lock on its
// inode: looking, not locking, so the doctor never stalls a real caller.
func readLock(path string) Lock {
	l := Lock{Path: path}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return l
	}
	l.Exists = true
	data, err := os.ReadFile("/proc/locks")
	if err != nil {
		return l
	}
	// Fields: "1: FLOCK ADVISORY WRITE 1234 00:1a:5678 0 EOF"; the sixth
	// is major:minor:inode.
	suffix := fmt.Sprintf(":%d", st.Ino)
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 6 && strings.HasSuffix(f[5], suffix) {
			l.Held = true
		}
	}
	return l
}
