// The benchmarks live in an external test package because kubepayload,
// which builds kube-proxy-shaped payloads, imports syntax.
package syntax_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/kubepayload"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// BenchmarkParseRestore parses full kube-proxy syncs (iptables mode) of 5,
// 2,000 and 20,000 services: about 40, 16k and 160k rule lines. Besides the
// usual figures it reports ns and allocations per rule line, the unit the
// native backend and the missing-chain guard pay for.
func BenchmarkParseRestore(b *testing.B) {
	for _, size := range []struct {
		name     string
		services int
	}{{"40", 5}, {"16k", 2000}, {"160k", 20000}} {
		p := kubepayload.Generate(kubepayload.Options{Services: size.services})
		b.Run(size.name, func(b *testing.B) {
			b.SetBytes(int64(len(p.Text)))
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := syntax.ParseRestore(strings.NewReader(p.Text), syntax.IPv4); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&after)
			lines := float64(b.N) * float64(p.Rules)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/lines, "ns/rule")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/lines, "allocs/rule")
		})
	}
}

// kubeRuleLines are typical kube-proxy rule lines (iptables mode), one of
// each kind a service produces.
var kubeRuleLines = []string{
	`-t nat -A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "kube-system/kube-dns:dns-tcp cluster IP" -m tcp --dport 53 -j KUBE-SVC-ERIFXISQEP7F7OF4`,
	`-t nat -A KUBE-SVC-ERIFXISQEP7F7OF4 -m comment --comment "kube-system/kube-dns:dns-tcp -> 10.244.0.3:53" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-IT2ZTR26TO4XFPTO`,
	`-t nat -A KUBE-SEP-IT2ZTR26TO4XFPTO -p tcp -m comment --comment "kube-system/kube-dns:dns-tcp" -m tcp -j DNAT --to-destination 10.244.0.3:53`,
}

// BenchmarkParseCommand parses one pre-split kube-proxy rule command line
// per kind (see kubeRuleLines); ns/op is per line.
func BenchmarkParseCommand(b *testing.B) {
	for _, l := range kubeRuleLines {
		args := syntax.Tokenize(l)
		name := strings.SplitN(args[3], "-", 3)[1]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if _, err := syntax.ParseCommand(args, syntax.IPv4); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
