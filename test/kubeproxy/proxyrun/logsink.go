package proxyrun

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	v1 "k8s.io/api/core/v1"
)

// recorder turns the proxiers' structured log into sync records: the
// proxier logs "Syncing iptables rules" (with fullSync) when a sync starts,
// "Sync failed" when it fails and "SyncProxyRules complete" (with elapsed)
// when it ends, each with the ipFamily its logger carries.
type recorder struct {
	mu      sync.Mutex
	step    map[string]string
	pending map[string]*Sync
	done    []Sync
	other   []string
}

func newRecorder() *recorder {
	return &recorder{step: map[string]string{}, pending: map[string]*Sync{}}
}

// begin names the step the next sync of fam belongs to.
func (r *recorder) begin(fam v1.IPFamily, step string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.step[string(fam)] = step
}

func (r *recorder) result() Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Result{Syncs: append([]Sync(nil), r.done...), Other: append([]string(nil), r.other...)}
}

func (r *recorder) logger() logr.Logger { return logr.New(&sink{r: r}) }

func (r *recorder) info(values []any, msg string, kv []any) {
	fam := lookup(values, kv, "ipFamily")
	r.mu.Lock()
	defer r.mu.Unlock()
	switch msg {
	case "Syncing iptables rules":
		full, _ := lookupAny(values, kv, "fullSync").(bool)
		r.pending[fam] = &Sync{Step: r.step[fam], Family: fam, Full: full, OK: true}
	case "Sync failed":
		if s := r.pending[fam]; s != nil {
			s.OK = false
		}
	case "SyncProxyRules complete":
		s := r.pending[fam]
		if s == nil {
			return
		}
		if d, ok := lookupAny(values, kv, "elapsed").(time.Duration); ok {
			s.Seconds = d.Seconds()
		}
		r.done = append(r.done, *s)
		delete(r.pending, fam)
	}
}

func (r *recorder) error(values []any, err error, msg string, kv []any) {
	fam := lookup(values, kv, "ipFamily")
	var b strings.Builder
	b.WriteString(msg)
	if err != nil {
		fmt.Fprintf(&b, ": %v", err)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %v=%v", kv[i], kv[i+1])
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.pending[fam]; s != nil {
		s.Errors = append(s.Errors, b.String())
		return
	}
	r.other = append(r.other, fam+": "+b.String())
}

func lookupAny(values, kv []any, key string) any {
	for _, list := range [][]any{kv, values} {
		for i := 0; i+1 < len(list); i += 2 {
			if k, ok := list[i].(string); ok && k == key {
				return list[i+1]
			}
		}
	}
	return nil
}

func lookup(values, kv []any, key string) string {
	if v := lookupAny(values, kv, key); v != nil {
		return fmt.Sprint(v)
	}
	return ""
}

// sink is the logr.LogSink the proxiers log to.
type sink struct {
	r      *recorder
	values []any
}

func (s *sink) Init(logr.RuntimeInfo) {}

// Enabled takes what the proxier logs at V(2) (the sync records) and
// skips V(9)'s copy of every restore input.
func (s *sink) Enabled(level int) bool { return level <= 4 }

func (s *sink) Info(_ int, msg string, kv ...any) { s.r.info(s.values, msg, kv) }

func (s *sink) Error(err error, msg string, kv ...any) { s.r.error(s.values, err, msg, kv) }

func (s *sink) WithValues(kv ...any) logr.LogSink {
	return &sink{r: s.r, values: append(append([]any(nil), s.values...), kv...)}
}

func (s *sink) WithName(string) logr.LogSink { return s }
