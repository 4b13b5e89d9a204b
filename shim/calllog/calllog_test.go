package calllog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFileLog(t *testing.T) {
	p := filepath.Join(t.TempDir(), "shim.log")
	l := Open(p)
	if !l.Enabled() {
		t.Fatal("file logger not enabled")
	}
	l.Log("call", F("name", "iptables-restore"), F("args", Args([]string{"-w", "5", "--noflush"})), F("reason", "kubelet chains found"))
	l.Close()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	line := string(data)
	for _, want := range []string{"event=call", "name=iptables-restore", `args="-w 5 --noflush"`, `reason="kubelet chains found"`} {
		if !strings.Contains(line, want) {
			t.Errorf("log line %q lacks %q", line, want)
		}
	}
}

func TestOffAndBrokenLogsDiscard(t *testing.T) {
	for _, spec := range []string{"", filepath.Join(t.TempDir(), "missing-dir", "x.log")} {
		l := Open(spec)
		if l.Enabled() {
			t.Errorf("Open(%q) enabled", spec)
		}
		l.Log("call", F("a", 1)) // must not panic
		l.Close()
	}
}

func TestArgsQuoting(t *testing.T) {
	got := Args([]string{"-m", "comment", "--comment", "kubernetes service portals", "it's"})
	want := `-m comment --comment 'kubernetes service portals' 'it'\''s'`
	if got != want {
		t.Errorf("Args = %s, want %s", got, want)
	}
}

func TestPhasesRoundTrip(t *testing.T) {
	p := NewPhases(time.Now().Add(-3 * time.Millisecond))
	p.Mark("config")
	p.Mark("decide")
	p.Mark("config")
	s := p.String()
	if !strings.HasPrefix(s, "config=") || !strings.Contains(s, " decide=") || strings.Count(s, "config=") != 1 {
		t.Fatalf("phases %q: want config then decide, each once", s)
	}
	got := ParsePhases(s)
	if len(got) != 2 || got["config"] < 3*time.Millisecond {
		t.Errorf("ParsePhases(%q) = %v", s, got)
	}
	if p.Total() < got["config"]+got["decide"]-time.Microsecond*2 {
		t.Errorf("total %v below the sum of %v", p.Total(), got)
	}
	var off *Phases
	off.Mark("x") // a nil Phases ignores marks
	if off.String() != "" || off.Total() != 0 {
		t.Error("nil Phases not empty")
	}
}
