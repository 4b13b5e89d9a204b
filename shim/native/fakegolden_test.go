package native

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/kubepayload"
	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/shim/nftread"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

var updateGoldens = flag.Bool("update", false, "rewrite testdata/fake/*.golden from the real iptables-nft (root)")

// resetStep, as a step's program, empties the host's ruleset (ipsets
// stay): one scenario then holds many cases that each start afresh.
const resetStep = "reset"

// transcriptStep is one call of a transcript scenario.
type transcriptStep struct {
	prog  string
	args  []string
	stdin string
}

func (s transcriptStep) family() syntax.Family {
	if strings.HasPrefix(s.prog, "ip6") {
		return syntax.IPv6
	}
	return syntax.IPv4
}

// transcriptScenario is a sequence of calls on a fresh host that has the
// ipsets sets first (name, type, "inet" or "inet6").
type transcriptScenario struct {
	name  string
	sets  [][3]string
	steps []transcriptStep
	// perCase shows each step's input and leaves out the save after
	// each step (steps are one-rule cases).
	perCase bool
	// showInput shows each step's input.
	showInput bool
}

// kubeSets are the ipsets a kube-proxy payload needs.
func kubeSets(o kubepayload.Options) [][3]string {
	var out [][3]string
	for _, s := range kubepayload.IPSets(o) {
		fam := "inet"
		if o.Family == syntax.IPv6 {
			fam = "inet6"
		}
		out = append(out, [3]string{s.Name, s.Type, fam})
	}
	return out
}

// transcriptScenarios are the differential tests' inputs (restore corpus,
// command corpus, kube-proxy payloads, save edge cases) as transcripts.
func transcriptScenarios(t *testing.T) []transcriptScenario {
	t.Helper()
	var out []transcriptScenario
	files, _ := filepath.Glob("testdata/restore/*.txt")
	for _, f := range files {
		sc := transcriptScenario{name: "restore-corpus-" + strings.TrimSuffix(filepath.Base(f), ".txt")}
		for _, s := range parseCorpus(t, f) {
			sc.steps = append(sc.steps, transcriptStep{restoreProg(s.fam), s.args, s.payload})
		}
		out = append(out, sc)
	}
	files, _ = filepath.Glob("testdata/commands/*.txt")
	for _, f := range files {
		sc := transcriptScenario{name: "commands-" + strings.TrimSuffix(filepath.Base(f), ".txt")}
		for _, l := range commandLines(t, f) {
			argv := splitArgs(l)
			sc.steps = append(sc.steps, transcriptStep{argv[0], argv[1:], ""})
		}
		out = append(out, sc)
	}
	for _, o := range fakeKubeOptions {
		o := o
		sc := transcriptScenario{name: "kube-" + o.Shape.String() + "-v" + famString(o.Family), sets: kubeSets(o)}
		text := kubepayload.Generate(o).Text
		for _, args := range [][]string{nil, {"--noflush", "--counters"}, nil} {
			sc.steps = append(sc.steps, transcriptStep{restoreProg(o.Family), args, text})
		}
		out = append(out, sc)
	}
	save := transcriptScenario{name: "save-edge-cases"}
	for _, args := range [][]string{nil, {"-t", "nat"}, {"-c", "-t", "raw"}, {"-t", "bogus"}, {"--table=security"}} {
		save.steps = append(save.steps, transcriptStep{"iptables-save", args, ""})
	}
	out = append(out, save)
	// The restore commands that act on existing rules, and restores whose
	// later table sections fail, each case from an empty ruleset.
	cmds := transcriptScenario{name: "restore-commands-on-existing-rules", showInput: true}
	for _, p := range restoreCmdsPayloads {
		cmds.steps = append(cmds.steps, transcriptStep{resetStep, nil, ""},
			transcriptStep{"iptables-restore", []string{"--counters"}, restoreCmdsSeed},
			transcriptStep{"iptables-restore", []string{"--noflush"}, p})
	}
	perTable := transcriptScenario{name: "restore-commits-per-table", showInput: true}
	for _, c := range perTableCases {
		perTable.steps = append(perTable.steps, transcriptStep{resetStep, nil, ""})
		if c.setup != "" {
			perTable.steps = append(perTable.steps, transcriptStep{"iptables-restore", nil, c.setup})
		}
		perTable.steps = append(perTable.steps, transcriptStep{"iptables-restore", c.args, c.payload})
	}
	out = append(out, cmds, perTable)
	// Every shim/xt case the native backend supports, one restore each.
	xtc := transcriptScenario{name: "xt-cases", perCase: true}
	for _, s := range xtTestIPSets {
		xtc.sets = append(xtc.sets, [3]string{s.name, s.typ, s.family})
	}
	for _, c := range xtCases(t, false) {
		xtc.steps = append(xtc.steps, transcriptStep{restoreProg(c.fam), []string{"--noflush"}, c.payload})
	}
	return append(out, xtc)
}

// transcript runs a scenario's calls with run and renders, per call, its
// exit code, output and error text, and the family's save -c after it
// (save is the save program's output for a family and arguments).
func transcript(sc transcriptScenario, run func(stdin, prog string, args ...string) netnstest.Result, save func(fam syntax.Family, args ...string) string) string {
	var b strings.Builder
	last := map[syntax.Family]string{}
	for _, s := range sc.steps {
		r := run(s.stdin, s.prog, s.args...)
		stdout := r.Stdout
		if strings.HasSuffix(s.prog, "-save") {
			stdout = netnstest.NormalizeSave(stdout)
		}
		fmt.Fprintf(&b, "### %s %s\n", s.prog, strings.Join(s.args, " "))
		if sc.perCase || sc.showInput {
			b.WriteString(s.stdin)
		}
		fmt.Fprintf(&b, "exit %d\n", r.Code)
		if stdout != "" {
			fmt.Fprintf(&b, "--- stdout\n%s", stdout)
		}
		if r.Stderr != "" {
			fmt.Fprintf(&b, "--- stderr\n%s", normalizeErr(r.Stderr))
		}
		fam := s.family()
		if sc.perCase {
			continue
		}
		if st := netnstest.NormalizeSave(save(fam, "-c")); st != last[fam] {
			fmt.Fprintf(&b, "--- save -c\n%s", st)
			last[fam] = st
		}
	}
	for _, fam := range []syntax.Family{syntax.IPv4, syntax.IPv6} {
		fmt.Fprintf(&b, "### end: save, IPv%s\n%s", famString(fam), netnstest.NormalizeSave(save(fam)))
	}
	return b.String()
}

func saveProg(fam syntax.Family) string {
	if fam == syntax.IPv6 {
		return "ip6tables-save"
	}
	return "iptables-save"
}

func goldenPath(name string) string { return filepath.Join("testdata", "fake", name+".golden") }

// runTranscripts runs the transcript scenarios named with prefix with the
// native backend on the fake nf_tables, without root, and compares each
// with what the real iptables-nft did (testdata/fake, kept current by
// TestFakeGoldensCurrent).
func runTranscripts(t *testing.T, prefix string) {
	ran := 0
	for _, sc := range transcriptScenarios(t) {
		if !strings.HasPrefix(sc.name, prefix) {
			continue
		}
		ran++
		t.Run(sc.name, func(t *testing.T) {
			want, err := os.ReadFile(goldenPath(sc.name))
			if err != nil {
				t.Fatalf("%v (regenerate as root: go test ./shim/native -run TestFakeGoldensCurrent -update)", err)
			}
			h := newFakeHost(t)
			for _, s := range sc.sets {
				h.sets.create(s[0], s[2])
			}
			run := func(stdin, prog string, args ...string) netnstest.Result {
				if prog == resetStep {
					c, _ := h.k.Open()
					if err := flushRuleset(c); err != nil {
						t.Fatal(err)
					}
					return netnstest.Result{}
				}
				return h.run(stdin, prog, args...)
			}
			got := transcript(sc, run, func(fam syntax.Family, args ...string) string {
				return h.mustRun("", saveProg(fam), args...)
			})
			if got != string(want) {
				t.Errorf("native backend on the fake differs from iptables-nft (- iptables-nft, + ours):\n%s", netnstest.LineDiff(string(want), got))
			}
		})
	}
	if ran == 0 {
		t.Fatalf("no transcript scenario named %s*", prefix)
	}
}

// TestFakeGoldensCurrent runs the transcript scenarios with the real
// iptables-nft in namespaces and checks the goldens runTranscripts
// reads (with -update, rewrites them).
func TestFakeGoldensCurrent(t *testing.T) {
	netnstest.Require(t, "iptables-nft", "iptables-nft-restore", "iptables-nft-save", "ipset")
	for _, sc := range transcriptScenarios(t) {
		t.Run(sc.name, func(t *testing.T) {
			ns := netnstest.New(t)
			for _, s := range sc.sets {
				args := append(append([]string{"create", s[0]}, strings.Fields(s[1])...), "family", s[2])
				ns.MustRun("ipset", args...)
			}
			got := transcript(sc, func(stdin, prog string, args ...string) netnstest.Result {
				if prog == resetStep {
					ns.MustRun("nft", "flush", "ruleset")
					return netnstest.Result{}
				}
				return ns.RunStdin(stdin, realTool(prog), args...)
			}, func(fam syntax.Family, args ...string) string {
				return ns.MustRun(realTool(saveProg(fam)), args...)
			})
			if sc.name == "xt-cases" {
				for _, c := range xtCases(t, true) {
					if r := ns.RunStdin(c.payload, realTool(restoreProg(c.fam)), "--noflush"); r.Code != 4 {
						t.Errorf("the kernel no longer refuses, drop it from xtKernelRefuses:\n%s%s", c.payload, r)
					}
				}
			}
			path := goldenPath(sc.name)
			if *updateGoldens {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil || string(want) != got {
				t.Errorf("%s is stale (rerun with -update): %v\n%s", path, err, netnstest.LineDiff(string(want), got))
			}
		})
	}
}

// xtKernelRefuses are the shim/xt cases the kernel's x_tables checks
// refuse for what their options say (a reset without -p tcp, a timeout
// without a check): the fake models a target's table and hooks only, so they are left out of the
// transcript; TestFakeGoldensCurrent checks the kernel still refuses each.
var xtKernelRefuses = map[string]bool{
	"4 filter INPUT -j REJECT --reject-with tcp-reset": true,
	"4 filter INPUT -m recent --set --seconds 5":       true,
	// hashlimit's mask and expiry, string's algorithm and pattern,
	// cgroup's path and classid, rpfilter's table and hooks.
	"4 filter INPUT -m hashlimit --hashlimit-upto 1/sec --hashlimit-srcmask 33 --hashlimit-name x":      true,
	"4 filter INPUT -m hashlimit --hashlimit-upto 1/sec --hashlimit-name x --hashlimit-htable-expire 0": true,
	"4 filter INPUT -m string --algo wrong --string x":                                                  true,
	"4 filter INPUT -m string --string \"\" --algo bm":                                                  true,
	"4 filter INPUT -m string --string x --algo abcdefghijklmnopqrstuvwxyz":                             true,
	"4 mangle INPUT -m cgroup --cgroup 1 --path \"/\"":                                                  true,
	"4 mangle INPUT -m cgroup --path \"/\" --cgroup 1":                                                  true,
	"4 mangle INPUT -m cgroup":                                                                          true,
	"4 mangle INPUT -m cgroup --path \"/nosuch\"":                                                       true,
	"4 filter INPUT -m rpfilter":                                                                        true,
	"4 filter INPUT -p tcp -m dccp --sport 4":                                                           true,
	"4 filter INPUT -m connlabel --label 2048":                                                          true,
	"4 filter INPUT -m osf --genre linux":                                                               true, // osf is TCP only
	// The context means nothing to a kernel without SELinux (ENOENT).
	"4 security INPUT -j SECMARK --selctx system_u:object_r:firewalld_exec_t:s0": true,
}

// xtCase is one shim/xt case as a restore payload of its own.
type xtCase struct {
	fam     syntax.Family
	payload string
}

// xtCases reads the shim/xt cases the native backend supports (those it
// leaves to a real binary are not its to test); kernelRefused selects those
// in xtKernelRefuses instead of the others.
func xtCases(t *testing.T, kernelRefused bool) []xtCase {
	t.Helper()
	data, err := os.ReadFile(xtCasesFile)
	if err != nil {
		t.Fatalf("shim/xt cases: %v", err)
	}
	var out []xtCase
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || knownXTGaps[line] || xtKernelRefuses[line] != kernelRefused {
			continue
		}
		fs := strings.SplitN(line, " ", 4)
		if len(fs) < 3 {
			continue
		}
		fam := syntax.IPv4
		if fs[0] == "6" {
			fam = syntax.IPv6
		}
		decl := ""
		if nftread.LookupTable(fs[1]).Builtin(fs[2]) == nil {
			decl = ":" + fs[2] + " - [0:0]\n"
		}
		rest := ""
		if len(fs) == 4 {
			rest = " " + fs[3]
		}
		one := fmt.Sprintf("*%s\n%s-A %s%s\nCOMMIT\n", fs[1], decl, fs[2], rest)
		if p, err := syntax.ParseRestore(strings.NewReader(one), fam); err != nil || Supports(p) != nil {
			continue
		}
		out = append(out, xtCase{fam, one})
	}
	return out
}
