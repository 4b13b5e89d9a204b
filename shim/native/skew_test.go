package native

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/kubefixture"
	"github.com/iptables-shim/iptables-shim/internal/kubepayload"
	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/internal/oracle"
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/nftread"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// The version-skew matrix: real iptables-nft 1.8.7, 1.8.9 and 1.8.11 (see
// internal/oracle and scripts/fetch-iptables.sh) as the host, the native
// backend as the other side.

// skewDialectEnv names the dialect the test helper writes in: a version,
// or "auto" to fingerprint the namespace's rules as the shim does.
const skewDialectEnv = "NATIVE_TEST_DIALECT"

// helperDialect sets the helper's dialect options from skewDialectEnv.
func helperDialect(o Options) Options {
	switch d := os.Getenv(skewDialectEnv); d {
	case "auto":
		o.DetectDialect = true
	default:
		o.Dialect = dialect.Dialect(d)
	}
	return o
}

// skewGroup is one restore payload of the skew corpus.
type skewGroup struct {
	name string
	text string
	// miswrittenBy are the versions that do not write this group as
	// asked, so a correct writer cannot equal them: 1.8.7 encodes a
	// non-contiguous mask as its leading whole bytes ("! -d
	// 10.0.0.0/255.0.255.0" becomes "! -d 10.0.0.0/8", a wider rule).
	miswrittenBy []string
}

// skewCorpus is what a host's tools write: kubelet's chains, kube-proxy
// payloads of both proxiers, and testdata/skew's catalogue of rule forms.
func skewCorpus(t *testing.T, fam syntax.Family) ([]skewGroup, kubepayload.Options) {
	t.Helper()
	ipvs := kubepayload.Options{Services: 12, Shape: kubepayload.IPVSMode, Family: fam}
	gs := []skewGroup{
		{name: "iptables-proxier", text: kubepayload.Generate(kubepayload.Options{Services: 20, Shape: kubepayload.IptablesMode, Family: fam, NoEndpointsEvery: 7}).Text},
		{name: "ipvs-proxier", text: kubepayload.Generate(ipvs).Text},
	}
	if fam == syntax.IPv4 {
		// Kubelet's chains last: the IPVS payload declares KUBE-MARK-DROP too.
		gs = append(gs, skewGroup{name: "kubelet", text: kubefixture.Kubelet113})
	}
	forms, err := os.ReadFile("testdata/skew/forms-v" + famString(fam) + ".txt")
	if err != nil {
		t.Fatal(err)
	}
	gs = append(gs, skewGroup{name: "forms", text: string(forms)})
	// Later kubelet (1.19+) and kube-proxy rule shapes.
	kube, err := os.ReadFile("testdata/skew/kube-v" + famString(fam) + ".txt")
	if err != nil {
		t.Fatal(err)
	}
	gs = append(gs, skewGroup{name: "kube-later", text: string(kube)})
	if fam == syntax.IPv4 {
		mask, err := os.ReadFile("testdata/skew/mask-v4.txt")
		if err != nil {
			t.Fatal(err)
		}
		gs = append(gs, skewGroup{name: "mask", text: string(mask), miswrittenBy: []string{"1.8.7"}})
	}
	return gs, ipvs
}

// writtenAsAsked drops the groups version v does not write as asked.
func writtenAsAsked(t *testing.T, gs []skewGroup, v string) []skewGroup {
	var out []skewGroup
	for _, g := range gs {
		if slices.Contains(g.miswrittenBy, v) {
			t.Logf("group %s left out: iptables-nft %s does not write it as asked", g.name, v)
			continue
		}
		out = append(out, g)
	}
	return out
}

// famPrefix is the program prefix of a family.
func famPrefix(fam syntax.Family) string {
	if fam == syntax.IPv6 {
		return "ip6tables"
	}
	return "iptables"
}

// hostWrites applies the corpus with a real iptables-nft in a fresh
// namespace.
func hostWrites(t *testing.T, o oracle.Oracle, fam syntax.Family, asAsked bool) (*netnstest.NS, int) {
	t.Helper()
	ns := netnstest.New(t)
	groups, ipvs := skewCorpus(t, fam)
	if asAsked {
		groups = writtenAsAsked(t, groups, o.Version)
	}
	createIPSets(t, ipvs, ns)
	for _, g := range groups {
		if r := o.RunStdin(ns, g.text, famPrefix(fam)+"-restore", "--noflush"); r.Code != 0 {
			t.Fatalf("%s restoring %s: %s", o, g.name, r)
		}
	}
	return ns, len(saveRules(o.Save(t, ns, famPrefix(fam))))
}

// saveRules returns the rule lines of a save as "-t TABLE -A ..." commands.
func saveRules(save string) []string {
	var out []string
	table := ""
	for _, l := range strings.Split(save, "\n") {
		switch {
		case strings.HasPrefix(l, "*"):
			table = l[1:]
		case strings.HasPrefix(l, "-A "):
			out = append(out, "-t "+table+" "+l)
		}
	}
	return out
}

// batchResult is what the batch helper reports per command.
type batchResult struct {
	line string
	code int
	msg  string
}

// oursBatch runs one iptables command per line of cmds through the native
// backend inside ns, in one process, and returns each exit status.
func oursBatch(t *testing.T, ns *netnstest.NS, fam syntax.Family, dialect string, cmds []string) []batchResult {
	t.Helper()
	r := oursWith(t, ns, []string{skewDialectEnv + "=" + dialect}, strings.Join(cmds, "\n")+"\n", "batch-"+famPrefix(fam))
	if r.Code != 0 {
		t.Fatalf("batch helper: %s", r)
	}
	var out []batchResult
	sc := bufio.NewScanner(strings.NewReader(r.Stdout))
	i := 0
	for sc.Scan() {
		code, msg, _ := strings.Cut(sc.Text(), " ")
		n, _ := strconv.Atoi(code)
		out = append(out, batchResult{line: cmds[i], code: n, msg: msg})
		i++
	}
	if len(out) != len(cmds) {
		t.Fatalf("batch helper answered %d of %d commands: %s", len(out), len(cmds), r.Stderr)
	}
	return out
}

// runBatch is the helper side of oursBatch: each stdin line is one
// iptables command in save quoting; it prints "CODE MESSAGE" per line.
func runBatch(prog string) int {
	fam := syntax.IPv4
	if strings.HasSuffix(prog, "ip6tables") {
		fam = syntax.IPv6
	}
	if strings.HasPrefix(prog, "dialect-") {
		// Print the host dialect found and its clues.
		f, err := HostDialect(fam)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("%s\n%s\n", f.Dialect, f.Why)
		for _, c := range f.Clues {
			fmt.Printf("%s: %s\n", c.Hint, c.What)
		}
		return 0
	}
	b := New(helperDialect(Options{}))
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		args, err := nftread.SaveWords(sc.Text())
		if err != nil {
			fmt.Printf("2 %v\n", err)
			continue
		}
		var out strings.Builder
		c := &backend.Call{Tool: backend.Iptables, Family: fam, Args: args, Stdin: strings.NewReader(""), Stdout: &out, Stderr: io.Discard}
		err = b.Run(context.Background(), c)
		if err != nil {
			fmt.Printf("%d %s\n", ipterr.ClassOf(err), strings.ReplaceAll(err.Error(), "\n", " "))
			continue
		}
		// Output (of -S) follows, its lines joined by \x1e.
		fmt.Printf("0 %s\n", strings.ReplaceAll(strings.TrimRight(out.String(), "\n"), "\n", "\x1e"))
	}
	return 0
}

// asOp turns "-t T -A CHAIN spec" into "-t T -OP CHAIN spec".
func asOp(rules []string, op string) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = strings.Replace(r, " -A ", " "+op+" ", 1)
	}
	return out
}

// failed counts and lists the commands that did not exit 0.
func failed(rs []batchResult) (int, string) {
	n := 0
	var b strings.Builder
	for _, r := range rs {
		if r.code != 0 {
			n++
			if n <= 10 {
				fmt.Fprintf(&b, "  %s: exit %d %s\n", r.line, r.code, r.msg)
			}
		}
	}
	return n, b.String()
}

// TestSkewShimReads: each real version writes the corpus as the host; the
// native backend's save must print what that version's own save prints,
// and its -C and -D must find every rule.
func TestSkewShimReads(t *testing.T) {
	for _, fam := range []syntax.Family{syntax.IPv4, syntax.IPv6} {
		for _, v := range oracle.Versions {
			t.Run(v+"-v"+famString(fam), func(t *testing.T) {
				netnstest.Require(t, "ipset", "nft")
				o := oracle.Require(t, v)
				ns, total := hostWrites(t, o, fam, false)
				if fr := oursWith(t, ns, nil, "", "batch-dialect-"+famPrefix(fam)); fr.Code != 0 || !strings.HasPrefix(fr.Stdout, v+"\n") {
					t.Errorf("host dialect not recognised as %s: %s", v, fr)
				} else {
					t.Logf("fingerprint: %s", strings.ReplaceAll(strings.TrimSpace(fr.Stdout), "\n", "; "))
				}
				hostSave := o.Save(t, ns, famPrefix(fam))
				// Save prints as the host's tool does, which differs by
				// version (1.8.11 names fewer protocols).
				r := oursWith(t, ns, []string{skewDialectEnv + "=" + v}, "", famPrefix(fam)+"-save")
				if r.Code != 0 {
					t.Errorf("save: %s", r)
				} else if got := netnstest.NormalizeSave(r.Stdout); got != hostSave {
					t.Errorf("save differs from %s's own:\n%s", o, netnstest.LineDiff(hostSave, got))
				}
				for _, table := range []string{"filter", "nat"} {
					for _, args := range [][]string{{"-S"}, {"-L", "-n"}, {"-L", "-n", "-v", "-x", "--line-numbers"}} {
						args = append([]string{"-t", table}, args...)
						want := o.Run(ns, famPrefix(fam), args...)
						got := oursWith(t, ns, []string{skewDialectEnv + "=" + v}, "", famPrefix(fam), args...)
						if got.Code != want.Code || got.Stdout != want.Stdout {
							t.Errorf("%s %v differs from %s's own (exit %d, want %d):\n%s", famPrefix(fam), args, o, got.Code, want.Code, netnstest.LineDiff(want.Stdout, got.Stdout))
						}
					}
				}
				rules := saveRules(hostSave)
				nC, fails := failed(oursBatch(t, ns, fam, "", asOp(rules, "-C")))
				if nC != 0 {
					t.Errorf("-C missed %d of %d rules:\n%s", nC, len(rules), fails)
				}
				nD, fails := failed(oursBatch(t, ns, fam, "", asOp(rules, "-D")))
				if nD != 0 {
					t.Errorf("-D missed %d of %d rules:\n%s", nD, len(rules), fails)
				}
				if left := saveRules(o.Save(t, ns, famPrefix(fam))); len(left) != 0 {
					t.Errorf("%d rules left after deleting every rule, e.g. %s", len(left), left[0])
				}
				t.Logf("matrix: writer %s reader shim: save (and -S, -L) %v, -C %d/%d, -D %d/%d", o, r.Code == 0 && netnstest.NormalizeSave(r.Stdout) == hostSave, len(rules)-nC, len(rules), len(rules)-nD, total)
			})
		}
	}
}

// shimWrites applies the corpus with the native backend in the given
// dialect in a fresh namespace.
func shimWrites(t *testing.T, d string, fam syntax.Family) *netnstest.NS {
	t.Helper()
	ns := netnstest.New(t)
	groups, ipvs := skewCorpus(t, fam)
	groups = writtenAsAsked(t, groups, d)
	createIPSets(t, ipvs, ns)
	for _, g := range groups {
		r := oursWith(t, ns, []string{skewDialectEnv + "=" + d}, g.text, famPrefix(fam)+"-restore", "--noflush")
		if r.Code != 0 {
			t.Fatalf("native backend (dialect %s) restoring %s: %s", d, g.name, r)
		}
	}
	return ns
}

// hostChecks runs the host's own iptables -C for every rule in ns and
// returns how many it did not find.
func hostChecks(t *testing.T, o oracle.Oracle, ns *netnstest.NS, fam syntax.Family, rules []string) (int, string) {
	t.Helper()
	n := 0
	var b strings.Builder
	for _, r := range asOp(rules, "-C") {
		args, err := nftread.SaveWords(r)
		if err != nil {
			t.Fatal(err)
		}
		if res := o.Run(ns, famPrefix(fam), args...); res.Code != 0 {
			n++
			if n <= 10 {
				fmt.Fprintf(&b, "  %s: %s", r, res.Stderr)
			}
		}
	}
	return n, b.String()
}

// TestSkewHostReads: the native backend writes the corpus in each host
// version's dialect; that version's own tools must read it back as what
// they write themselves: the same save output, the same expressions, and
// their -C finds every rule.
func TestSkewHostReads(t *testing.T) {
	for _, fam := range []syntax.Family{syntax.IPv4, syntax.IPv6} {
		for _, v := range oracle.Versions {
			t.Run(v+"-v"+famString(fam), func(t *testing.T) {
				netnstest.Require(t, "ipset", "nft")
				o := oracle.Require(t, v)
				ref, _ := hostWrites(t, o, fam, true)
				mine := shimWrites(t, v, fam)
				want := o.Save(t, ref, famPrefix(fam))
				got := o.Save(t, mine, famPrefix(fam))
				saveOK := want == got
				if !saveOK {
					t.Errorf("%s reads what the shim wrote in its dialect differently from what it wrote itself:\n%s", o, netnstest.LineDiff(want, got))
				}
				if w, g := ref.NFTDump(), mine.NFTDump(); w != g {
					t.Errorf("expressions differ from %s's own:\n%s", o, netnstest.LineDiff(w, g))
				}
				rules := saveRules(want)
				nC, fails := hostChecks(t, o, mine, fam, rules)
				if nC != 0 {
					t.Errorf("%s -C missed %d of %d rules the shim wrote:\n%s", o, nC, len(rules), fails)
				}
				t.Logf("matrix: writer shim(%s) reader %s: save %v, -C %d/%d", v, o, saveOK, len(rules)-nC, len(rules))
			})
		}
	}
}
