package xt

import "github.com/google/nftables/expr"

// FoldMatches merges a decoded rule's native tcp/udp matches as
// iptables-nft 1.8.9 reads a rule back, so that save, -S and -L print what
// it prints. iptables-nft keeps one tcp (or udp) match per rule and writes
// every native transport-header test it meets into it, wherever the test
// stands in the rule: "-m tcp --syn -m comment --comment x -m tcp --dport
// 80" comes back as "-m tcp --dport 80 --tcp-flags FIN,SYN,RST,ACK SYN -m
// comment --comment x". Compat (xt) tcp/udp matches stay as they are.
//
// A later match is folded only when it tests none of the fields the first
// one already tests. Where both test the same field iptables-nft keeps the
// later value (and an inversion of either), printing a rule other than
// the one the kernel holds ("--dport 80 -m tcp --dport 81" becomes
// "--dport 81"); there the matches are left apart, which states the
// kernel's rule. The tests are conjunctive, so moving one next to the
// first match changes which packets match nothing.
//
// exts is modified in place and returned shortened; matches are copied
// before they are changed.
func FoldMatches(exts []Ext) []Ext {
	first := -1
	out := exts[:0]
	for _, e := range exts {
		m, ok := e.(*tcpUDP)
		if !ok || m.decoded == nil {
			out = append(out, e)
			continue
		}
		if first < 0 {
			first = len(out)
			out = append(out, e)
			continue
		}
		f := out[first].(*tcpUDP)
		if f.fields()&m.fields() != 0 {
			out = append(out, e)
			continue
		}
		out[first] = f.merged(m)
	}
	clear(exts[len(out):])
	return out
}

// Fields of the tcp/udp header a native match tests.
const (
	testsSrcPort = 1 << iota
	testsDstPort
	testsFlags
)

// fields says which header fields e tests.
func (e *tcpUDP) fields() int {
	var f int
	if !e.spts.full() || e.invflags&invSrcPort != 0 {
		f |= testsSrcPort
	}
	if !e.dpts.full() || e.invflags&invDstPort != 0 {
		f |= testsDstPort
	}
	if e.flgMask != 0 || e.invflags&invFlags != 0 {
		f |= testsFlags
	}
	return f
}

// merged returns a copy of e that also holds m's tests; the two test
// different fields. Its expressions are both matches', e's first, so that
// nothing the kernel tests is dropped from it.
func (e *tcpUDP) merged(m *tcpUDP) *tcpUDP {
	c := *e
	mf := m.fields()
	if mf&testsSrcPort != 0 {
		c.spts = m.spts
	}
	if mf&testsDstPort != 0 {
		c.dpts = m.dpts
	}
	if mf&testsFlags != 0 {
		c.flgMask, c.flgCmp = m.flgMask, m.flgCmp
	}
	c.invflags |= m.invflags
	c.decoded = append(append([]expr.Any(nil), e.decoded...), m.decoded...)
	return &c
}
