// Package native_test drives the built shim binary in native nf_tables mode
// (no iptables binary involved) through the iptables names inside private
// network namespaces, and compares what a caller observes (stdout, stderr,
// exit status, kernel state) with the real iptables-nft 1.8.9 doing the
// same in another namespace.
package native_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/internal/oracle"
)

// shimEnv runs the shim natively: nf_tables mode, the native backend, no
// guard chains, no config or cache from the machine.
func shimEnv(t *testing.T) []string {
	return []string{
		"IPTABLES_SHIM_MODE=nft",
		"IPTABLES_SHIM_NFT=native",
		"IPTABLES_SHIM_GUARD=false",
		"IPTABLES_SHIM_CONFIG=/nonexistent/iptables-shim.conf",
		"IPTABLES_SHIM_CACHE_DIR=" + t.TempDir(),
		"IPTABLES_SHIM_LOG=",
	}
}

// realDir is a directory where the iptables names link to the real
// xtables-nft-multi, so the real tool prints the same program names as the
// shim does.
func realDir(t *testing.T) string {
	t.Helper()
	multi, err := netnstest.LookBinary("xtables-nft-multi")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, n := range netnstest.ShimNames {
		if err := os.Symlink(multi, filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// tool runs one program family (the real one or the shim) in a namespace.
type tool struct {
	ns  *netnstest.NS
	dir string
	env []string
}

func (tl tool) run(stdin, prog string, args ...string) netnstest.Result {
	o := netnstest.RunOpts{Env: tl.env}
	if stdin != "" {
		o.Stdin = strings.NewReader(stdin)
	}
	return tl.ns.RunWith(o, filepath.Join(tl.dir, prog), args...)
}

// pair is the real iptables-nft in one namespace and the shim in another.
type pair struct {
	t         *testing.T
	ref, mine tool
	// compared and failed count the differential comparisons.
	compared, failed int
	stateDiverged    bool
}

func newPair(t *testing.T) *pair {
	t.Helper()
	netnstest.Require(t, "xtables-nft-multi", "nft", "ipset")
	return &pair{t: t,
		ref:  tool{ns: netnstest.New(t), dir: realDir(t)},
		mine: tool{ns: netnstest.New(t), dir: netnstest.ShimDir(t), env: shimEnv(t)},
	}
}

// newPairAt is newPair on a host of another iptables-nft version: the
// real one is that version (oracle.System for the system's 1.8.9), the
// shim writes and answers in its dialect.
func newPairAt(t *testing.T, version string) *pair {
	t.Helper()
	if version == oracle.System {
		return newPair(t)
	}
	netnstest.Require(t, "nft", "ipset")
	return &pair{t: t,
		ref: tool{ns: netnstest.New(t), dir: oracleDir(t, oracle.Require(t, version))},
		// No real binary reachable: the system's is another version.
		mine: tool{ns: netnstest.New(t), dir: netnstest.ShimDir(t), env: append(shimEnv(t), "IPTABLES_SHIM_NFT_DIALECT="+version, "IPTABLES_SHIM_BACKEND_DIRS="+t.TempDir())},
	}
}

// both runs a command line in both namespaces and compares the outcome.
func (p *pair) both(prog, line string) netnstest.Result {
	p.t.Helper()
	args := words(p.t, line)
	ref, mine := p.ref.run("", prog, args...), p.mine.run("", prog, args...)
	p.compared++
	if ref != mine {
		p.failed++
		p.t.Errorf("%s %s:\nreal iptables-nft: %s\nshim (native):     %s", prog, line, ref, mine)
	}
	return ref
}

// stdin runs a command with standard input in both namespaces.
func (p *pair) stdin(input, prog string, args ...string) {
	p.t.Helper()
	ref, mine := p.ref.run(input, prog, args...), p.mine.run(input, prog, args...)
	p.compared++
	if ref != mine {
		p.failed++
		p.t.Errorf("%s %v:\nreal: %s\nshim: %s", prog, args, ref, mine)
	}
}

// state compares the kernel state of both namespaces.
func (p *pair) state(what string) {
	p.t.Helper()
	if p.stateDiverged {
		// Later comparisons would repeat the first difference.
		return
	}
	p.compared++
	if r, m := p.ref.ns.NFTDump(), p.mine.ns.NFTDump(); r != m {
		p.failed++
		p.stateDiverged = true
		p.t.Errorf("kernel state after %s differs (nft --debug=netlink, real vs shim):\n%s", what, netnstest.LineDiff(r, m))
	}
}

func (p *pair) report() {
	p.t.Logf("differential comparisons: %d, failed: %d", p.compared, p.failed)
}

// words splits a command line like a shell: spaces separate words, double
// quotes group.
func words(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	var cur strings.Builder
	in, quoted := false, false
	for _, c := range s {
		switch {
		case c == '"':
			quoted, in = !quoted, true
		case c == ' ' && !quoted:
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(c)
			in = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quotes in %q", s)
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// ipsetsFor creates the ipsets shim/xt's cases use, in both namespaces.
func (p *pair) ipsets() {
	for _, ns := range []*netnstest.NS{p.ref.ns, p.mine.ns} {
		for _, s := range [][]string{{"test-a", "hash:ip", "inet"}, {"test-b", "hash:net", "inet"}, {"test-6", "hash:ip", "inet6"}} {
			ns.MustRun("ipset", "create", s[0], s[1], "family", s[2])
		}
	}
}

func progFor(fam string) string {
	if fam == "6" {
		return "ip6tables"
	}
	return "iptables"
}
