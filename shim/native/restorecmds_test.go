package native

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/nftread"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// restoreCmdsSeed is the ruleset the restore command tests start from.
const restoreCmdsSeed = "*filter\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:FOO - [0:0]\n:OTHER - [0:0]\n[5:600] -A FOO -s 1.1.1.1/32 -j ACCEPT\n[7:800] -A FOO -s 2.2.2.2/32 -j ACCEPT\n[9:900] -A FOO -s 3.3.3.3/32 -j ACCEPT\n-A INPUT -j FOO\nCOMMIT\n" +
	"*nat\n:KUBE-X - [0:0]\n-A KUBE-X -p tcp -j DNAT --to-destination 10.0.0.1:80\nCOMMIT\n"

// restoreCmdsPayloads are restores run, each on its own, with --noflush on
// restoreCmdsSeed.
var restoreCmdsPayloads = []string{
	"*filter\n-I FOO 2 -s 9.9.9.9 -j ACCEPT\nCOMMIT\n",
	"*filter\n-I FOO 4 -s 6.6.6.6 -j ACCEPT\nCOMMIT\n",
	"*filter\n-I FOO 9 -j DROP\nCOMMIT\n",
	"*filter\n-R FOO 1 -s 8.8.8.8 -j DROP\nCOMMIT\n",
	"*filter\n-R FOO 9 -j DROP\nCOMMIT\n",
	"*filter\n-D FOO 3\nCOMMIT\n",
	"*filter\n-D FOO 9\nCOMMIT\n",
	"*filter\n-D NOPE 1\nCOMMIT\n",
	"*filter\n-D FOO -s 2.2.2.2/32 -j ACCEPT\nCOMMIT\n",
	"*filter\n-D FOO -s 7.7.7.7/32 -j ACCEPT\nCOMMIT\n",
	"*filter\n-C FOO -s 1.1.1.1/32 -j ACCEPT\nCOMMIT\n",
	"*filter\n-C FOO -s 7.7.7.7/32 -j ACCEPT\nCOMMIT\n",
	"*filter\n-Z FOO\nCOMMIT\n",
	"*filter\n-Z FOO 2\nCOMMIT\n",
	"*filter\n-Z\nCOMMIT\n",
	"*filter\n-E OTHER RENAMED\nCOMMIT\n",
	"*filter\n-E OTHER FOO\nCOMMIT\n",
	"*filter\n-F\nCOMMIT\n",
	"*filter\n-A FOO -s 4.4.4.4/32\n-F\n-A FOO -s 5.5.5.5/32\nCOMMIT\n",
	"*filter\n-X INPUT\nCOMMIT\n",
	"*filter\n-X FORWARD\nCOMMIT\n",
	"*filter\n-X OUTPUT\nCOMMIT\n",
	"*filter\n-X PREROUTING\nCOMMIT\n",
	"*filter\n-D FOO 1\n-I OTHER 1 -j DROP\n-R INPUT 1 -j DROP\nCOMMIT\n*nat\n-D KUBE-X 1\nCOMMIT\n",
	"*nat\n-D KUBE-X -p tcp -j DNAT --to-destination 10.0.0.1:80\nCOMMIT\n*filter\n-D FOO 9\nCOMMIT\n",
	// Numbered lines count the rules as the earlier lines leave
	// them, as long as they name rules the kernel has.
	"*filter\n-D FOO 1\n-D FOO 1\nCOMMIT\n",
	"*filter\n-D FOO 3\n-D FOO 1\n-D FOO 1\n-D FOO 1\nCOMMIT\n",
	"*filter\n-A FOO -s 4.4.4.4/32 -j ACCEPT\n-I FOO 1 -s 5.5.5.5/32 -j ACCEPT\n-R FOO 3 -s 8.8.8.8/32 -j DROP\n-I FOO 4 -s 6.6.6.6/32 -j ACCEPT\n-D FOO 2\nCOMMIT\n",
	"*filter\n-D FOO -s 2.2.2.2/32 -j ACCEPT\n-D FOO 2\n-I FOO 2 -s 9.9.9.9/32 -j ACCEPT\nCOMMIT\n",
	"*filter\n-I INPUT 2 -j DROP\n-I OUTPUT 2 -j DROP\nCOMMIT\n",
	// Lines naming rules this restore added (iptables-nft names them by
	// transaction id), and -D, -C and -Z after earlier lines changed
	// the chain: iptables-nft searches its cache, which holds them.
	"*filter\n-A FOO -j ACCEPT\n-I FOO 4 -j DROP\nCOMMIT\n",
	"*filter\n-A FOO -s 4.4.4.4/32 -j ACCEPT\n-I FOO 1 -s 5.5.5.5/32 -j ACCEPT\n-I FOO 2 -s 6.6.6.6/32 -j ACCEPT\n-I FOO 6 -s 7.7.7.7/32 -j ACCEPT\nCOMMIT\n",
	"*filter\n-I FOO -j DROP\n-D FOO 1\nCOMMIT\n",
	"*filter\n-A FOO -s 4.4.4.4/32 -j ACCEPT\n-D FOO 4\n-D FOO -s 1.1.1.1/32 -j ACCEPT\n-D FOO 1\n-I FOO 1 -s 5.5.5.5/32 -j ACCEPT\nCOMMIT\n",
	"*filter\n-F FOO\n-D FOO 1\nCOMMIT\n",
	"*filter\n-R FOO 2 -j DROP\n-D FOO 2\nCOMMIT\n",
	"*filter\n-R FOO 2 -s 8.8.8.8/32 -j DROP\n-I FOO 2 -s 9.9.9.9/32 -j ACCEPT\nCOMMIT\n",
	"*filter\n-I FOO -j DROP\n-D FOO -j DROP\n-C FOO -j DROP\nCOMMIT\n",
	"*filter\n-A FOO -s 7.7.7.7/32\n-C FOO -s 7.7.7.7/32\n-C FOO -s 2.2.2.2/32 -j ACCEPT\nCOMMIT\n",
	"*filter\n-A OTHER -j ACCEPT\n-Z\nCOMMIT\n",
	"*filter\n-A FOO -j DROP\n-Z FOO\n-D FOO 4\nCOMMIT\n",
	"*filter\n-P FORWARD ACCEPT\n-Z\nCOMMIT\n",
	"*filter\n-P FORWARD ACCEPT\n-P OUTPUT DROP\n-F\n-X\nCOMMIT\n",
	"*filter\n-F\n-X\n-Z\nCOMMIT\n*nat\n-F\n-X\n-Z\n-N PD\n-I PREROUTING 1 -j PD\n-N PZ\n-I PREROUTING 2 -j PZ\nCOMMIT\n",
	"*filter\n-F\n-X\n-D INPUT 1\nCOMMIT\n",
	"*filter\n-F\n-X\n-I INPUT 2 -j DROP\nCOMMIT\n",
	"*filter\n-F\n-X\n-A INPUT -j DROP\n-I INPUT 2 -j ACCEPT\n-D INPUT -j DROP\nCOMMIT\n",
	"*filter\n-P INPUT DROP\nCOMMIT\n",
	// 1.8.9 gives a rule of the batch it deletes a new id, so the rule
	// placed against it by its old one fails (ENOENT).
	"*filter\n-A FOO -s 4.4.4.4/32 -j ACCEPT\n-I FOO 4 -s 5.5.5.5/32 -j ACCEPT\n-D FOO -s 4.4.4.4/32 -j ACCEPT\nCOMMIT\n",
	"*filter\n-A FOO -s 4.4.4.4/32 -j ACCEPT\n-I FOO 4 -s 5.5.5.5/32 -j ACCEPT\n-D FOO 5\nCOMMIT\n",
	"*filter\n-A FORWARD -m comment --comment \"rule 4\" -j ACCEPT\n-I FORWARD 1 -m comment --comment \"rule 1\" -j ACCEPT\n" +
		"-I FORWARD 2 -m comment --comment \"rule 2\" -j ACCEPT\n-I FORWARD 3 -m comment --comment \"rule 3\" -j ACCEPT\nCOMMIT\n",
}

// restoreCommandsOnExistingRulesInNamespaces runs, inside restores with --noflush,
// the commands that act on the rules a chain already has (-I CHAIN N, -R,
// -D by number and by specification, -C, -Z, -E, -F without a chain, -X of
// a built-in chain), and compares exit code, stderr and the resulting
// ruleset with iptables-nft-restore's. Before, the native backend refused
// every one of them (exit 2).
func restoreCommandsOnExistingRulesInNamespaces(t *testing.T) {
	for _, payload := range restoreCmdsPayloads {
		t.Run("", func(t *testing.T) {
			d := newDiffPair(t)
			d.ref.MustRunStdin(restoreCmdsSeed, "iptables-nft-restore", "--counters")
			d.mine.MustRunStdin(restoreCmdsSeed, "iptables-nft-restore", "--counters")
			ref, mine := d.restore(payload, "iptables-restore", "--noflush")
			if ref.Code != mine.Code || normalizeErr(ref.Stderr) != mine.Stderr || ref.Stdout != mine.Stdout {
				t.Errorf("payload:\n%s\niptables-nft-restore: %s\nnative:               %s", payload, ref, mine)
			}
			d.compareState("4")
		})
	}
}

// refusals are restore lines the native backend refuses, one per class,
// each with the lines before it in its section that make it a refusal.
var refusals = []struct{ class, before, line string }{
	{"unsupported target", "", "-A FOO -j ULOG --ulog-nlgroup 2"},
	{"listing inside a restore", "", "-S"},
	{"-R of a rule added after a declaration", ":FOO - [0:0]\n-A FOO -j ACCEPT\n", "-R FOO 1 -j DROP"},
	{"-R N of a rule added here", "-A FOO -j ACCEPT\n", "-R FOO 3 -j DROP"},
	{"-R N after a declaration", ":FOO - [0:0]\n", "-R FOO 1 -j DROP"},
	{"-X twice", "-F\n-X\n", "-X"},
	{"-E after -N", "-N NEW\n", "-E NEW NEWER"},
	{"-X built-in after -P", "-P OUTPUT DROP\n", "-X OUTPUT"},
}

// refusalsTouchNothingInNamespaces is a property over every refusal class: placed
// anywhere in a payload (after sections that would apply, before others),
// a refused line makes the whole restore exit 2 naming its line, and the
// kernel is left exactly as it was: nothing is committed, not even the
// sections before it. SupportsRestore, which the router asks first when a
// real binary could take the call over, names the same line, with the same
// message.
func refusalsTouchNothingInNamespaces(t *testing.T) {
	d := newDiffPair(t)
	refusalsTouchNothing(t, func(seed string) { d.mine.MustRunStdin(seed, "iptables-nft-restore") },
		func(stdin, prog string, args ...string) netnstest.Result {
			return ours(t, d.mine, stdin, prog, args...)
		},
		d.mine.NFTDump)
}

// refusalsTouchNothing is the property on one host: seed loads its
// ruleset with a real tool, run runs the native backend, dump reads the
// kernel's state.
func refusalsTouchNothing(t *testing.T, seedWith func(string), run func(stdin, prog string, args ...string) netnstest.Result, dump func() string) {
	const seed = "*filter\n:FOO - [0:0]\n:OTHER - [0:0]\n-A FOO -s 1.1.1.1/32 -j ACCEPT\n-A FOO -s 2.2.2.2/32 -j ACCEPT\nCOMMIT\n"
	seedWith(seed)
	before := dump()
	good := []string{
		"*mangle\n:KUBE-M - [0:0]\n-A PREROUTING -j KUBE-M\nCOMMIT\n",
		"*nat\n:KUBE-N - [0:0]\n-A POSTROUTING -j KUBE-N\nCOMMIT\n",
		"*filter\n-A OTHER -j ACCEPT\nCOMMIT\n",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 40; i++ {
		rf := refusals[i%len(refusals)]
		var b strings.Builder
		for n := rng.IntN(3); n > 0; n-- {
			b.WriteString(good[rng.IntN(len(good))])
		}
		b.WriteString("*filter\n" + rf.before)
		line := strings.Count(b.String(), "\n") + 1
		b.WriteString(rf.line + "\nCOMMIT\n")
		for n := rng.IntN(2); n > 0; n-- {
			b.WriteString(good[rng.IntN(len(good))])
		}
		payload := b.String()
		r := run(payload, "iptables-restore", "--noflush")
		want := fmt.Sprintf("Error occurred at line: %d\n", line)
		if r.Code != 2 || !strings.Contains(r.Stderr, want) {
			t.Errorf("%s: payload\n%s\nwant exit 2 at line %d, got %s", rf.class, payload, line, r)
		}
		if after := dump(); after != before {
			t.Fatalf("%s: a refused restore changed the ruleset; payload\n%s", rf.class, payload)
		}
		p, err := syntax.ParseRestore(strings.NewReader(payload), syntax.IPv4)
		if err != nil {
			t.Fatal(err)
		}
		var ie *ipterr.Error
		if err := SupportsRestore(p, true); !errors.As(err, &ie) || ie.Line != line || !nftread.IsUnsupported(err) {
			t.Errorf("%s: SupportsRestore = %v, want a refusal at line %d", rf.class, err, line)
		} else if !strings.Contains(r.Stderr, ": "+ie.Msg+"\n") {
			// One refusal table (refusals.go): the planner's message
			// is the one Supports gives.
			t.Errorf("%s: SupportsRestore says %q, the planner said %q", rf.class, ie.Msg, r.Stderr)
		}
	}
}
