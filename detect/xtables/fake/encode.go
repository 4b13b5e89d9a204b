package fake

import (
	"encoding/binary"
	"slices"
	"strings"

	"github.com/iptables-shim/iptables-shim/detect/xtables"
	"github.com/iptables-shim/iptables-shim/shim/netfilter"
)

// Sizes from the uapi headers.
const (
	ipv4EntrySize = 112 // sizeof(struct ipt_entry)
	ipv6EntrySize = 168 // sizeof(struct ip6t_entry)
	// offsetof(struct ipt_entry, target_offset), of ip6t_entry's; the
	// u16 next_offset follows.
	ipv4OffsetsAt = 88
	ipv6OffsetsAt = 140

	targetHeader   = 32                // sizeof(struct xt_entry_target)
	standardTarget = targetHeader + 8  // struct xt_standard_target, XT_ALIGNed
	errorTarget    = targetHeader + 32 // struct xt_error_target, XT_ALIGNed

	// Standard verdicts: -NF_ACCEPT-1, -NF_DROP-1, XT_RETURN.
	verdictAccept = -2
	verdictDrop   = -1
	verdictReturn = -5
	noHook        = 0xFFFFFFFF // hook_entry and underflow of hooks a table lacks
)

// encode lays a table out as the kernel keeps it after an
// iptables-legacy-restore (libiptc's order): the built-in chains in hook
// order, each its rules and its policy entry, then the user chains sorted
// by name, each an ERROR head carrying its name, its rules and a RETURN
// tail, then the closing ERROR entry.
func encode(f netfilter.Family, t *table) (xtables.Info, []byte) {
	size, offsetsAt := ipv4EntrySize, ipv4OffsetsAt
	if f == netfilter.IPv6 {
		size, offsetsAt = ipv6EntrySize, ipv6OffsetsAt
	}
	var builtin, user []*chain
	for _, c := range t.chains {
		if c.hook >= 0 {
			builtin = append(builtin, c)
		} else {
			user = append(user, c)
		}
	}
	slices.SortFunc(user, func(a, b *chain) int { return strings.Compare(a.name, b.name) })
	ordered := append(builtin, user...)

	// First pass: where each chain's first rule (the jump target) sits.
	start := map[string]int{}
	off := 0
	for _, c := range ordered {
		if c.hook < 0 {
			off += size + errorTarget
		}
		start[c.name] = off
		for _, tg := range c.targets {
			off += size + targetSize(tg)
		}
		off += size + standardTarget // policy or tail
	}

	in := xtables.Info{Name: t.name}
	for i := range in.HookEntry {
		in.HookEntry[i], in.Underflow[i] = noHook, noHook
	}
	var blob []byte
	ne := binary.NativeEndian
	entry := func(targetSize int, name string, data func(b []byte)) {
		e := make([]byte, size+targetSize)
		ne.PutUint16(e[offsetsAt:], uint16(size))
		ne.PutUint16(e[offsetsAt+2:], uint16(size+targetSize))
		ne.PutUint16(e[size:], uint16(targetSize))
		copy(e[size+2:], name)
		data(e[size+targetHeader:])
		blob = append(blob, e...)
		in.Entries++
	}
	standard := func(verdict int32) {
		entry(standardTarget, "", func(b []byte) { ne.PutUint32(b, uint32(verdict)) })
	}
	errorEntry := func(name string) {
		entry(errorTarget, "ERROR", func(b []byte) { copy(b, name) })
	}
	for _, c := range ordered {
		if c.hook >= 0 {
			in.ValidHooks |= 1 << c.hook
			in.HookEntry[c.hook] = uint32(len(blob))
		} else {
			errorEntry(c.name)
		}
		for _, tg := range c.targets {
			switch tg {
			case "ACCEPT":
				standard(verdictAccept)
			case "DROP":
				standard(verdictDrop)
			case "RETURN":
				standard(verdictReturn)
			case "":
				// No target: the verdict is the next entry.
				standard(int32(len(blob) + size + standardTarget))
			default:
				if name, ok := strings.CutPrefix(tg, extension); ok {
					entry(targetHeader, name, func([]byte) {})
					continue
				}
				standard(int32(start[tg]))
			}
		}
		if c.hook >= 0 {
			in.Underflow[c.hook] = uint32(len(blob))
			if c.policy == "DROP" {
				standard(verdictDrop)
			} else {
				standard(verdictAccept)
			}
		} else {
			standard(verdictReturn)
		}
	}
	errorEntry("ERROR")
	in.Size = uint32(len(blob))
	return in, blob
}

// targetSize is the size of a rule's target: an extension's header only
// (the fake keeps no options), else a standard target.
func targetSize(tg string) int {
	if strings.HasPrefix(tg, extension) {
		return targetHeader
	}
	return standardTarget
}
