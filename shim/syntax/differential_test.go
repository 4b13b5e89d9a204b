package syntax

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
)

// readCases reads one case per non-comment line, split into words as
// iptables-restore tokenizes them (so a quoted word may hold blanks).
func readCases(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, Tokenize(l))
	}
	return out
}

// refusedByDesign are lines iptables accepts and we refuse on purpose.
var refusedByDesign = map[string]string{}

// TestDifferentialCommands runs every case through iptables-nft (or
// ip6tables-nft) in a private namespace and through ParseCommand: we must
// refuse exactly what iptables refuses as a parameter problem (exit 2), with
// the same text, and accept what it accepts (its exit 0, 1 or 4 come from
// the kernel side, not from parsing).
func TestDifferentialCommands(t *testing.T) {
	for _, fam := range []struct {
		fam   Family
		prog  string
		name  string
		cases string
	}{
		{IPv4, "iptables-nft", "iptables", "testdata/commands-ipv4.txt"},
		{IPv6, "ip6tables-nft", "ip6tables", "testdata/commands-ipv6.txt"},
	} {
		t.Run(fam.name, func(t *testing.T) {
			netnstest.Require(t, fam.prog, "ipset")
			ns := netnstest.New(t)
			setFamily := "inet"
			if fam.fam == IPv6 {
				setFamily = "inet6"
			}
			ns.MustRun("ipset", "create", "kube-test", "hash:ip", "family", setFamily)
			for _, c := range []string{"KUBE-SVC-X", "KUBE-FORWARD", "KUBE-FIREWALL"} {
				ns.MustRun(fam.prog, "-N", c)
			}
			for _, c := range []string{"KUBE-SVC-X", "KUBE-SEP-X", "KUBE-MARK-MASQ", "KUBE-POSTROUTING"} {
				ns.MustRun(fam.prog, "-t", "nat", "-N", c)
			}
			for _, args := range readCases(t, fam.cases) {
				real := ns.Run(fam.prog, args...)
				cmd, err := ParseCommand(args, fam.fam)
				line := strings.Join(args, " ")
				if err == nil && cmd.Rule != nil && len(cmd.Rule.UnknownExtensions()) > 0 {
					// The generic fallback accepts what the host may or may
					// not have a module for; callers see it marked.
					continue
				}
				if real.Code == 2 || real.Code == 3 {
					if ipterr.ClassOf(err) != ipterr.Class(real.Code) {
						t.Errorf("%q: iptables exit %d (%q), we returned %v", line, real.Code, real.Stderr, err)
						continue
					}
					if got := FormatError(fam.name, "", err); got != strings.ReplaceAll(real.Stderr, fam.prog, fam.name) {
						t.Errorf("%q: message differs\n got: %q\nwant: %q", line, got, real.Stderr)
					}
					continue
				}
				if err != nil && refusedByDesign[line] == "" {
					t.Errorf("%q: iptables exit %d, we refused: %v", line, real.Code, err)
				}
			}
		})
	}
}
