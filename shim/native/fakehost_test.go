package native

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/internal/nfnl"
	"github.com/iptables-shim/iptables-shim/internal/nfnl/fake"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/nftread"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// fakeHost is the native backend in-process against an in-memory
// nf_tables (package internal/nfnl/fake) with its own ipsets and xtables lock: what
// the differential tests do in a network namespace, without root.
type fakeHost struct {
	t    testing.TB
	k    *fake.Kernel
	sets *fakeIPSets
	// perChain makes save dump rules chain by chain.
	perChain bool
}

func newFakeHost(t testing.TB) *fakeHost {
	t.Helper()
	lock := filepath.Join(t.TempDir(), "xtables.lock")
	t.Setenv("XTABLES_LOCKFILE", lock)
	return &fakeHost{t: t, k: fake.New(), sets: &fakeIPSets{}}
}

// run carries out one call as prog, like ours does in a namespace.
func (h *fakeHost) run(stdin, prog string, args ...string) netnstest.Result {
	h.t.Helper()
	fam := syntax.IPv4
	if strings.HasPrefix(prog, "ip6") {
		fam = syntax.IPv6
	}
	o := Options{ParseChunkLines: 5, Open: h.k.Opener(), IPSets: h.sets.family(fam)}
	if h.perChain {
		o.PerChainDumpAbove = 1
	}
	var out, errb bytes.Buffer
	code := runCall(o, prog, args, strings.NewReader(stdin), &out, &errb)
	return netnstest.Result{Stdout: out.String(), Stderr: errb.String(), Code: code}
}

// mustRun is run that fails the test on a non-zero exit.
func (h *fakeHost) mustRun(stdin, prog string, args ...string) string {
	h.t.Helper()
	r := h.run(stdin, prog, args...)
	if r.Code != 0 {
		h.t.Fatalf("%s %v: %s", prog, args, r)
	}
	return r.Stdout
}

// fakeIPSets stands in for the kernel's ipsets: indexes are handed out in
// creation order from 0, as ip_set does in a fresh namespace.
type fakeIPSets struct {
	names, families []string
}

// create adds a set as `ipset create` would ("inet" or "inet6").
func (s *fakeIPSets) create(name, family string) {
	s.names = append(s.names, name)
	s.families = append(s.families, family)
}

func (s *fakeIPSets) family(f syntax.Family) fakeFamilySets { return fakeFamilySets{s, f} }

// fakeFamilySets resolves one family's set names, refusing a set of the
// other family with libxt_set's message, as shim/xt/ipset does.
type fakeFamilySets struct {
	s   *fakeIPSets
	fam syntax.Family
}

func (f fakeFamilySets) Index(name string) (uint16, error) {
	for i, n := range f.s.names {
		if n != name {
			continue
		}
		want := "inet"
		if f.fam == syntax.IPv6 {
			want = "inet6"
		}
		if got := f.s.families[i]; got != want {
			label := map[string]string{"inet": "IPv4", "inet6": "IPv6"}[got]
			return 0, ipterr.New(ipterr.Parameter, "The protocol family of set %s is %s, which is not applicable.\n", name, label)
		}
		return uint16(i), nil
	}
	return 0, ipterr.New(ipterr.Parameter, "Set %s doesn't exist.\n", name)
}

func (f fakeFamilySets) Name(idx uint16) (string, error) {
	if int(idx) < len(f.s.names) {
		return f.s.names[idx], nil
	}
	return "", fmt.Errorf("ipset: no set has index %d", idx)
}

// printRawDump prints canonicalDump of the kernel in the helper's
// namespace.
func printRawDump() int {
	c, err := nfnl.Open()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Close()
	s, err := canonicalDump(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Print(s)
	return 0
}

// canonicalDump renders every ip and ip6 table, chain and rule as the
// kernel (or the fake) dumps them: each attribute with its type and
// bytes, nested ones opened, a rule's expressions as the native decoder
// reads them. Attribute flags (NLA_F_NESTED) are left out: our encoder
// and the kernel's set them differently and no reader looks at them.
func canonicalDump(tr nfnl.Transport) (string, error) {
	var b strings.Builder
	gen, err := tr.GenID()
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "gen %d\n", gen)
	nested := map[string]map[uint16]bool{
		"chain": {unix.NFTA_CHAIN_HOOK: true, unix.NFTA_CHAIN_COUNTERS: true},
	}
	for _, fam := range []uint8{unix.NFPROTO_IPV4, unix.NFPROTO_IPV6} {
		for _, kind := range []struct {
			name string
			msg  int
		}{{"table", unix.NFT_MSG_GETTABLE}, {"chain", unix.NFT_MSG_GETCHAIN}, {"rule", unix.NFT_MSG_GETRULE}} {
			err := tr.Dump(nfnl.MsgType(nfnl.SubsysNFTables, kind.msg), fam, nil, func(m nfnl.Message) error {
				fmt.Fprintf(&b, "%d %s", m.Family, kind.name)
				for a := nfnl.Scan(m.Attrs); a.Next(); {
					switch {
					case kind.name == "rule" && a.Type == unix.NFTA_RULE_EXPRESSIONS:
						exprs, err := nftread.DecodeExprs(fam, a.Data)
						if err != nil {
							return err
						}
						for _, e := range exprs {
							b.WriteString("\n    " + renderExpr(e))
						}
					case nested[kind.name][a.Type]:
						fmt.Fprintf(&b, " %d{", a.Type)
						for n := nfnl.Scan(a.Data); n.Next(); {
							fmt.Fprintf(&b, " %d=%s", n.Type, hex.EncodeToString(n.Data))
						}
						b.WriteString(" }")
					default:
						fmt.Fprintf(&b, " %d=%s", a.Type, hex.EncodeToString(a.Data))
					}
				}
				b.WriteString("\n")
				return nil
			})
			if err != nil {
				return "", fmt.Errorf("dumping %ss: %w", kind.name, err)
			}
		}
	}
	return b.String(), nil
}

// renderExpr prints a decoded expression with the values its pointers
// point to.
func renderExpr(e expr.Any) string {
	switch e := e.(type) {
	case *expr.Match:
		return fmt.Sprintf("match %s rev %d info %+v", e.Name, e.Rev, reflect.Indirect(reflect.ValueOf(e.Info)).Interface())
	case *expr.Target:
		return fmt.Sprintf("target %s rev %d info %+v", e.Name, e.Rev, reflect.Indirect(reflect.ValueOf(e.Info)).Interface())
	}
	return fmt.Sprintf("%T%+v", e, reflect.Indirect(reflect.ValueOf(e)).Interface())
}
