package xt

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
	"github.com/iptables-shim/iptables-shim/shim/xt/internal/kdump"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the real iptables-nft (needs root)")

// goldenCase is one line of testdata/cases.txt.
type goldenCase struct {
	Line   int
	Family syntax.Family
	Table  string
	Chain  string
	Args   string
}

func (c goldenCase) String() string {
	return fmt.Sprintf("%d %s %s %s", c.Family, c.Table, c.Chain, c.Args)
}

// file names the case's golden file after its text, so reordering cases
// does not rename files.
func (c goldenCase) file() string {
	slug := regexp.MustCompile(`[^a-zA-Z0-9]+`).ReplaceAllString(strings.ToLower(c.Args), "-")
	slug = strings.Trim(slug, "-")
	if len(slug) > 60 {
		slug = slug[:60]
	}
	sum := sha256.Sum256([]byte(c.String()))
	return filepath.Join("testdata", "golden", fmt.Sprintf("v%d-%s-%s-%s-%x.txt", c.Family, c.Table, strings.ToLower(c.Chain), slug, sum[:3]))
}

func loadCases(t testing.TB) []goldenCase {
	t.Helper()
	f, err := os.Open("testdata/cases.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []goldenCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		parts := strings.SplitN(l, " ", 4)
		if len(parts) != 4 {
			t.Fatalf("cases.txt:%d: want FAMILY TABLE CHAIN ARGS", n)
		}
		fam, err := strconv.Atoi(parts[0])
		if err != nil || (fam != 4 && fam != 6) {
			t.Fatalf("cases.txt:%d: bad family %q", n, parts[0])
		}
		cases = append(cases, goldenCase{Line: n, Family: syntax.Family(fam), Table: parts[1], Chain: parts[2], Args: parts[3]})
	}
	return cases
}

// golden is what the real iptables-nft did with one case.
type golden struct {
	Cmd    string
	Exit   int    // the real tool's exit status when it refused the rule
	Stderr string // the first line of its complaint then
	// BlankLine is set when a blank line followed that first line:
	// libxtables ends many of its messages with a newline of their own.
	BlankLine bool
	Save      string       // the rule's line in iptables-nft-save output
	NFT       []string     // the rule's `nft --debug=netlink` expression lines
	Exprs     []kdump.Expr // every expression of the rule, as dumped
}

func (g golden) render() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cmd: %s\n", g.Cmd)
	if g.Exit != 0 {
		fmt.Fprintf(&b, "exit: %d\nstderr: %s\n", g.Exit, g.Stderr)
		if g.BlankLine {
			b.WriteString("stderr-blank-line: true\n")
		}
		return b.String()
	}
	fmt.Fprintf(&b, "save: %s\n", g.Save)
	for _, l := range g.NFT {
		fmt.Fprintf(&b, "nft: %s\n", l)
	}
	for _, e := range g.Exprs {
		fmt.Fprintf(&b, "expr: %s %s\n", e.Name, hex.EncodeToString(e.Data))
	}
	return b.String()
}

func parseGolden(fam syntax.Family, s string) (golden, error) {
	var g golden
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		k, v, ok := strings.Cut(l, ": ")
		if !ok {
			return g, fmt.Errorf("bad golden line %q", l)
		}
		switch k {
		case "cmd":
			g.Cmd = v
		case "exit":
			n, err := strconv.Atoi(v)
			if err != nil {
				return g, err
			}
			g.Exit = n
		case "stderr":
			g.Stderr = v
		case "stderr-blank-line":
			g.BlankLine = v == "true"
		case "save":
			g.Save = v
		case "nft":
			g.NFT = append(g.NFT, v)
		case "expr":
			name, h, _ := strings.Cut(v, " ")
			data, err := hex.DecodeString(h)
			if err != nil {
				return g, err
			}
			p, err := kdump.ParseData(nfproto(fam), name, data)
			if err != nil {
				return g, err
			}
			g.Exprs = append(g.Exprs, kdump.Expr{Name: name, Data: data, Parsed: p})
		default:
			return g, fmt.Errorf("bad golden key %q", k)
		}
	}
	return g, nil
}

func readGolden(t testing.TB, c goldenCase) golden {
	t.Helper()
	b, err := os.ReadFile(c.file())
	if err != nil {
		t.Fatalf("%s: %v (regenerate with -update as root)", c, err)
	}
	g, err := parseGolden(c.Family, string(b))
	if err != nil {
		t.Fatalf("%s: %v", c.file(), err)
	}
	return g
}

var builtinChains = map[string]bool{"INPUT": true, "OUTPUT": true, "FORWARD": true, "PREROUTING": true, "POSTROUTING": true}

// testIPSets are created, in this order, in the namespace the goldens are
// made in; the kernel numbers them from 0 in creation order.
var testIPSets = []struct{ name, typ, family string }{
	{"test-a", "hash:ip", "inet"},
	{"test-b", "hash:net", "inet"},
	{"test-6", "hash:ip", "inet6"},
}

// fakeIPSets resolves testIPSets without the kernel, for one family, with
// the ipset resolver's family check.
type fakeIPSets struct{ family syntax.Family }

func (f fakeIPSets) Index(name string) (uint16, error) {
	for i, s := range testIPSets {
		if s.name != name {
			continue
		}
		if (s.family == "inet6") != (f.family == syntax.IPv6) {
			fam := "IPv4"
			if s.family == "inet6" {
				fam = "IPv6"
			}
			return 0, ipterr.New(ipterr.Parameter, "The protocol family of set %s is %s, which is not applicable.\n", name, fam)
		}
		return uint16(i), nil
	}
	return 0, errors.New("no such set")
}

func (fakeIPSets) Name(index uint16) (string, error) {
	if int(index) < len(testIPSets) {
		return testIPSets[index].name, nil
	}
	return "", fmt.Errorf("set index %d does not exist", index)
}

// realGolden runs a case through the real iptables-nft in ns.
func realGolden(t *testing.T, ns *netnstest.NS, c goldenCase) golden {
	t.Helper()
	prog := "iptables-nft"
	if c.Family == syntax.IPv6 {
		prog = "ip6tables-nft"
	}
	ns.MustRun("nft", "flush", "ruleset")
	words, err := splitWords(c.Args)
	if err != nil {
		t.Fatal(err)
	}
	if !builtinChains[c.Chain] {
		ns.MustRun(prog, "-t", c.Table, "-N", c.Chain)
	}
	// A rateest match needs the estimators it names: RATEEST rules in
	// another table create them, and only the case's table is read.
	other := strings.Contains(c.Args, "-m rateest")
	if other {
		for _, n := range []string{"RE1", "RE2"} {
			ns.MustRun(prog, "-t", "raw", "-A", "PREROUTING", "-j", "RATEEST", "--rateest-name", n,
				"--rateest-interval", "250ms", "--rateest-ewmalog", "500ms")
		}
	}
	g := golden{Cmd: fmt.Sprintf("%s -t %s -A %s %s", prog, c.Table, c.Chain, c.Args)}
	if r := ns.Run(prog, append([]string{"-t", c.Table, "-A", c.Chain}, words...)...); r.Code != 0 {
		g.Exit = r.Code
		var rest string
		// The warning for an extension the kernel lacks (LED,
		// CLUSTERIP, ipvs) comes first; the golden keeps the line
		// after it, iptables' complaint.
		stderr := r.Stderr
		for strings.HasPrefix(stderr, "Warning: Extension ") && strings.Contains(stderr, "missing kernel module?\n") {
			_, stderr, _ = strings.Cut(stderr, "\n")
		}
		g.Stderr, rest, _ = strings.Cut(stderr, "\n")
		g.BlankLine = strings.HasPrefix(rest, "\n")
		return g
	}
	for _, l := range strings.Split(ns.MustRun(prog+"-save", "-t", c.Table), "\n") {
		if strings.HasPrefix(l, "-A ") {
			g.Save = l
		}
	}
	list := []string{"--debug=netlink", "list", "ruleset"}
	if other {
		list = []string{"--debug=netlink", "list", "table", map[syntax.Family]string{syntax.IPv4: "ip", syntax.IPv6: "ip6"}[c.Family], c.Table}
	}
	for _, l := range strings.Split(ns.MustRun("nft", list...), "\n") {
		if strings.HasPrefix(l, "  [ ") {
			g.NFT = append(g.NFT, strings.TrimSpace(l))
		}
	}
	all, err := kdump.Dump(ns.Name, nfproto(c.Family))
	if err != nil {
		t.Fatal(err)
	}
	var rules []kdump.Rule
	for _, r := range all {
		if r.Table == c.Table {
			rules = append(rules, r)
		}
	}
	if len(rules) != 1 {
		t.Fatalf("%s: %d rules dumped, want 1", c, len(rules))
	}
	g.Exprs = rules[0].Exprs
	return g
}

// TestGoldenReal re-derives every golden from the real iptables-nft and
// checks (or, with -update, rewrites) the stored files.
func TestGoldenReal(t *testing.T) {
	netnstest.Require(t, "iptables-nft", "ip6tables-nft", "nft", "ipset")
	ns := netnstest.New(t)
	for _, s := range testIPSets {
		ns.MustRun("ipset", "create", s.name, s.typ, "family", s.family)
	}
	addNFAcct(t, ns.Name, testNFAcct...)
	if *update {
		if err := os.MkdirAll(filepath.Join("testdata", "golden"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cases := loadCases(t)
	if *update {
		removeOrphans(t, cases)
	}
	for _, c := range cases {
		got := realGolden(t, ns, c).render()
		if *update {
			if err := os.WriteFile(c.file(), []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(c.file())
		if err != nil {
			t.Errorf("%s: %v (regenerate with -update)", c, err)
			continue
		}
		if got != string(want) {
			t.Errorf("%s: the real iptables-nft now gives\n%s\ngolden %s has\n%s", c, got, c.file(), want)
		}
	}
}

// orphanGoldens lists the golden files that no case names.
func orphanGoldens(t testing.TB, cases []goldenCase) []string {
	t.Helper()
	want := map[string]bool{}
	for _, c := range cases {
		want[c.file()] = true
	}
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var orphans []string
	for _, f := range files {
		if !want[f] {
			orphans = append(orphans, f)
		}
	}
	return orphans
}

func removeOrphans(t testing.TB, cases []goldenCase) {
	t.Helper()
	for _, f := range orphanGoldens(t, cases) {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGoldenOrphans keeps testdata/golden in step with cases.txt.
func TestGoldenOrphans(t *testing.T) {
	if o := orphanGoldens(t, loadCases(t)); len(o) > 0 {
		t.Errorf("golden files without a case (regenerate with -update): %v", o)
	}
}
