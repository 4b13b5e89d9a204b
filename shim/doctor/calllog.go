package doctor

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/iptables-shim/iptables-shim/detect"
	"github.com/iptables-shim/iptables-shim/shim/backend"
)

// loadTarget finds iptables-restore's "Couldn't load target `X'" (the
// quote style varies by version) in line and returns X ("" when there is
// none). Matched by hand, like versionString.
func loadTarget(line string) string {
	const prefix = "Couldn't load target "
	const quotes = "`'\""
	for i := 0; ; i++ {
		j := strings.Index(line[i:], prefix)
		if j < 0 {
			return ""
		}
		i += j
		rest := line[i+len(prefix):]
		if rest == "" || !strings.ContainsRune(quotes, rune(rest[0])) {
			continue
		}
		name := rest[1:]
		end := strings.IndexAny(name, quotes)
		if end > 0 {
			return name[:end]
		}
	}
}

// callLog is what the doctor takes from the shim's call log.
type callLog struct {
	// failed are restores that failed on a missing chain, one per chain.
	failed []LogFinding
	// createdWhy is the guard's reason for each chain it created; the last
	// record wins, as it is the creation that made the chain there now.
	createdWhy map[detect.CreatedChain]string
}

// guardCreatedEvent marks the guard's records (shim/route's logPlan).
const guardCreatedEvent = "event=guard-created"

// scanLog reads the shim's call log (a file). Failed restores are matched
// by what iptables itself prints, so the log's layout does not matter for
// them; guard creations are the shim's own logfmt records.
func scanLog(path string) (callLog, error) {
	out := callLog{failed: []LogFinding{}, createdWhy: map[detect.CreatedChain]string{}}
	if path == "" || path == "syslog" {
		return out, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("reading call log: %w", err)
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, guardCreatedEvent) {
			if c, why, ok := parseGuardCreated(line); ok {
				out.createdWhy[c] = why
			}
			continue
		}
		chain := loadTarget(line)
		if chain == "" || seen[chain] {
			continue
		}
		seen[chain] = true
		if len(line) > 300 {
			line = line[:300] + "..."
		}
		out.failed = append(out.failed, LogFinding{Line: line, Chain: chain})
	}
	return out, nil
}

// parseGuardCreated reads one guard-created record: which chain, in which
// backend and family, and the reason after "because" in its detail.
func parseGuardCreated(line string) (detect.CreatedChain, string, bool) {
	f := logfmtFields(line)
	if f["event"] != "guard-created" || f["chain"] == "" || f["table"] == "" {
		return detect.CreatedChain{}, "", false
	}
	c := detect.CreatedChain{Mode: backend.NFT, Family: "ipv4", Table: f["table"], Chain: f["chain"]}
	if f["backend"] == Label(backend.Legacy) {
		c.Mode = backend.Legacy
	}
	if strings.HasPrefix(f["name"], "ip6tables") {
		c.Family = "ipv6"
	}
	_, why, _ := strings.Cut(f["detail"], " because ")
	return c, why, true
}

// logfmtFields splits a logfmt line into its key=value pairs; values are
// bare words or Go-quoted strings (calllog quotes with strconv.Quote).
// Words without "=" (the file log's timestamp) are skipped.
func logfmtFields(line string) map[string]string {
	out := map[string]string{}
	for line != "" {
		line = strings.TrimLeft(line, " ")
		key, rest, ok := strings.Cut(line, "=")
		if sp := strings.IndexByte(key, ' '); sp >= 0 || !ok {
			if sp < 0 {
				return out
			}
			line = line[sp:] // a word without "=": skip it
			continue
		}
		if strings.HasPrefix(rest, `"`) {
			end := quotedEnd(rest)
			if v, err := strconv.Unquote(rest[:end]); err == nil {
				out[key] = v
			}
			line = rest[end:]
			continue
		}
		v, after, _ := strings.Cut(rest, " ")
		out[key] = v
		line = after
	}
	return out
}

// quotedEnd is the length of the quoted string s starts with (all of s
// when it is not closed).
func quotedEnd(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(s)
}
