package native

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/kubepayload"
	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/internal/nfnl"
	"github.com/iptables-shim/iptables-shim/shim/nftread"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// The functions here are the namespace tests' counterparts on the fake
// nf_tables, which need no root; twins_test.go runs each beside its
// namespace test. TestFakeKernelMatches keeps the fake true.

// fakeDump is the canonical dump of a fake host's nf_tables.
func (h *fakeHost) dump() string {
	h.t.Helper()
	c, _ := h.k.Open()
	defer c.Close()
	s, err := canonicalDump(c)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// checkAndDeleteOnFake restores kube-proxy payloads, asks -C for every
// rule (found), for a changed copy of one (not found), deletes it with -D
// (by specification, then by number) and checks it is gone.
func checkAndDeleteOnFake(t *testing.T) {
	for _, o := range fakeKubeOptions {
		t.Run(o.Shape.String()+"-v"+famString(o.Family), func(t *testing.T) {
			h := newFakeHost(t)
			createFakeIPSets(o, h)
			p := kubepayload.Generate(o)
			h.mustRun(p.Text, restoreProg(o.Family))
			prog := "iptables"
			if o.Family == syntax.IPv6 {
				prog = "ip6tables"
			}
			table, checked := "", 0
			var lastRule []string
			for _, line := range strings.Split(p.Text, "\n") {
				switch {
				case strings.HasPrefix(line, "*"):
					table = line[1:]
				case strings.HasPrefix(line, "-A "):
					args := append([]string{"-t", table, "-C"}, splitArgs(line[3:])...)
					if r := h.run("", prog, args...); r.Code != 0 {
						t.Errorf("%s %v: %s", prog, args, r)
					}
					checked++
					lastRule = args
				}
			}
			if checked == 0 {
				t.Fatal("no rules checked")
			}
			changed := append(append([]string(nil), lastRule[:len(lastRule)-1]...), "KUBE-NOT-THERE")
			if r := h.run("", prog, changed...); r.Code == 0 {
				t.Errorf("%v found", changed)
			}
			gen := h.k.Commits
			del := append([]string(nil), lastRule...)
			del[2] = "-D"
			if r := h.run("", prog, del...); r.Code != 0 {
				t.Fatalf("%v: %s", del, r)
			}
			if h.k.Commits != gen+1 {
				t.Errorf("-D committed %d batches, want 1", h.k.Commits-gen)
			}
			if r := h.run("", prog, lastRule...); r.Code != 1 || r.Stderr == "" {
				t.Errorf("after -D, %v: %s", lastRule, r)
			}
			// A failed -D writes nothing.
			before := h.dump()
			if r := h.run("", prog, del...); r.Code != 1 {
				t.Errorf("-D of a missing rule: %s", r)
			}
			if after := h.dump(); after != before {
				t.Errorf("a failed -D changed the ruleset:\n%s", netnstest.LineDiff(before, after))
			}
			t.Logf("%d rules checked", checked)
		})
	}
}

// saveRefusesWhatItCannotDecodeOnFake puts a rule iptables cannot
// express (meta mark, ip dscp, as nft would add it) into an iptables
// table: save prints every other rule, then fails naming table, chain
// and handle; other tables still save.
func saveRefusesWhatItCannotDecodeOnFake(t *testing.T) {
	h := newFakeHost(t)
	h.mustRun("*nat\n:FOO - [0:0]\n-A FOO -j ACCEPT\nCOMMIT\n", "iptables-restore")
	c, _ := h.k.Open()
	defer c.Close()
	gen, _ := c.GenID()
	b := nfnl.NewBatch(gen, true)
	defer b.Release()
	var a nfnl.Attrs
	a.String(unix.NFTA_RULE_TABLE, "nat")
	a.String(unix.NFTA_RULE_CHAIN, "FOO")
	l := a.Nest(unix.NFTA_RULE_EXPRESSIONS)
	for _, e := range []expr.Any{
		&expr.Meta{Key: expr.MetaKeyMARK, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{1, 0, 0, 0}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 1, Len: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 1, Mask: []byte{0xfc}, Xor: []byte{0}},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{0x10}},
		&expr.Verdict{Kind: expr.VerdictAccept},
	} {
		if err := nftread.AppendExpr(&a, unix.NFPROTO_IPV4, e); err != nil {
			t.Fatal(err)
		}
	}
	a.End(l)
	b.Add(unix.NFT_MSG_NEWRULE, unix.NLM_F_CREATE|unix.NLM_F_APPEND, unix.NFPROTO_IPV4, a.B, 0)
	if err := c.Commit(b); err != nil {
		t.Fatal(err)
	}
	r := h.run("", "iptables-save")
	if r.Code != 1 || !strings.Contains(r.Stdout, "\n-A FOO -j ACCEPT\nCOMMIT\n") || strings.Contains(r.Stdout, "dscp") {
		t.Fatalf("want exit 1 and every other rule printed, got %s", r)
	}
	for _, want := range []string{"table nat", "chain FOO", "rule handle"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("error %q does not name %q", r.Stderr, want)
		}
	}
	if r := h.run("", "iptables-save", "-t", "filter"); r.Code != 0 {
		t.Errorf("save -t filter: %s", r)
	}
}

// saveHeaderOnFake checks save's comment lines: the program name as
// invoked, the version label and ctime's date format.
func saveHeaderOnFake(t *testing.T) {
	h := newFakeHost(t)
	h.mustRun("*filter\nCOMMIT\n*nat\n:X - [0:0]\nCOMMIT\n", "iptables-restore")
	stamp := `[A-Z][a-z]{2} [A-Z][a-z]{2} [ 1-3][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}`
	header := regexp.MustCompile(`^# Generated by (\S+) v1\.8\.9 \(nf_tables\) on ` + stamp + `$`)
	footer := regexp.MustCompile(`^# Completed on ` + stamp + `$`)
	for _, prog := range []string{"iptables-save", "ip6tables-save"} {
		out := h.mustRun("", prog)
		var shape []string
		for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			switch {
			case header.MatchString(l):
				shape = append(shape, "header "+header.FindStringSubmatch(l)[1])
			case footer.MatchString(l):
				shape = append(shape, "footer")
			case strings.HasPrefix(l, "#"):
				shape = append(shape, "unexpected comment "+l)
			}
		}
		// An empty *filter block creates nothing: one table, one header.
		want := "header " + prog + "|footer"
		if prog == "ip6tables-save" {
			want = "" // no ip6 tables: nothing at all
		}
		if got := strings.Join(shape, "|"); got != want {
			t.Errorf("%s comment lines: got %q, want %q", prog, got, want)
		}
	}
}

// racingTransport commits another writer's batch just before each of the
// first n commits it is asked for, so the caller's batch carries a stale
// generation.
type racingTransport struct {
	nfnl.Transport
	other nfnl.Transport
	n     int
	raced int
}

func (r *racingTransport) Commit(b *nfnl.Batch) error {
	if r.raced < r.n {
		r.raced++
		gen, _ := r.other.GenID()
		ob := nfnl.NewBatch(gen, true)
		defer ob.Release()
		var a nfnl.Attrs
		a.String(unix.NFTA_CHAIN_TABLE, "filter")
		a.String(unix.NFTA_CHAIN_NAME, "OTHER-"+string(rune('A'+r.raced)))
		ob.Add(unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE|unix.NLM_F_EXCL, unix.NFPROTO_IPV4, a.B, 0)
		if err := r.other.Commit(ob); err != nil {
			return err
		}
	}
	return r.Transport.Commit(b)
}

// TestConcurrentWriterOnFake has another writer commit between our read
// and our commit: the kernel refuses the stale batch whole, and restore and
// a single command plan again and apply on top of the other's change.
func TestConcurrentWriterOnFake(t *testing.T) {
	for _, call := range []struct {
		stdin, prog string
		args        []string
	}{
		{"*filter\n:MINE - [0:0]\n-A INPUT -j MINE\nCOMMIT\n", "iptables-restore", []string{"--noflush"}},
		{"", "iptables", []string{"-A", "INPUT", "-j", "ACCEPT"}},
	} {
		t.Run(call.prog, func(t *testing.T) {
			h := newFakeHost(t)
			h.mustRun("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n", "iptables-restore")
			other, _ := h.k.Open()
			rt := &racingTransport{other: other, n: 3}
			o := Options{Open: func(context.Context) (nfnl.Transport, error) {
				c, err := h.k.Open()
				rt.Transport = c
				return rt, err
			}}
			var out, errb strings.Builder
			if code := runCall(o, call.prog, call.args, strings.NewReader(call.stdin), &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			if rt.raced != 3 {
				t.Errorf("raced %d times, want 3", rt.raced)
			}
			save := h.mustRun("", "iptables-save")
			for _, want := range []string{":OTHER-B", ":OTHER-C", ":OTHER-D"} {
				if !strings.Contains(save, want) {
					t.Errorf("the other writer's %s is missing:\n%s", want, save)
				}
			}
			if !strings.Contains(save, "-A INPUT -j") {
				t.Errorf("our rule is missing:\n%s", save)
			}
		})
	}
}

// TestInterruptedDumpsOnFake has dumps interrupted by (simulated) other
// writers: save and -C read again and succeed while the interruptions
// stop within their retry budget, and report a resource error otherwise.
func TestInterruptedDumpsOnFake(t *testing.T) {
	h := newFakeHost(t)
	h.mustRun("*filter\n:A - [0:0]\n-A INPUT -j A\n-A A -j ACCEPT\nCOMMIT\n", "iptables-restore")
	want := netnstest.NormalizeSave(h.mustRun("", "iptables-save"))
	h.k.InterruptDumps = 3
	if got := netnstest.NormalizeSave(h.mustRun("", "iptables-save")); got != want {
		t.Errorf("save after interrupted dumps:\n%s", netnstest.LineDiff(want, got))
	}
	h.k.InterruptDumps = 3
	if r := h.run("", "iptables", "-C", "A", "-j", "ACCEPT"); r.Code != 0 {
		t.Errorf("-C after interrupted dumps: %s", r)
	}
	h.k.InterruptDumps = 1000
	if r := h.run("", "iptables-save"); r.Code != 4 || r.Stdout != "" {
		t.Errorf("save while every dump is interrupted: %s", r)
	}
	h.k.InterruptDumps = 0
}

// TestSectionsCommitInTurnOnFake restores three table sections: each is
// committed at its COMMIT with the generation the one before leaves, so no
// batch is refused as stale and nothing is planned twice.
func TestSectionsCommitInTurnOnFake(t *testing.T) {
	h := newFakeHost(t)
	h.mustRun("*mangle\n:M - [0:0]\nCOMMIT\n*nat\n:N - [0:0]\nCOMMIT\n*filter\n:F - [0:0]\n-A INPUT -j F\nCOMMIT\n", "iptables-restore")
	if h.k.Commits != 3 || h.k.Stale != 0 {
		t.Errorf("%d commits, %d refused as stale; want 3 and 0", h.k.Commits, h.k.Stale)
	}
}

// generationMover moves the generation on before each of the first n
// commits (every one when n < 0), with a batch that adds and deletes a
// table: the ruleset ends as it was, the caller's batch is stale.
type generationMover struct {
	nfnl.Transport
	other nfnl.Transport
	n     int
}

func (m *generationMover) Commit(b *nfnl.Batch) error {
	if m.n != 0 {
		m.n--
		gen, _ := m.other.GenID()
		ob := nfnl.NewBatch(gen, true)
		defer ob.Release()
		var a nfnl.Attrs
		a.String(unix.NFTA_TABLE_NAME, "race")
		ob.Add(unix.NFT_MSG_NEWTABLE, unix.NLM_F_CREATE, unix.NFPROTO_INET, a.B, 0)
		ob.Add(unix.NFT_MSG_DELTABLE, 0, unix.NFPROTO_INET, a.B, 1)
		if err := m.other.Commit(ob); err != nil {
			return err
		}
	}
	return m.Transport.Commit(b)
}

// runLosing runs a call on h whose first races commits lose to another
// writer (every one when races < 0).
func (h *fakeHost) runLosing(races int, stdin, prog string, args ...string) netnstest.Result {
	h.t.Helper()
	other, _ := h.k.Open()
	o := Options{ParseChunkLines: 5, Open: func(context.Context) (nfnl.Transport, error) {
		c, err := h.k.Open()
		return &generationMover{Transport: c, other: other, n: races}, err
	}}
	var out, errb strings.Builder
	code := runCall(o, prog, args, strings.NewReader(stdin), &out, &errb)
	return netnstest.Result{Stdout: out.String(), Stderr: errb.String(), Code: code}
}

// retriesLostRacesOnFake is TestRetriesLostRaces on the fake: a call whose
// first 25 commits lose a race ends as the same call losing none, and one
// that loses every race gives up after -w's seconds, exit 4, having
// changed nothing.
func retriesLostRacesOnFake(t *testing.T) {
	lossy, calm := newFakeHost(t), newFakeHost(t)
	payload := "*mangle\n:KUBE-M - [0:0]\n-A PREROUTING -j KUBE-M\nCOMMIT\n*filter\n:KUBE-F - [0:0]\n-A INPUT -j KUBE-F\nCOMMIT\n"
	calls := []struct {
		stdin, prog string
		args        []string
	}{
		{payload, "iptables-restore", []string{"--noflush"}},
		{"", "iptables", []string{"-I", "INPUT", "1", "-j", "ACCEPT"}},
		{"", "iptables", []string{"-X", "KUBE-M", "-t", "mangle"}},
	}
	for _, c := range calls {
		want := calm.run(c.stdin, c.prog, c.args...)
		if got := lossy.runLosing(25, c.stdin, c.prog, c.args...); got != want {
			t.Errorf("%s %v losing 25 races:\n%s\nwithout races:\n%s", c.prog, c.args, got, want)
		}
	}
	// Handles differ (the other writer's tables used some), the rules
	// may not.
	for _, prog := range []string{"iptables-save", "ip6tables-save"} {
		got := netnstest.NormalizeSave(lossy.mustRun("", prog, "-c"))
		if want := netnstest.NormalizeSave(calm.mustRun("", prog, "-c")); got != want {
			t.Errorf("%s differs:\n%s", prog, netnstest.LineDiff(want, got))
		}
	}
	before := lossy.mustRun("", "iptables-save")
	for _, c := range []struct {
		stdin, prog string
		args        []string
	}{
		{"*filter\n-A INPUT -j DROP\nCOMMIT\n", "iptables-restore", []string{"--noflush", "-w", "1"}},
		{"", "iptables", []string{"-w", "1", "-A", "INPUT", "-j", "DROP"}},
	} {
		r := lossy.runLosing(-1, c.stdin, c.prog, c.args...)
		if r.Code != 4 || !strings.Contains(r.Stderr, "Could not commit transaction") {
			t.Errorf("%s %v losing every race: %s", c.prog, c.args, r)
		}
	}
	if after := lossy.mustRun("", "iptables-save"); netnstest.NormalizeSave(after) != netnstest.NormalizeSave(before) {
		t.Errorf("calls that lost every race changed the ruleset:\n%s", netnstest.LineDiff(before, after))
	}
}
