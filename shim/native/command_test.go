package native

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/kubepayload"
	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// splitArgs splits a command line like a shell would for these files:
// blanks separate words, double quotes group them.
func splitArgs(s string) []string {
	var out []string
	var cur strings.Builder
	inQuote, has := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQuote, has = !inQuote, true
		case (r == ' ' || r == '\t') && !inQuote:
			if has {
				out = append(out, cur.String())
				cur.Reset()
				has = false
			}
		default:
			cur.WriteRune(r)
			has = true
		}
	}
	if has {
		out = append(out, cur.String())
	}
	return out
}

// commandCorpusInNamespaces runs every testdata/commands file line by line with
// iptables-nft in one namespace and the native backend in another,
// comparing exit code, output and error text, and the state after each.
func commandCorpusInNamespaces(t *testing.T) {
	files, err := filepath.Glob("testdata/commands/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			d := newDiffPair(t)
			fh, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			s := bufio.NewScanner(fh)
			for s.Scan() {
				line := strings.TrimSpace(s.Text())
				if line == "" || line[0] == '#' {
					continue
				}
				argv := splitArgs(line)
				prog, args := argv[0], argv[1:]
				ref := d.ref.Run(realTool(prog), args...)
				mine := ours(t, d.mine, "", prog, args...)
				if ref.Code != mine.Code || ref.Stdout != mine.Stdout || ref.Stderr != mine.Stderr {
					t.Fatalf("%s:\nref  %s\nmine %s", line, ref, mine)
				}
				fam := syntax.IPv4
				if prog == "ip6tables" {
					fam = syntax.IPv6
				}
				d.compareState(famString(fam))
				if t.Failed() {
					t.Fatalf("after %s", line)
				}
			}
		})
	}
}

// checkFindsRulesOfTheRealToolInNamespaces restores kube-proxy payloads with the
// real iptables-nft-restore, then asks our -C for every rule (must exist)
// and for a changed copy of a few (must not), and deletes one with our -D.
func checkFindsRulesOfTheRealToolInNamespaces(t *testing.T) {
	for _, o := range []kubepayload.Options{
		{Services: 4, Family: syntax.IPv4},
		{Services: 4, Family: syntax.IPv6},
		{Services: 4, Family: syntax.IPv4, Shape: kubepayload.IPVSMode},
	} {
		t.Run(o.Shape.String()+"-v"+famString(o.Family), func(t *testing.T) {
			netnstest.Require(t, "iptables-nft-restore", "ipset")
			ns := netnstest.New(t)
			createIPSets(t, o, ns)
			p := kubepayload.Generate(o)
			ns.MustRunStdin(p.Text, realTool(restoreProg(o.Family)))
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
					if r := ours(t, ns, "", prog, args...); r.Code != 0 {
						t.Errorf("%s %v: %s", prog, args, r)
					}
					checked++
					lastRule = args
				}
			}
			// A rule that differs in its last word is not found.
			changed := append(append([]string(nil), lastRule[:len(lastRule)-1]...), "KUBE-NOT-THERE")
			if r := ours(t, ns, "", prog, changed...); r.Code == 0 {
				t.Errorf("%v found", changed)
			}
			del := append([]string(nil), lastRule...)
			del[2] = "-D"
			if r := ours(t, ns, "", prog, del...); r.Code != 0 {
				t.Errorf("%v: %s", del, r)
			}
			if r := ours(t, ns, "", prog, lastRule...); r.Code != 1 {
				t.Errorf("after -D, %v: %s", lastRule, r)
			}
			t.Logf("%d rules checked", checked)
		})
	}
}
