package savetext

import (
	"fmt"
	"sort"
	"strings"

	"github.com/iptables-shim/iptables-shim/detect/ruleset"
)

// Diff describes how two sets of tables differ (chains compared by name,
// order ignored); empty when they agree.
func Diff(got, want []ruleset.Table) string {
	render := func(ts []ruleset.Table) string {
		var lines []string
		for _, t := range ts {
			for _, c := range t.Chains {
				lines = append(lines, fmt.Sprintf("%s %s builtin=%v rules=%d jumps=%v", t.Name, c.Name, c.Builtin, c.Rules, c.Jumps))
			}
		}
		sort.Strings(lines)
		return strings.Join(lines, "\n")
	}
	g, w := render(got), render(want)
	if g == w {
		return ""
	}
	return fmt.Sprintf("got:\n%s\nwant (from save):\n%s", g, w)
}
