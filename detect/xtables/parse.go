package xtables

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/iptables-shim/iptables-shim/detect/ruleset"
	"github.com/iptables-shim/iptables-shim/shim/netfilter"
)

// entry is the part of one x_tables entry the chain picture needs.
type entry struct {
	off, next int
	target    string // "" for the standard target
	verdict   int32  // standard target only
	errorName string // ERROR target only: the user chain name, or "ERROR"
}

// Table reads a listed table and returns its chains, rule counts and jumps.
// The cost grows with the table (the kernel copies every entry).
func (r *Reader) Table(name string) (*ruleset.Table, error) {
	in, blob, err := r.Entries(name)
	if err != nil {
		return nil, err
	}
	t, err := Parse(r.fam, in, blob)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.l.description, name, err)
	}
	return t, nil
}

// Parse turns an IPT_SO_GET_ENTRIES blob into chains, the way libiptc reads
// it: built-in chains start at the hook entry offsets and end with their
// policy entry; a user chain is an ERROR-target head carrying its name, its
// rules, and a RETURN tail; a final entry with ERROR target named "ERROR"
// closes the table. A standard target's verdict >= 0 is the offset it jumps
// to (the first entry after the target chain's head), unless it is the next
// entry (a rule without a target).
func Parse(f netfilter.Family, in Info, blob []byte) (*ruleset.Table, error) {
	l := layoutOf(f)
	entries, err := splitEntries(l, blob)
	if err != nil {
		return nil, err
	}
	builtinAt := map[int]string{}
	for h := range numHooks {
		if in.ValidHooks&(1<<h) != 0 {
			builtinAt[int(in.HookEntry[h])] = l.hookNames[h]
		}
	}
	type chainEntries struct {
		chain   ruleset.Chain
		entries []entry
	}
	var chains []*chainEntries
	startAt := map[int]string{}
	var cur *chainEntries
	for i, e := range entries {
		if name, ok := builtinAt[e.off]; ok {
			cur = &chainEntries{chain: ruleset.Chain{Name: name, Builtin: true}}
			chains = append(chains, cur)
		}
		if e.target == errorTarget {
			if e.errorName == errorTarget && i == len(entries)-1 {
				break
			}
			cur = &chainEntries{chain: ruleset.Chain{Name: e.errorName}}
			chains = append(chains, cur)
			startAt[e.off+e.next] = e.errorName
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("entry at offset %d belongs to no chain", e.off)
		}
		cur.entries = append(cur.entries, e)
	}
	t := &ruleset.Table{Name: in.Name}
	for _, c := range chains {
		if len(c.entries) == 0 {
			return nil, fmt.Errorf("chain %s has no policy or tail entry", c.chain.Name)
		}
		rules := c.entries[:len(c.entries)-1]
		c.chain.Rules = len(rules)
		jumps := map[string]bool{}
		for _, e := range rules {
			if e.target != standardTarget || e.verdict < 0 || int(e.verdict) == e.off+e.next {
				continue
			}
			if name, ok := startAt[int(e.verdict)]; ok {
				jumps[name] = true
			}
		}
		c.chain.Jumps = ruleset.SortedSet(jumps)
		t.Chains = append(t.Chains, c.chain)
	}
	return t, nil
}

func splitEntries(l layout, blob []byte) ([]entry, error) {
	ne := binary.NativeEndian
	var out []entry
	for off := 0; off < len(blob); {
		if off+l.entrySize > len(blob) {
			return nil, fmt.Errorf("truncated entry at offset %d", off)
		}
		tOff := int(ne.Uint16(blob[off+l.offsetsAt:]))
		next := int(ne.Uint16(blob[off+l.offsetsAt+2:]))
		if next < l.entrySize || off+next > len(blob) || tOff < l.entrySize || tOff+targetHeader > next {
			return nil, fmt.Errorf("malformed entry at offset %d (target %d, next %d)", off, tOff, next)
		}
		tgt := blob[off+tOff : off+next]
		e := entry{off: off, next: next, target: cString(tgt[targetNameAt : targetNameAt+targetNameLen])}
		data := tgt[targetHeader:]
		switch e.target {
		case standardTarget:
			if len(data) >= 4 {
				e.verdict = int32(ne.Uint32(data))
			}
		case errorTarget:
			e.errorName = cString(data)
		}
		out = append(out, e)
		off += next
	}
	return out, nil
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
