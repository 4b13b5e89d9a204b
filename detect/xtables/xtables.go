// Package xtables reads legacy x_tables (iptables-legacy) state straight from
// the kernel, without running any binary: which tables exist, from
// /proc/net/ip{,6}_tables_names, and for those only their entries, through
// getsockopt(IPT_SO_GET_INFO / IPT_SO_GET_ENTRIES) on a raw socket.
//
// Asking the kernel for a table that does not exist yet makes it create that
// table (the iptable_* modules instantiate tables on first use), which would
// plant evidence and change the host. Reader therefore refuses every table the
// names file does not list.
package xtables

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/shim/netfilter"
)

// ErrUnavailable means x_tables is not usable for a family here (the
// ip_tables / ip6_tables module is not loaded, so the names file is absent).
var ErrUnavailable = errors.New("x_tables unavailable")

// ErrNotListed means a table was asked for that the kernel does not list;
// reading it would create it.
var ErrNotListed = errors.New("table not listed in the kernel's tables names")

// layout holds what differs between ip_tables and ip6_tables: the struct
// sizes come from linux/netfilter_ipv4/ip_tables.h and
// linux/netfilter_ipv6/ip6_tables.h (the x_tables target header is common).
type layout struct {
	domain      int    // socket domain of the raw socket
	level       int    // getsockopt level
	namesFile   string // under /proc/thread-self/net
	entrySize   int    // sizeof(struct ipt_entry) / sizeof(struct ip6t_entry)
	offsetsAt   int    // offsetof(target_offset); next_offset follows it
	hookNames   [numHooks]string
	description string
}

const (
	tableNameLen = 32 // XT_TABLE_MAXNAMELEN
	numHooks     = 5  // NF_INET_NUMHOOKS

	targetHeader   = 32 // sizeof(struct xt_entry_target)
	targetNameAt   = 2  // u.user.name follows u.user.target_size
	targetNameLen  = 29 // XT_EXTENSION_MAXNAMELEN
	errorTarget    = "ERROR"
	standardTarget = ""
)

var hooks = [numHooks]string{"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"}

func layoutOf(f netfilter.Family) layout {
	if f == netfilter.IPv6 {
		return layout{domain: unix.AF_INET6, level: unix.SOL_IPV6, namesFile: "ip6_tables_names",
			entrySize: 168, offsetsAt: 140, hookNames: hooks, description: "ip6_tables"}
	}
	return layout{domain: unix.AF_INET, level: unix.SOL_IP, namesFile: "ip_tables_names",
		entrySize: 112, offsetsAt: 88, hookNames: hooks, description: "ip_tables"}
}

// procNet is the per-thread view of /proc/net: a thread that entered another
// network namespace (tests do) sees that namespace's tables there, while
// /proc/self/net would show the thread group leader's.
func procNet(name string) string {
	if _, err := os.Stat("/proc/thread-self"); err == nil {
		return "/proc/thread-self/net/" + name
	}
	return "/proc/self/net/" + name
}

// Kernel is the x_tables side of a kernel as a Reader asks it: a family's
// table names (the names file) and a socket for IPT_SO_GET_INFO and
// IPT_SO_GET_ENTRIES. Nil means the running kernel's; detect/xtables/fake
// holds an in-memory one, so the reading logic is tested without root.
type Kernel interface {
	// TableNames lists the family's tables; an error wrapping
	// ErrUnavailable means the family has no x_tables here.
	TableNames(f netfilter.Family) ([]string, error)
	// Socket opens what the getsockopt calls go to.
	Socket(f netfilter.Family) (Socket, error)
}

// Socket answers getsockopt at the family's level (SOL_IP, SOL_IPV6), as
// a raw socket does.
type Socket interface {
	// Getsockopt fills buf for opt (GetInfo, GetEntries) and returns the
	// length; a refusal is a unix.Errno (EAGAIN: the table changed size).
	Getsockopt(opt int, buf []byte) (int, error)
	Close() error
}

// The getsockopt options a Socket answers (IPT_SO_GET_INFO and
// IPT_SO_GET_ENTRIES, equal to their IP6T_ twins), with the layout of
// their buffers: struct ipt_getinfo, and struct ipt_get_entries' header.
const (
	GetInfo    = 64
	GetEntries = 65
	// GetInfoSize is sizeof(struct ipt_getinfo): name, valid_hooks,
	// hook_entry[5], underflow[5], num_entries, size.
	GetInfoSize = tableNameLen + 4 + 4*numHooks*2 + 4 + 4
	// EntriesHeader is offsetof(struct ipt_get_entries, entrytable):
	// name, size, padding to 8.
	EntriesHeader = 40
)

// kernel is the running kernel's x_tables.
type kernel struct{}

func (kernel) TableNames(f netfilter.Family) ([]string, error) { return TableNames(f) }

func (kernel) Socket(f netfilter.Family) (Socket, error) {
	l := layoutOf(f)
	fd, err := unix.Socket(l.domain, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
	if err != nil {
		return nil, err
	}
	return rawSocket{fd: fd, level: l.level}, nil
}

// rawSocket is a raw IP socket, for getsockopt.
type rawSocket struct{ fd, level int }

func (s rawSocket) Getsockopt(opt int, buf []byte) (int, error) {
	n := uint32(len(buf))
	_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(s.fd), uintptr(s.level), uintptr(opt),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)), 0)
	runtime.KeepAlive(buf)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

func (s rawSocket) Close() error { return unix.Close(s.fd) }

// TableNames lists the tables of a family that exist in the current network
// namespace. It reads a small /proc file and never creates a table.
func TableNames(f netfilter.Family) ([]string, error) {
	l := layoutOf(f)
	data, err := os.ReadFile(procNet(l.namesFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s not loaded (no /proc/net/%s)", ErrUnavailable, l.description, l.namesFile)
		}
		return nil, fmt.Errorf("reading /proc/net/%s: %w", l.namesFile, err)
	}
	return strings.Fields(string(data)), nil
}

// Info is what IPT_SO_GET_INFO says about a table.
type Info struct {
	Name       string
	ValidHooks uint32
	HookEntry  [numHooks]uint32
	Underflow  [numHooks]uint32
	// Entries counts every entry: rules, built-in policies, user chain heads
	// and tails, and the final ERROR entry.
	Entries uint32
	Size    uint32
}

// Reader reads the tables of one family. It holds a socket; Close it.
type Reader struct {
	fam    netfilter.Family
	l      layout
	sock   Socket
	listed map[string]bool
}

// Open lists the family's tables in the running kernel and opens the raw
// socket getsockopt needs.
func Open(f netfilter.Family) (*Reader, error) { return OpenOn(nil, f) }

// OpenOn is Open on k (the running kernel when nil).
func OpenOn(k Kernel, f netfilter.Family) (*Reader, error) {
	if k == nil {
		k = kernel{}
	}
	names, err := k.TableNames(f)
	if err != nil {
		return nil, err
	}
	l := layoutOf(f)
	s, err := k.Socket(f)
	if err != nil {
		return nil, fmt.Errorf("%w: raw socket for %s: %w", ErrUnavailable, l.description, err)
	}
	r := &Reader{fam: f, l: l, sock: s, listed: map[string]bool{}}
	for _, n := range names {
		r.listed[n] = true
	}
	return r, nil
}

// Close releases the socket.
func (r *Reader) Close() error { return r.sock.Close() }

// Tables are the table names the kernel listed when the Reader was opened.
func (r *Reader) Tables() []string {
	out := make([]string, 0, len(r.listed))
	for n := range r.listed {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Listed reports whether the kernel listed a table.
func (r *Reader) Listed(table string) bool { return r.listed[table] }

// Info asks the kernel for a listed table's summary: one small copy whatever
// the table's size.
func (r *Reader) Info(table string) (Info, error) {
	if !r.listed[table] {
		return Info{}, fmt.Errorf("%s %s: %w", r.l.description, table, ErrNotListed)
	}
	if len(table) >= tableNameLen {
		return Info{}, fmt.Errorf("table name %q too long", table)
	}
	buf := make([]byte, GetInfoSize)
	copy(buf, table)
	if _, err := r.sock.Getsockopt(GetInfo, buf); err != nil {
		return Info{}, fmt.Errorf("%s IPT_SO_GET_INFO %s: %w", r.l.description, table, err)
	}
	ne := binary.NativeEndian
	in := Info{Name: table, ValidHooks: ne.Uint32(buf[tableNameLen:])}
	p := tableNameLen + 4
	for i := range numHooks {
		in.HookEntry[i] = ne.Uint32(buf[p+4*i:])
		in.Underflow[i] = ne.Uint32(buf[p+4*numHooks+4*i:])
	}
	p += 8 * numHooks
	in.Entries = ne.Uint32(buf[p:])
	in.Size = ne.Uint32(buf[p+4:])
	return in, nil
}

// Entries copies a listed table's entry blob. The kernel refuses the copy
// when the table changed size since Info (EAGAIN); that is retried a few
// times.
func (r *Reader) Entries(table string) (Info, []byte, error) {
	var lastErr error
	for range 5 {
		in, err := r.Info(table)
		if err != nil {
			return Info{}, nil, err
		}
		buf := make([]byte, EntriesHeader+int(in.Size))
		copy(buf, table)
		binary.NativeEndian.PutUint32(buf[tableNameLen:], in.Size)
		if _, err := r.sock.Getsockopt(GetEntries, buf); err != nil {
			lastErr = err
			if errors.Is(err, unix.EAGAIN) {
				continue
			}
			break
		}
		return in, buf[EntriesHeader:], nil
	}
	return Info{}, nil, fmt.Errorf("%s IPT_SO_GET_ENTRIES %s: %w", r.l.description, table, lastErr)
}

// HasChain reports whether a listed table holds the user chain named chain.
// It copies the table's entries (the kernel offers nothing smaller) but only
// walks them for chain heads, building nothing: on a big table that is a
// fraction of what Table costs. An unlisted table has no chains.
func (r *Reader) HasChain(table, chain string) (bool, error) {
	found, err := r.ChainsIn(table, []string{chain})
	return found[chain], err
}

// ChainsIn reports which of names are user chains of a table, from one copy
// of its entries, walked for chain heads only. An unlisted table is not
// read (that would create it): it has none of them.
func (r *Reader) ChainsIn(table string, names []string) (map[string]bool, error) {
	found := map[string]bool{}
	if !r.listed[table] {
		return found, nil
	}
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	_, blob, err := r.Entries(table)
	if err != nil {
		return nil, err
	}
	err = walkChainHeads(r.l, blob, func(name []byte) bool {
		if want[string(name)] {
			found[string(name)] = true
		}
		return len(found) < len(want)
	})
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.l.description, table, err)
	}
	return found, nil
}

// walkChainHeads calls fn with the name of every user chain head (an entry
// with the ERROR target carrying the chain's name; the table's final ERROR
// entry is not one) until fn returns false.
func walkChainHeads(l layout, blob []byte, fn func(name []byte) bool) error {
	ne := binary.NativeEndian
	for off := 0; off < len(blob); {
		if off+l.entrySize > len(blob) {
			return fmt.Errorf("truncated entry at offset %d", off)
		}
		tOff := int(ne.Uint16(blob[off+l.offsetsAt:]))
		next := int(ne.Uint16(blob[off+l.offsetsAt+2:]))
		if next < l.entrySize || off+next > len(blob) || tOff < l.entrySize || tOff+targetHeader > next {
			return fmt.Errorf("malformed entry at offset %d (target %d, next %d)", off, tOff, next)
		}
		tgt := blob[off+tOff : off+next]
		if string(cStringBytes(tgt[targetNameAt:targetNameAt+targetNameLen])) == errorTarget {
			name := cStringBytes(tgt[targetHeader:])
			last := off+next == len(blob)
			if !(last && string(name) == errorTarget) && !fn(name) {
				return nil
			}
		}
		off += next
	}
	return nil
}

func cStringBytes(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

// Stamp summarises a listed table from IPT_SO_GET_INFO alone (entry count,
// size, hook and underflow offsets): one small copy, whatever the table's
// size. Every change that adds or removes entries changes it; a change that
// keeps the entry count and byte size (a rename to a name of the same
// length, one rule swapped for another of the same size) does not, so it
// can tell "maybe changed" but never proves "unchanged". An unlisted table
// stamps as "absent".
func (r *Reader) Stamp(table string) (string, error) {
	if !r.listed[table] {
		return "absent", nil
	}
	in, err := r.Info(table)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("entries=%d size=%d hooks=%x hook=%v under=%v", in.Entries, in.Size, in.ValidHooks, in.HookEntry, in.Underflow), nil
}
