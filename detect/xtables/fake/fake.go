// Package fake is an in-memory x_tables for tests: tables of chains whose
// rules have only a target, answering the table names and
// IPT_SO_GET_INFO / IPT_SO_GET_ENTRIES the way the kernel does, through
// xtables.Kernel. It lets detection's legacy reading (the names gate,
// stamps, chain heads, rule counts, jumps) run without root; the
// namespace test TestFakeMatchesKernel keeps it to what the kernel
// answers for the same tables.
//
// The entry layout is written here from the uapi headers
// (linux/netfilter_ipv4/ip_tables.h, linux/netfilter_ipv6/ip6_tables.h,
// linux/netfilter/x_tables.h), independently of the reader's, so that
// each checks the other.
package fake

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/detect/xtables"
	"github.com/iptables-shim/iptables-shim/shim/netfilter"
)

// Kernel is an in-memory x_tables of both families; safe for concurrent use.
type Kernel struct {
	mu          sync.Mutex
	tables      map[netfilter.Family]map[string]*table
	unavailable map[netfilter.Family]bool
	// Gets counts the getsockopt calls answered (GET_INFO and GET_ENTRIES).
	Gets int
}

type table struct {
	name   string
	chains []*chain // built-in chains in hook order, then user chains
}

type chain struct {
	name    string
	hook    int    // NF_INET_* hook of a built-in chain, -1 for a user chain
	policy  string // built-in chains: ACCEPT or DROP
	targets []string
}

// builtins are each table's chains and the hooks they sit on
// (iptable_filter, iptable_nat, ...).
var builtins = map[string][]int{
	"filter":   {unix.NF_INET_LOCAL_IN, unix.NF_INET_FORWARD, unix.NF_INET_LOCAL_OUT},
	"nat":      {unix.NF_INET_PRE_ROUTING, unix.NF_INET_LOCAL_IN, unix.NF_INET_LOCAL_OUT, unix.NF_INET_POST_ROUTING},
	"mangle":   {unix.NF_INET_PRE_ROUTING, unix.NF_INET_LOCAL_IN, unix.NF_INET_FORWARD, unix.NF_INET_LOCAL_OUT, unix.NF_INET_POST_ROUTING},
	"raw":      {unix.NF_INET_PRE_ROUTING, unix.NF_INET_LOCAL_OUT},
	"security": {unix.NF_INET_LOCAL_IN, unix.NF_INET_FORWARD, unix.NF_INET_LOCAL_OUT},
}

var hookNames = [...]string{"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"}

// New is an x_tables with both families loaded and no table yet.
func New() *Kernel {
	return &Kernel{
		tables:      map[netfilter.Family]map[string]*table{netfilter.IPv4: {}, netfilter.IPv6: {}},
		unavailable: map[netfilter.Family]bool{},
	}
}

// Unload makes a family's x_tables absent (no ip{,6}_tables module).
func (k *Kernel) Unload(f netfilter.Family) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.unavailable[f] = true
}

// Touch makes a table exist, with its built-in chains, as the kernel does
// when a table is first used (even by a read).
func (k *Kernel) Touch(f netfilter.Family, name string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, err := k.table(f, name)
	return err
}

func (k *Kernel) table(f netfilter.Family, name string) (*table, error) {
	if t, ok := k.tables[f][name]; ok {
		return t, nil
	}
	hooks, ok := builtins[name]
	if !ok {
		return nil, fmt.Errorf("fake x_tables: no table %q", name)
	}
	t := &table{name: name}
	for _, h := range hooks {
		t.chains = append(t.chains, &chain{name: hookNames[h], hook: h, policy: "ACCEPT"})
	}
	k.tables[f][name] = t
	return t, nil
}

func (t *table) chain(name string) *chain {
	for _, c := range t.chains {
		if c.name == name {
			return c
		}
	}
	return nil
}

// Restore applies an iptables-restore --noflush payload: tables, chain
// declarations (a declared user chain is created or flushed, a built-in
// chain's policy set) and -A/-I rules, of which only the target (-j, -g)
// is kept: a chain of the table, a verdict, or else an extension target,
// by name only (its options, like every match, are dropped). Each table commits at its COMMIT.
func (k *Kernel) Restore(f netfilter.Family, payload string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	var cur *table
	for n, line := range strings.Split(payload, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var err error
		switch {
		case strings.HasPrefix(line, "*"):
			cur, err = k.table(f, line[1:])
		case line == "COMMIT":
			cur = nil
		case cur == nil:
			err = fmt.Errorf("%q outside a table", line)
		case strings.HasPrefix(line, ":"):
			err = cur.declare(strings.Fields(line[1:]))
		default:
			err = cur.command(strings.Fields(line))
		}
		if err != nil {
			return fmt.Errorf("fake x_tables restore line %d: %w", n+1, err)
		}
	}
	return nil
}

// Run applies one command's chain operations (-N, -X, -F, -A, -I, -P) to
// a table (-t, filter by default); -j and -g name a rule's target, -w is
// ignored. A read (-S, -L) makes the table exist, as it does in the kernel.
func (k *Kernel) Run(f netfilter.Family, args ...string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	name := "filter"
	args = slices.Clone(args)
	if i := slices.Index(args, "-t"); i >= 0 && i+1 < len(args) {
		name = args[i+1]
		args = slices.Delete(args, i, i+2)
	}
	if i := slices.Index(args, "-w"); i >= 0 {
		// The lock wait, and its seconds when given.
		n := 1
		if i+1 < len(args) && strings.Trim(args[i+1], "0123456789.") == "" {
			n = 2
		}
		args = slices.Delete(args, i, i+n)
	}
	t, err := k.table(f, name)
	if err != nil || len(args) == 0 || args[0] == "-S" || args[0] == "-L" {
		return err // a read only makes the table exist
	}
	return t.command(args)
}

func (t *table) declare(f []string) error {
	if len(f) < 2 {
		return fmt.Errorf("bad chain line %q", f)
	}
	if c := t.chain(f[0]); c != nil {
		if c.hook >= 0 {
			c.policy = f[1]
		} else {
			c.targets = nil
		}
		return nil
	}
	t.chains = append(t.chains, &chain{name: f[0], hook: -1})
	return nil
}

func (t *table) command(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("bad command %q", args)
	}
	op, name := args[0], args[1]
	c := t.chain(name)
	if op == "-N" {
		if c != nil {
			return fmt.Errorf("chain %s exists", name)
		}
		t.chains = append(t.chains, &chain{name: name, hook: -1})
		return nil
	}
	if c == nil {
		return fmt.Errorf("no chain %s in %s", name, t.name)
	}
	switch op {
	case "-X":
		if c.hook >= 0 {
			return fmt.Errorf("cannot delete built-in chain %s", name)
		}
		t.chains = slices.DeleteFunc(t.chains, func(x *chain) bool { return x == c })
	case "-F":
		c.targets = nil
	case "-P":
		if len(args) < 3 || c.hook < 0 {
			return fmt.Errorf("bad policy command %q", args)
		}
		c.policy = args[2]
	case "-A", "-I":
		target := ""
		for i, a := range args {
			if (a == "-j" || a == "-g") && i+1 < len(args) {
				target = args[i+1]
			}
		}
		if target != "" && !isVerdict(target) && t.chain(target) == nil {
			// Not a chain of the table: an extension target (MARK,
			// DNAT, ...), kept by name without its options.
			target = extension + target
		}
		if op == "-A" {
			c.targets = append(c.targets, target)
		} else {
			c.targets = append([]string{target}, c.targets...)
		}
	default:
		return fmt.Errorf("unsupported command %q", op)
	}
	return nil
}

// extension marks a target that is no chain and no verdict.
const extension = "ext:"

func isVerdict(s string) bool { return s == "ACCEPT" || s == "DROP" || s == "RETURN" }

// TableNames lists the family's tables, as the names file does.
func (k *Kernel) TableNames(f netfilter.Family) ([]string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.unavailable[f] {
		return nil, fmt.Errorf("%w: fake IPv%d unloaded", xtables.ErrUnavailable, int(f))
	}
	var names []string
	for n := range k.tables[f] {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// Socket opens a socket whose getsockopt calls read the family's tables.
func (k *Kernel) Socket(f netfilter.Family) (xtables.Socket, error) {
	return socket{k: k, f: f}, nil
}

type socket struct {
	k *Kernel
	f netfilter.Family
}

func (socket) Close() error { return nil }

// Getsockopt answers GET_INFO and GET_ENTRIES from the table named at the
// start of buf: ENOENT for a table that does not exist (the kernel would
// create a known one; a reader must never ask), EAGAIN when GET_ENTRIES
// names another size than the table's, EINVAL for a buffer of the wrong
// length.
func (s socket) Getsockopt(opt int, buf []byte) (int, error) {
	k := s.k
	k.mu.Lock()
	defer k.mu.Unlock()
	k.Gets++
	if len(buf) < 32 {
		return 0, unix.EINVAL
	}
	name := string(buf[:32])
	if i := strings.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	t, ok := k.tables[s.f][name]
	if !ok {
		return 0, unix.ENOENT
	}
	in, blob := encode(s.f, t)
	ne := binary.NativeEndian
	switch opt {
	case xtables.GetInfo:
		if len(buf) != xtables.GetInfoSize {
			return 0, unix.EINVAL
		}
		ne.PutUint32(buf[32:], in.ValidHooks)
		for i := range in.HookEntry {
			ne.PutUint32(buf[36+4*i:], in.HookEntry[i])
			ne.PutUint32(buf[56+4*i:], in.Underflow[i])
		}
		ne.PutUint32(buf[76:], in.Entries)
		ne.PutUint32(buf[80:], in.Size)
		return len(buf), nil
	case xtables.GetEntries:
		if len(buf) < xtables.EntriesHeader || len(buf) != xtables.EntriesHeader+int(ne.Uint32(buf[32:])) {
			return 0, unix.EINVAL
		}
		if ne.Uint32(buf[32:]) != in.Size {
			return 0, unix.EAGAIN
		}
		copy(buf[xtables.EntriesHeader:], blob)
		return len(buf), nil
	}
	return 0, unix.ENOPROTOOPT
}
