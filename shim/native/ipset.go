package native

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ipset's getsockopt interface (linux/netfilter/ipset/ip_set.h), the one
// libxt_set uses to turn a set name into the index the set match stores.
const (
	soIPSet          = 83
	ipsetOpGetByName = 0x00000006
	ipsetOpGetByIdx  = 0x00000007
	ipsetProtocolMin = 6
	ipsetMaxNameLen  = 32
	ipsetInvalidID   = 0xffff
)

// kernelIPSets resolves ipset names in the calling thread's network
// namespace.
type kernelIPSets struct{}

// ipsetReq is struct ip_set_req_get_set: op, version, then the name/index
// union.
type ipsetReq struct {
	op, version uint32
	set         [ipsetMaxNameLen]byte
}

func ipsetQuery(req *ipsetReq) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
	if err != nil {
		return fmt.Errorf("ipset socket: %w", err)
	}
	defer unix.Close(fd)
	size := uint32(unsafe.Sizeof(*req))
	_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.IPPROTO_IP, soIPSet,
		uintptr(unsafe.Pointer(req)), uintptr(unsafe.Pointer(&size)), 0)
	if errno != 0 {
		return fmt.Errorf("ipset getsockopt: %w", errno)
	}
	return nil
}

// Index returns the kernel index of the named set.
func (kernelIPSets) Index(name string) (uint16, error) {
	if len(name) >= ipsetMaxNameLen {
		return 0, fmt.Errorf("setname `%s' too long, max %d characters", name, ipsetMaxNameLen-1)
	}
	req := ipsetReq{op: ipsetOpGetByName, version: ipsetProtocolMin}
	copy(req.set[:], name)
	if err := ipsetQuery(&req); err != nil {
		return 0, err
	}
	idx := binary.NativeEndian.Uint16(req.set[:])
	if idx == ipsetInvalidID {
		return 0, fmt.Errorf("Set %s doesn't exist.", name)
	}
	return idx, nil
}

// Name returns the name of the set with index idx.
func (kernelIPSets) Name(idx uint16) (string, error) {
	req := ipsetReq{op: ipsetOpGetByIdx, version: ipsetProtocolMin}
	binary.NativeEndian.PutUint16(req.set[:], idx)
	if err := ipsetQuery(&req); err != nil {
		return "", err
	}
	n := bytes.IndexByte(req.set[:], 0)
	if n <= 0 {
		return "", fmt.Errorf("no set with index %d", idx)
	}
	return string(req.set[:n]), nil
}
