package harness

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// CallStat sums the shim's logged calls of one kind.
type CallStat struct {
	Kind  string // "iptables -C", "ip6tables-restore", ...
	Count int
	Total time.Duration
}

var callLine = regexp.MustCompile(`event=call name=(\S+) args=("(?:[^"\\]|\\.)*"|\S*) .*duration=(\S+)`)

// CallStats reads a shim call log (RunOpts.CallLog) and sums the calls'
// own durations by program and command (-N, -C, -I, -S, ...), largest
// total first: where the time of a sync goes inside the shim.
func CallStats(log string) []CallStat {
	byKind := map[string]*CallStat{}
	for _, l := range strings.Split(log, "\n") {
		m := callLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		args := m[2]
		if strings.HasPrefix(args, `"`) {
			if u, err := strconv.Unquote(args); err == nil {
				args = u
			}
		}
		d, err := time.ParseDuration(m[3])
		if err != nil {
			continue
		}
		kind := m[1]
		for _, a := range strings.Fields(args) {
			if len(a) == 2 && a[0] == '-' && strings.ContainsRune("NXFACIDSLPZE", rune(a[1])) {
				kind += " " + a
				break
			}
		}
		s := byKind[kind]
		if s == nil {
			s = &CallStat{Kind: kind}
			byKind[kind] = s
		}
		s.Count++
		s.Total += d
	}
	out := make([]CallStat, 0, len(byKind))
	for _, s := range byKind {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Total != out[j].Total {
			return out[i].Total > out[j].Total
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}
