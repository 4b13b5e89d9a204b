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

	"github.com/iptables-shim/iptables-shim/shim/syntax"
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
	soGetInfo    = 64 // IPT_SO_GET_INFO == IP6T_SO_GET_INFO (IPT_BASE_CTL)
	soGetEntries = 65 // IPT_SO_GET_ENTRIES == IP6T_SO_GET_ENTRIES

	tableNameLen  = 32 // XT_TABLE_MAXNAMELEN
	numHooks      = 5  // NF_INET_NUMHOOKS
	getInfoSize   = tableNameLen + 4 + 4*numHooks*2 + 4 + 4
	entriesHeader = 40 // offsetof(struct ipt_get_entries, entrytable): name, size, padding to 8

	targetHeader   = 32 // sizeof(struct xt_entry_target)
	targetNameAt   = 2  // u.user.name follows u.user.target_size
	targetNameLen  = 29 // XT_EXTENSION_MAXNAMELEN
	errorTarget    = "ERROR"
	standardTarget = ""
)

var hooks = [numHooks]string{"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"}

func layoutOf(f syntax.Family) layout {
	if f == syntax.IPv6 {
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

// TableNames lists the tables of a family that exist in the current network
// namespace. It reads a small /proc file and never creates a table.
func TableNames(f syntax.Family) ([]string, error) {
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

// Reader reads the tables of one family. It holds a raw socket; Close it.
type Reader struct {
	fam    syntax.Family
	l      layout
	fd     int
	listed map[string]bool
}

// Open lists the family's tables and opens the raw socket getsockopt needs.
func Open(f syntax.Family) (*Reader, error) {
	names, err := TableNames(f)
	if err != nil {
		return nil, err
	}
	l := layoutOf(f)
	fd, err := unix.Socket(l.domain, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
	if err != nil {
		return nil, fmt.Errorf("%w: raw socket for %s: %w", ErrUnavailable, l.description, err)
	}
	r := &Reader{fam: f, l: l, fd: fd, listed: map[string]bool{}}
	for _, n := range names {
		r.listed[n] = true
	}
	return r, nil
}

// Close releases the socket.
func (r *Reader) Close() error { return unix.Close(r.fd) }

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

func (r *Reader) getsockopt(opt int, buf []byte) (int, error) {
	n := uint32(len(buf))
	_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(r.fd), uintptr(r.l.level), uintptr(opt),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)), 0)
	runtime.KeepAlive(buf)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// Info asks the kernel for a listed table's summary: one small copy whatever
// the table's size.
func (r *Reader) Info(table string) (Info, error) {
	if !r.listed[table] {
		return Info{}, fmt.Errorf("%s %s: %w", r.l.description, table, ErrNotListed)
	}
	if len(table) >= tableNameLen {
		return Info{}, fmt.Errorf("table name %q too long", table)
	}
	buf := make([]byte, getInfoSize)
	copy(buf, table)
	if _, err := r.getsockopt(soGetInfo, buf); err != nil {
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
		buf := make([]byte, entriesHeader+int(in.Size))
		copy(buf, table)
		binary.NativeEndian.PutUint32(buf[tableNameLen:], in.Size)
		if _, err := r.getsockopt(soGetEntries, buf); err != nil {
			lastErr = err
			if errors.Is(err, unix.EAGAIN) {
				continue
			}
			break
		}
		return in, buf[entriesHeader:], nil
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
