package native

import (
	"fmt"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/internal/oracle"
	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"github.com/iptables-shim/iptables-shim/shim/nftread"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// matrixCell is what one reader made of what one writer wrote.
type matrixCell struct {
	rules     int // rules the writer wrote (as the writer's own save lists them)
	misread   int // rule lines of the reader's save that differ from the writer's
	saveFails bool
	checked   int // rules the reader's -C found
	deleted   int // rules the reader's -D found
}

func (c matrixCell) String() string {
	save := fmt.Sprintf("save %d/%d", c.rules-c.misread, c.rules)
	if c.saveFails {
		save = "save fails"
	}
	return fmt.Sprintf("%s, -C %d/%d, -D %d/%d", save, c.checked, c.rules, c.deleted, c.rules)
}

// protoNumbers prints every -p by number where versions name protocols
// differently (1.8.11 prints "-p 47" for what 1.8.9 calls "-p gre"): that
// is how a version prints, not what it reads.
func protoNumbers(l string) string {
	protos := nftread.LoadProtocols("/etc/protocols")
	words := strings.Split(l, " ")
	for i := 1; i < len(words); i++ {
		if words[i-1] != "-p" {
			continue
		}
		if n, ok := protos.Number(words[i]); ok {
			words[i] = fmt.Sprint(n)
		}
	}
	return strings.Join(words, " ")
}

// misreadLines counts the rule lines of got that are not in want.
func misreadLines(want, got []string) int {
	have := map[string]int{}
	for _, l := range want {
		have[protoNumbers(l)]++
	}
	n := 0
	for _, l := range got {
		l = protoNumbers(l)
		if have[l] > 0 {
			have[l]--
			continue
		}
		n++
	}
	// Rules the reader does not list at all.
	if len(got) < len(want) {
		n += len(want) - len(got)
	}
	return n
}

// TestSkewMatrix runs the whole matrix on IPv4: writers real 1.8.7, 1.8.9,
// 1.8.11 and the shim in each dialect; readers the shim and each real
// version; save, -C and -D. Cells where the reader is the shim or a version
// reading its own dialect must be perfect; the others are measured (they
// are what mixing versions does without the shim) and logged.
func TestSkewMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("the full skew matrix is long; TestSkewShimReads and TestSkewHostReads cover its diagonal")
	}
	netnstest.Require(t, "ipset", "nft")
	fam := syntax.IPv4
	var readers []oracle.Oracle
	for _, v := range oracle.Versions {
		readers = append(readers, oracle.Require(t, v))
	}
	type writer struct {
		name    string
		dialect dialect.Dialect
		write   func(t *testing.T) *netnstest.NS
	}
	var writers []writer
	for _, o := range readers {
		o := o
		writers = append(writers, writer{"real " + o.Version, dialect.Dialect(o.Version), func(t *testing.T) *netnstest.NS { ns, _ := hostWrites(t, o, fam, true); return ns }})
	}
	for _, d := range dialect.All {
		d := d
		writers = append(writers, writer{"shim " + string(d), d, func(t *testing.T) *netnstest.NS { return shimWrites(t, string(d), fam) }})
	}
	var report strings.Builder
	for _, w := range writers {
		for ri := -1; ri < len(readers); ri++ {
			readerName := "shim"
			if ri >= 0 {
				readerName = "real " + readers[ri].Version
			}
			t.Run(strings.ReplaceAll(w.name+" by "+readerName, " ", "_"), func(t *testing.T) {
				ns := w.write(t)
				// The writer's own view of what it wrote is the reference.
				var ref string
				if strings.HasPrefix(w.name, "real") {
					o, _ := oracle.Find(string(w.dialect))
					ref = o.Save(t, ns, "iptables")
				} else {
					r := oursWith(t, ns, []string{skewDialectEnv + "=" + string(w.dialect)}, "", "iptables-save")
					if r.Code != 0 {
						t.Fatalf("shim save: %s", r)
					}
					ref = netnstest.NormalizeSave(r.Stdout)
				}
				want := saveRules(ref)
				cell := matrixCell{rules: len(want)}
				var got string
				if ri < 0 {
					r := oursWith(t, ns, []string{skewDialectEnv + "=auto"}, "", "iptables-save")
					cell.saveFails, got = r.Code != 0, netnstest.NormalizeSave(r.Stdout)
				} else {
					r := readers[ri].Run(ns, "iptables-save")
					cell.saveFails, got = r.Code != 0, netnstest.NormalizeSave(r.Stdout)
				}
				cell.misread = misreadLines(want, saveRules(got))
				if ri < 0 {
					nC, _ := failed(oursBatch(t, ns, fam, "auto", asOp(want, "-C")))
					nD, _ := failed(oursBatch(t, ns, fam, "auto", asOp(want, "-D")))
					cell.checked, cell.deleted = len(want)-nC, len(want)-nD
				} else {
					nC, _ := hostChecks(t, readers[ri], ns, fam, want)
					cell.checked = len(want) - nC
					for _, r := range asOp(want, "-D") {
						args, _ := nftread.SaveWords(r)
						if res := readers[ri].Run(ns, "iptables", args...); res.Code == 0 {
							cell.deleted++
						}
					}
				}
				fmt.Fprintf(&report, "%-12s -> %-12s %s\n", w.name, readerName, cell)
				t.Logf("matrix: writer %s, reader %s: %s", w.name, readerName, cell)
				mustBePerfect := ri < 0 || dialect.Dialect(readers[ri].Version) == w.dialect ||
					dialect.ReadsNativeMatches(dialect.Dialect(readers[ri].Version), w.dialect)
				if mustBePerfect && (cell.saveFails || cell.misread != 0 || cell.checked != cell.rules || cell.deleted != cell.rules) {
					t.Errorf("writer %s, reader %s: %s", w.name, readerName, cell)
				}
			})
		}
	}
	t.Logf("skew matrix (IPv4, writer -> reader):\n%s", report.String())
}
