package native

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/kubepayload"
	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/internal/nfnl"
	"github.com/iptables-shim/iptables-shim/internal/nfnl/fake"
	"github.com/iptables-shim/iptables-shim/shim/nftread"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// openIn opens an nfnetlink connection inside ns from this process.
func openIn(t *testing.T, ns *netnstest.NS) nfnl.Transport {
	t.Helper()
	c, err := nfnl.OpenIn(filepath.Join("/run/netns", ns.Name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// mustDump is canonicalDump failing the test on error.
func mustDump(t *testing.T, tr nfnl.Transport) string {
	t.Helper()
	s, err := canonicalDump(tr)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// outcome renders a commit's result: which messages the kernel refused
// and with which errno.
func outcome(err error) string {
	var be *nfnl.BatchError
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, nfnl.ErrGenerationChanged):
		return "generation changed"
	case errors.As(err, &be):
		var s []string
		for _, f := range be.Failures {
			s = append(s, fmt.Sprintf("#%d %s", f.Index, unix.ErrnoName(f.Err.Errno)))
		}
		return strings.Join(s, ", ")
	}
	return err.Error()
}

// rawMsg is one message of a hand-built batch.
type rawMsg struct {
	msg   int
	flags uint16
	attrs func(a *nfnl.Attrs)
}

func tableMsg(msg int, flags uint16, name string) rawMsg {
	return rawMsg{msg, flags, func(a *nfnl.Attrs) { a.String(unix.NFTA_TABLE_NAME, name) }}
}

func chainMsg(msg int, flags uint16, table, name string, more ...func(a *nfnl.Attrs)) rawMsg {
	return rawMsg{msg, flags, func(a *nfnl.Attrs) {
		a.String(unix.NFTA_CHAIN_TABLE, table)
		if name != "" {
			a.String(unix.NFTA_CHAIN_NAME, name)
		}
		for _, f := range more {
			f(a)
		}
	}}
}

func hook(num uint32, prio int32, typ string) func(a *nfnl.Attrs) {
	return func(a *nfnl.Attrs) {
		h := a.Nest(unix.NFTA_CHAIN_HOOK)
		a.U32(unix.NFTA_HOOK_HOOKNUM, num)
		a.U32(unix.NFTA_HOOK_PRIORITY, uint32(prio))
		a.End(h)
		a.String(unix.NFTA_CHAIN_TYPE, typ)
	}
}

func policy(p uint32) func(a *nfnl.Attrs) {
	return func(a *nfnl.Attrs) { a.U32(unix.NFTA_CHAIN_POLICY, p) }
}

func chainCounters(p, b uint64) func(a *nfnl.Attrs) {
	return func(a *nfnl.Attrs) {
		c := a.Nest(unix.NFTA_CHAIN_COUNTERS)
		a.U64(unix.NFTA_COUNTER_PACKETS, p)
		a.U64(unix.NFTA_COUNTER_BYTES, b)
		a.End(c)
	}
}

func chainHandle(h uint64) func(a *nfnl.Attrs) {
	return func(a *nfnl.Attrs) { a.U64(unix.NFTA_CHAIN_HANDLE, h) }
}

// ruleMsg is a NEWRULE or DELRULE; handle and pos are left out when 0.
func ruleMsg(msg int, flags uint16, table, chain string, handle, pos uint64, exprs ...expr.Any) rawMsg {
	return rawMsg{msg, flags, func(a *nfnl.Attrs) {
		a.String(unix.NFTA_RULE_TABLE, table)
		if chain != "" {
			a.String(unix.NFTA_RULE_CHAIN, chain)
		}
		if handle != 0 {
			a.U64(unix.NFTA_RULE_HANDLE, handle)
		}
		if pos != 0 {
			a.U64(unix.NFTA_RULE_POSITION, pos)
		}
		if msg == unix.NFT_MSG_NEWRULE {
			l := a.Nest(unix.NFTA_RULE_EXPRESSIONS)
			for _, e := range exprs {
				if err := nftread.AppendExpr(a, unix.NFPROTO_IPV4, e); err != nil {
					panic(err)
				}
			}
			a.End(l)
		}
	}}
}

func jump(chain string) expr.Any          { return &expr.Verdict{Kind: expr.VerdictJump, Chain: chain} }
func goTo(chain string) expr.Any          { return &expr.Verdict{Kind: expr.VerdictGoto, Chain: chain} }
func verdict(k expr.VerdictKind) expr.Any { return &expr.Verdict{Kind: k} }

const (
	appendFlags = unix.NLM_F_CREATE | unix.NLM_F_APPEND
	insertFlags = unix.NLM_F_CREATE
)

// rawBatches are hand-built batches, one a step, that reach the kernel's
// refusals iptables' own checks would stop before sending. Rule handles
// are those the kernel hands out in order (table t: chains 1-4).
var rawBatches = [][]rawMsg{
	{ // 1: a table, a base chain, three user chains and rules in them
		tableMsg(unix.NFT_MSG_NEWTABLE, unix.NLM_F_CREATE, "t"),
		chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, "t", "IN", hook(unix.NF_INET_LOCAL_IN, 0, "filter"), policy(1), chainCounters(3, 4)),
		chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE|unix.NLM_F_EXCL, "t", "A"),
		chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE|unix.NLM_F_EXCL, "t", "B"),
		chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE|unix.NLM_F_EXCL, "t", "C"),
		ruleMsg(unix.NFT_MSG_NEWRULE, appendFlags, "t", "IN", 0, 0, &expr.Counter{}, jump("A")),
		ruleMsg(unix.NFT_MSG_NEWRULE, appendFlags, "t", "A", 0, 0, goTo("B")),
		ruleMsg(unix.NFT_MSG_NEWRULE, appendFlags, "t", "A", 0, 0, verdict(expr.VerdictAccept)),
		ruleMsg(unix.NFT_MSG_NEWRULE, insertFlags, "t", "A", 0, 0, verdict(expr.VerdictDrop)),
	},
	{ // 2: placing by position: after (append) and before (insert) handle 7
		ruleMsg(unix.NFT_MSG_NEWRULE, appendFlags, "t", "A", 0, 7, verdict(expr.VerdictReturn)),
		ruleMsg(unix.NFT_MSG_NEWRULE, insertFlags, "t", "A", 0, 7, jump("C")),
	},
	{ // 3: replace a rule in place, delete one, flush a chain
		ruleMsg(unix.NFT_MSG_NEWRULE, unix.NLM_F_REPLACE, "t", "A", 8, 0, jump("B")),
		ruleMsg(unix.NFT_MSG_DELRULE, 0, "t", "A", 9, 0),
		ruleMsg(unix.NFT_MSG_DELRULE, 0, "t", "C", 0, 0),
	},
	{ // 4: refusals, all reported, nothing applied
		chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE|unix.NLM_F_EXCL, "t", "A"),
		chainMsg(unix.NFT_MSG_DELCHAIN, unix.NLM_F_NONREC, "t", "B"),
		chainMsg(unix.NFT_MSG_DELCHAIN, unix.NLM_F_NONREC, "t", "A"),
		chainMsg(unix.NFT_MSG_DELCHAIN, unix.NLM_F_NONREC, "t", "NOPE"),
		ruleMsg(unix.NFT_MSG_NEWRULE, appendFlags, "t", "NOPE", 0, 0, verdict(expr.VerdictAccept)),
		ruleMsg(unix.NFT_MSG_NEWRULE, appendFlags, "t", "C", 0, 0, jump("NOPE")),
		ruleMsg(unix.NFT_MSG_NEWRULE, appendFlags, "t", "C", 0, 0, jump("IN")),
		ruleMsg(unix.NFT_MSG_NEWRULE, appendFlags, "t", "C", 0, 999, verdict(expr.VerdictAccept)),
		ruleMsg(unix.NFT_MSG_DELRULE, 0, "t", "C", 999, 0),
		ruleMsg(unix.NFT_MSG_NEWRULE, unix.NLM_F_REPLACE, "t", "C", 0, 0, verdict(expr.VerdictAccept)),
		ruleMsg(unix.NFT_MSG_NEWRULE, unix.NLM_F_REPLACE, "t", "C", 999, 0, verdict(expr.VerdictAccept)),
		chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, "t", "C", policy(0)),
		chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, "t", "IN", policy(7)),
		chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, "t", "IN", hook(unix.NF_INET_FORWARD, 0, "filter")),
		chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, "t", "IN", hook(unix.NF_INET_LOCAL_IN, 10, "filter")),
		chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, "t", "IN", hook(unix.NF_INET_LOCAL_IN, 0, "nat")),
		chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, "t", "IN", hook(unix.NF_INET_LOCAL_IN, 0, "bogus")),
		chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, "t", "N2", hook(unix.NF_INET_PRE_ROUTING, -300, "nat")),
		chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, "t", "A", chainCounters(1, 1)),
		ruleMsg(unix.NFT_MSG_NEWRULE, appendFlags, "t", "C", 0, 0, &expr.Match{Name: "nosuchmatch", Rev: 0, Info: &xt.Unknown{0, 0, 0, 0}}),
		rawMsg{unix.NFT_MSG_NEWRULE, appendFlags, func(a *nfnl.Attrs) {
			a.String(unix.NFTA_RULE_TABLE, "t")
			a.String(unix.NFTA_RULE_CHAIN, "C")
			l := a.Nest(unix.NFTA_RULE_EXPRESSIONS)
			e := a.Nest(unix.NFTA_LIST_ELEM)
			a.String(unix.NFTA_EXPR_NAME, "nosuchexpr")
			a.End(e)
			a.End(l)
		}},
		chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, "t", "A", hook(unix.NF_INET_LOCAL_IN, 0, "filter")),
		chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, "t", "N", hook(unix.NF_INET_FORWARD, 0, "nat")),
		chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, "t", "", chainHandle(3), func(a *nfnl.Attrs) { a.String(unix.NFTA_CHAIN_NAME, "B") }),
		chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, "t", "", chainHandle(999), func(a *nfnl.Attrs) { a.String(unix.NFTA_CHAIN_NAME, "Z") }),
		tableMsg(unix.NFT_MSG_DELTABLE, 0, "nope"),
		tableMsg(unix.NFT_MSG_DELTABLE, unix.NLM_F_NONREC, "t"),
		chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, "nope", "X"),
	},
	{ // 5: after the refused batch: handles it used stay used
		chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE|unix.NLM_F_EXCL, "t", "D"),
		ruleMsg(unix.NFT_MSG_NEWRULE, appendFlags, "t", "D", 0, 0, jump("C")),
	},
	{ // 6: a refusal late in a batch undoes what came before
		chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE|unix.NLM_F_EXCL, "t", "E"),
		ruleMsg(unix.NFT_MSG_NEWRULE, appendFlags, "t", "E", 0, 0, jump("A")),
		chainMsg(unix.NFT_MSG_DELCHAIN, 0, "t", "C"),
	},
	{ // 7: a renamed chain keeps its old name until the commit
		chainMsg(unix.NFT_MSG_NEWCHAIN, 0, "t", "", chainHandle(4), func(a *nfnl.Attrs) { a.String(unix.NFTA_CHAIN_NAME, "C2") }),
		chainMsg(unix.NFT_MSG_NEWCHAIN, 0, "t", "", chainHandle(3), func(a *nfnl.Attrs) { a.String(unix.NFTA_CHAIN_NAME, "C2") }),
		chainMsg(unix.NFT_MSG_DELCHAIN, 0, "t", "C2"),
	},
	{ // 8: rename by handle, flush and delete chains, update a base chain
		chainMsg(unix.NFT_MSG_NEWCHAIN, 0, "t", "", chainHandle(4), func(a *nfnl.Attrs) { a.String(unix.NFTA_CHAIN_NAME, "C2") }),
		ruleMsg(unix.NFT_MSG_DELRULE, 0, "t", "D", 0, 0),
		chainMsg(unix.NFT_MSG_DELCHAIN, unix.NLM_F_NONREC, "t", "D"),
		ruleMsg(unix.NFT_MSG_DELRULE, 0, "t", "A", 10, 0),
		chainMsg(unix.NFT_MSG_DELCHAIN, 0, "t", "C"),
		chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, "t", "IN", hook(unix.NF_INET_LOCAL_IN, 0, "filter"), policy(0), chainCounters(0, 0)),
		tableMsg(unix.NFT_MSG_NEWTABLE, unix.NLM_F_CREATE, "t"),
	},
	{ // 9: a second table and a nat base chain; delete a table whole
		tableMsg(unix.NFT_MSG_NEWTABLE, unix.NLM_F_CREATE, "u"),
		chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, "u", "PRE", hook(unix.NF_INET_PRE_ROUTING, -100, "nat"), policy(1)),
		chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, "u", "X"),
		ruleMsg(unix.NFT_MSG_NEWRULE, appendFlags, "u", "PRE", 0, 0, jump("X")),
		tableMsg(unix.NFT_MSG_DELTABLE, 0, "t"),
	},
	{ // 10: only a table that exists: nothing changes, the generation stays
		tableMsg(unix.NFT_MSG_NEWTABLE, unix.NLM_F_CREATE, "u"),
	},
	{ // 11: a loop no base chain reaches
		chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, "u", "L1"),
		chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, "u", "L2"),
		ruleMsg(unix.NFT_MSG_NEWRULE, appendFlags, "u", "L1", 0, 0, jump("L2")),
		ruleMsg(unix.NFT_MSG_NEWRULE, appendFlags, "u", "L2", 0, 0, goTo("L1")),
	},
	{ // 12: reaching it from a base chain
		ruleMsg(unix.NFT_MSG_NEWRULE, appendFlags, "u", "X", 0, 0, verdict(expr.VerdictAccept)),
		ruleMsg(unix.NFT_MSG_NEWRULE, appendFlags, "u", "X", 0, 0, jump("L1")),
		ruleMsg(unix.NFT_MSG_NEWRULE, appendFlags, "u", "X", 0, 0, verdict(expr.VerdictDrop)),
		chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, "u", "L3"),
	},
	deepChains("D", 20),
	deepChains("E", 14), // the deepest reaches level 15: allowed
	deepChains("F", 15), // level 16: one too deep
}

// deepChains builds a batch of n user chains prefix0... in table u, each
// jumping to the next, the first reached from X (itself one jump below
// the base chain PRE).
func deepChains(prefix string, n int) []rawMsg {
	var out []rawMsg
	for i := 0; i < n; i++ {
		out = append(out, chainMsg(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, "u", fmt.Sprintf("%s%d", prefix, i)))
	}
	for i := 0; i+1 < n; i++ {
		out = append(out, ruleMsg(unix.NFT_MSG_NEWRULE, appendFlags, "u", fmt.Sprintf("%s%d", prefix, i), 0, 0, jump(fmt.Sprintf("%s%d", prefix, i+1))))
	}
	return append(out, ruleMsg(unix.NFT_MSG_NEWRULE, appendFlags, "u", "X", 0, 0, jump(prefix+"0")))
}

// rawBatchOutcomes are what the kernel (6.18) answered to each of
// rawBatches; TestFakeKernelMatches checks it still does.
var rawBatchOutcomes = []string{
	"ok", "ok", "ok",
	"#0 EEXIST, #1 EBUSY, #2 EBUSY, #3 ENOENT, #4 ENOENT, #5 ENOENT, #6 ENOTSUP, #7 ENOENT, #8 ENOENT, #9 EINVAL, " +
		"#10 ENOENT, #11 ENOTSUP, #12 EINVAL, #13 ENOTSUP, #14 ENOTSUP, #15 EEXIST, #16 ENOENT, #17 ENOTSUP, #18 ENOTSUP, " +
		"#19 ENOENT, #20 ENOENT, #21 EEXIST, #22 ENOTSUP, #23 EEXIST, #24 ENOENT, #25 ENOENT, #26 EBUSY, #27 ENOENT",
	"ok", "#2 EBUSY", "#1 EEXIST, #2 ENOENT", "ok", "ok", "ok",
	"ok", "#1 EMLINK, #2 EMLINK", "#39 EMLINK", "ok", "#29 EMLINK",
}

// commitRaw sends one of rawBatches over tr at its current generation.
func commitRaw(t *testing.T, tr nfnl.Transport, msgs []rawMsg) string {
	t.Helper()
	gen, err := tr.GenID()
	if err != nil {
		t.Fatal(err)
	}
	b := nfnl.NewBatch(gen, true)
	defer b.Release()
	for n, m := range msgs {
		var a nfnl.Attrs
		m.attrs(&a)
		b.Add(m.msg, m.flags, unix.NFPROTO_IPV4, a.B, n)
	}
	return outcome(tr.Commit(b))
}

// TestRawBatchesOnFake sends rawBatches to the fake, without root: each
// must get the kernel's answer, and the generation must move with every
// batch that changed something and only then.
func TestRawBatchesOnFake(t *testing.T) {
	k := fake.New()
	c, _ := k.Open()
	for i, msgs := range rawBatches {
		before, _ := c.GenID()
		got := commitRaw(t, c, msgs)
		if got != rawBatchOutcomes[i] {
			t.Errorf("batch %d: %s, want %s", i+1, got, rawBatchOutcomes[i])
		}
		after, _ := c.GenID()
		moved := got == "ok" && i != 9 // batch 10 changes nothing
		if (after != before) != moved {
			t.Errorf("batch %d: generation %d -> %d", i+1, before, after)
		}
	}
}

// TestFakeKernelMatches checks the fake nf_tables against the kernel: the
// same hand-built batches, and the same native backend calls (restore and
// command corpora, kube-proxy payloads), go to both; the outcome of each
// and the dumps after each must agree.
func TestFakeKernelMatches(t *testing.T) {
	netnstest.Require(t)
	t.Run("batches", func(t *testing.T) {
		ns := netnstest.New(t)
		kc := openIn(t, ns)
		k := fake.New()
		fc, _ := k.Open()
		gen0k, _ := kc.GenID()
		for i, msgs := range rawBatches {
			kr, fr := commitRaw(t, kc, msgs), commitRaw(t, fc, msgs)
			if kr != fr || kr != rawBatchOutcomes[i] {
				t.Errorf("batch %d: kernel %s, fake %s, recorded %s", i+1, kr, fr, rawBatchOutcomes[i])
			}
			compareDumps(t, fmt.Sprintf("after batch %d", i+1), kc, fc, gen0k, 1)
		}
		// A batch planned at an older generation is refused whole.
		for _, tr := range []nfnl.Transport{kc, fc} {
			gen, _ := tr.GenID()
			b := nfnl.NewBatch(gen-1, true)
			var a nfnl.Attrs
			a.String(unix.NFTA_TABLE_NAME, "v")
			b.Add(unix.NFT_MSG_NEWTABLE, unix.NLM_F_CREATE, unix.NFPROTO_IPV4, a.B, 0)
			if got := outcome(tr.Commit(b)); got != "generation changed" {
				t.Errorf("%T: stale generation: %s", tr, got)
			}
		}
		compareDumps(t, "after a stale batch", kc, fc, gen0k, 1)
		// Revision probes: the fake's default table against the kernel,
		// every revision up to one above the highest.
		for _, e := range fake.Extensions() {
			for fam, revs := range map[uint8][]uint32{unix.NFPROTO_IPV4: e.IPv4, unix.NFPROTO_IPV6: e.IPv6} {
				top := uint32(0)
				if len(revs) > 0 {
					top = revs[len(revs)-1] + 1
				}
				for r := uint32(0); r <= top; r++ {
					want, err := kc.HasExtension(fam, e.Name, r, e.Target)
					if err != nil {
						t.Fatal(err)
					}
					if got, _ := fc.HasExtension(fam, e.Name, r, e.Target); got != want {
						t.Errorf("HasExtension(%d, %s, %d): kernel %v, fake %v", fam, e.Name, r, want, got)
					}
				}
			}
		}
	})
	// Every transcript scenario (restore and command corpora, kube-proxy
	// payloads, xt cases, ...), step by step, then save both ways.
	for _, sc := range transcriptScenarios(t) {
		t.Run(sc.name, func(t *testing.T) {
			if len(sc.sets) > 0 {
				netnstest.Require(t, "ipset")
			}
			c := newFakeCheck(t)
			for _, set := range sc.sets {
				c.ns.MustRun("ipset", append(append([]string{"create", set[0]}, strings.Fields(set[1])...), "family", set[2])...)
				c.h.sets.create(set[0], set[2])
			}
			fams := map[syntax.Family]bool{}
			for i, st := range sc.steps {
				if st.prog == resetStep {
					c.reset()
					continue
				}
				fams[st.family()] = true
				c.step(fmt.Sprintf("step %d: %s %v", i+1, st.prog, st.args), st.stdin, st.prog, st.args...)
			}
			for fam := range fams {
				c.saves(fam)
			}
		})
	}
}

// fakeKubeOptions are the kube-proxy payloads the fake-backed tests use.
var fakeKubeOptions = []kubepayload.Options{
	{Services: 6, Family: syntax.IPv4, Shape: kubepayload.IptablesMode},
	{Services: 6, Family: syntax.IPv6, Shape: kubepayload.IptablesMode},
	{Services: 6, Family: syntax.IPv4, Shape: kubepayload.IPVSMode},
	{Services: 6, Family: syntax.IPv6, Shape: kubepayload.IPVSMode},
}

// createFakeIPSets creates the payload's ipsets on a fake host, in the
// order createIPSets does.
func createFakeIPSets(o kubepayload.Options, h *fakeHost) {
	for _, s := range kubepayload.IPSets(o) {
		fam := "inet"
		if o.Family == syntax.IPv6 {
			fam = "inet6"
		}
		h.sets.create(s.Name, fam)
	}
}

// commandLines reads a command corpus file: one command a line, "#"
// comments.
func commandLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" && l[0] != '#' {
			out = append(out, l)
		}
	}
	return out
}

// fakeCheck runs the native backend against a kernel (in a namespace) and
// a fake side by side.
type fakeCheck struct {
	t  *testing.T
	ns *netnstest.NS
	kc nfnl.Transport
	h  *fakeHost
	fc nfnl.Transport
	// gen0 and gen0f are the generations each side started from.
	gen0, gen0f uint32
}

func newFakeCheck(t *testing.T) *fakeCheck {
	ns := netnstest.New(t)
	c := &fakeCheck{t: t, ns: ns, kc: openIn(t, ns), h: newFakeHost(t)}
	c.fc, _ = c.h.k.Open()
	c.gen0, _ = c.kc.GenID()
	c.gen0f, _ = c.fc.GenID()
	return c
}

// reset empties both rulesets (ipsets stay), as nft flush ruleset does.
func (c *fakeCheck) reset() {
	c.t.Helper()
	for _, tr := range []nfnl.Transport{c.kc, c.fc} {
		if err := flushRuleset(tr); err != nil {
			c.t.Fatal(err)
		}
	}
}

// flushRuleset deletes every table of every family, as nft flush ruleset
// does: one DELTABLE without a name.
func flushRuleset(tr nfnl.Transport) error {
	gen, err := tr.GenID()
	if err != nil {
		return err
	}
	b := nfnl.NewBatch(gen, true)
	defer b.Release()
	b.Add(unix.NFT_MSG_DELTABLE, 0, unix.AF_UNSPEC, nil, 0)
	return tr.Commit(b)
}

// step runs one call on both and compares what it printed, its exit code
// and the dumps after it.
func (c *fakeCheck) step(what, stdin, prog string, args ...string) {
	c.t.Helper()
	kr := ours(c.t, c.ns, stdin, prog, args...)
	fr := c.h.run(stdin, prog, args...)
	if kr.Code != fr.Code || kr.Stdout != fr.Stdout || kr.Stderr != fr.Stderr {
		c.t.Fatalf("%s:\nkernel %s\nfake   %s", what, kr, fr)
	}
	compareDumps(c.t, what, c.kc, c.fc, c.gen0, c.gen0f)
	if c.t.Failed() {
		c.t.FailNow()
	}
}

// saves compares our save (both ways of dumping rules) of both.
func (c *fakeCheck) saves(fam syntax.Family) {
	c.t.Helper()
	prog := "iptables-save"
	if fam == syntax.IPv6 {
		prog = "ip6tables-save"
	}
	for _, perChain := range []bool{false, true} {
		var env []string
		if perChain {
			env = []string{perChainEnv + "=1"}
		}
		c.h.perChain = perChain
		for _, args := range [][]string{nil, {"-c"}} {
			kr := oursWith(c.t, c.ns, env, "", prog, args...)
			fr := c.h.run("", prog, args...)
			if kr.Code != fr.Code || netnstest.NormalizeSave(kr.Stdout) != netnstest.NormalizeSave(fr.Stdout) || kr.Stderr != fr.Stderr {
				c.t.Errorf("%s %v (per chain %v):\nkernel %s\nfake   %s", prog, args, perChain, kr, fr)
			}
		}
	}
	c.h.perChain = false
}

// compareDumps compares the canonical dumps of the kernel and the fake;
// generation ids are compared as steps from where each started.
func compareDumps(t *testing.T, what string, kc, fc nfnl.Transport, gen0k, gen0f uint32) {
	t.Helper()
	kd, fd := mustDump(t, kc), mustDump(t, fc)
	kd = rebaseGen(kd, gen0k)
	fd = rebaseGen(fd, gen0f)
	if kd != fd {
		t.Errorf("%s: dumps differ (- kernel, + fake):\n%s", what, netnstest.LineDiff(kd, fd))
		return
	}
	// The same, byte for byte: every attribute, its order and flags, the
	// expressions as the kernel re-encodes them.
	kr, fr := strings.Join(rawDump(t, kc), "\n"), strings.Join(rawDump(t, fc), "\n")
	if kr != fr {
		t.Errorf("%s: raw dumps differ (- kernel, + fake):\n%s", what, netnstest.LineDiff(kr, fr))
	}
}

func rebaseGen(dump string, gen0 uint32) string {
	first, rest, _ := strings.Cut(dump, "\n")
	var g uint32
	fmt.Sscanf(first, "gen %d", &g)
	return fmt.Sprintf("gen +%d\n%s", g-gen0, rest)
}

// rawDump returns every table, chain and rule message of both families
// as dumped, in order.
func rawDump(t *testing.T, tr nfnl.Transport) []string {
	t.Helper()
	var out []string
	for _, fam := range []uint8{unix.NFPROTO_IPV4, unix.NFPROTO_IPV6} {
		for _, msg := range []int{unix.NFT_MSG_GETTABLE, unix.NFT_MSG_GETCHAIN, unix.NFT_MSG_GETRULE} {
			err := tr.Dump(nfnl.MsgType(nfnl.SubsysNFTables, msg), fam, nil, func(m nfnl.Message) error {
				out = append(out, fmt.Sprintf("%d %d %x", m.Type, m.Family, m.Attrs))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}
