package native

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/internal/nfnl"
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/nftread"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// The test binary doubles as a stand-in for the shim's restore/save
// programs: run under `ip netns exec` with helperEnv set, it carries out one
// call with the native backend inside that namespace and exits like
// iptables would.
const (
	helperEnv     = "NATIVE_TEST_HELPER" // "iptables-restore", "ip6tables-save", ...
	helperArgsEnv = "NATIVE_TEST_ARGS"   // arguments separated by \x1f
	perChainEnv   = "NATIVE_TEST_PER_CHAIN_DUMP"
	// racesEnv makes the helper lose that many generation races: before
	// each of its commits another writer changes the ruleset (-1: every
	// time).
	racesEnv = "NATIVE_TEST_RACES"
)

// moveGeneration commits a batch that adds and deletes a table: the
// ruleset ends as it was, its generation one further.
func moveGeneration() {
	c, err := nfnl.Open()
	if err != nil {
		panic(err)
	}
	defer c.Close()
	b := nfnl.NewBatch(0, false)
	var a nfnl.Attrs
	a.String(unix.NFTA_TABLE_NAME, "race")
	b.Add(unix.NFT_MSG_NEWTABLE, unix.NLM_F_CREATE, unix.NFPROTO_INET, a.B, 0)
	var d nfnl.Attrs
	d.String(unix.NFTA_TABLE_NAME, "race")
	b.Add(unix.NFT_MSG_DELTABLE, 0, unix.NFPROTO_INET, d.B, 1)
	if err := c.Commit(b); err != nil {
		panic(err)
	}
}

func TestMain(m *testing.M) {
	if prog := os.Getenv(helperEnv); prog != "" {
		os.Exit(runHelper(prog))
	}
	os.Exit(m.Run())
}

func runHelper(prog string) int {
	if strings.HasPrefix(prog, "batch-") {
		return runBatch(strings.TrimPrefix(prog, "batch-"))
	}
	switch prog {
	case "chains":
		return printChains()
	case "rawdump":
		return printRawDump()
	}
	var args []string
	if a := os.Getenv(helperArgsEnv); a != "" {
		args = strings.Split(a, "\x1f")
	}
	// Small pieces, so every differential test also checks that parsing
	// in pieces changes nothing.
	o := helperDialect(Options{ParseChunkLines: 5})
	if os.Getenv(perChainEnv) != "" {
		o.PerChainDumpAbove = 1
	}
	return runCall(o, prog, args, os.Stdin, os.Stdout, os.Stderr)
}

// runCall carries out one call as prog with a native backend configured
// by o and returns the exit code iptables would.
func runCall(o Options, prog string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &backend.Call{Family: syntax.IPv4, Args: args, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	if strings.HasPrefix(prog, "ip6") {
		c.Family = syntax.IPv6
	}
	switch {
	case strings.HasSuffix(prog, "-restore"):
		c.Tool = backend.Restore
	case strings.HasSuffix(prog, "-save"):
		c.Tool = backend.Save
	}
	b := New(o)
	if n, err := strconv.Atoi(os.Getenv(racesEnv)); err == nil {
		b.beforeCommit = func() {
			if n != 0 {
				n--
				moveGeneration()
			}
		}
	}
	err := b.Run(context.Background(), c)
	if err == nil {
		return 0
	}
	fmt.Fprint(stderr, syntax.FormatError(prog, "", err))
	return int(ipterr.ClassOf(err))
}

// ours runs the native backend as prog inside ns.
func ours(t *testing.T, ns *netnstest.NS, stdin, prog string, args ...string) netnstest.Result {
	t.Helper()
	return oursWith(t, ns, nil, stdin, prog, args...)
}

// oursWith is ours with extra environment for the helper.
func oursWith(t *testing.T, ns *netnstest.NS, env []string, stdin, prog string, args ...string) netnstest.Result {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	o := netnstest.RunOpts{Env: append([]string{helperEnv + "=" + prog, helperArgsEnv + "=" + strings.Join(args, "\x1f")}, env...)}
	if stdin != "" {
		o.Stdin = strings.NewReader(stdin)
	}
	return ns.RunWith(o, exe, args...)
}

// printChains lists every chain of both families with the attributes
// nft --debug=netlink does not show (counters), for state comparisons.
func printChains() int {
	c, err := nfnl.Open()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Close()
	for _, fam := range []syntax.Family{syntax.IPv4, syntax.IPv6} {
		st, err := nftread.ReadState(c, nftread.NFProto(fam))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		var lines []string
		for _, t := range st.Tables {
			for _, ch := range t.Chains {
				lines = append(lines, fmt.Sprintf("%d %s %s base=%v policy=%d counters=%v [%d:%d]",
					fam, t.Name, ch.Name, ch.Base, ch.Policy, ch.HasCounters, ch.Packets, ch.Bytes))
			}
		}
		sort.Strings(lines)
		for _, l := range lines {
			fmt.Println(l)
		}
	}
	return 0
}
