package execbackend

import (
	"bytes"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// TestLocatedPassesCallersArgv0: a multi-call backend is given the
// caller's own argv[0] when it names the same program (so messages that
// print it read as without the shim), and its own name otherwise.
func TestLocatedPassesCallersArgv0(t *testing.T) {
	b := newFakeBackend(t, debian189, backend.NFT, "report", 0)
	bin, err := Locate(b.Locate, backend.NFT, syntax.IPv4, backend.Restore)
	if err != nil {
		t.Fatal(err)
	}
	l := &Located{Backend: b, Binary: bin}
	if d := l.Describe(); !strings.Contains(d, "xtables-nft-multi") || !strings.Contains(d, "argv0 iptables-restore") {
		t.Errorf("Describe = %q", d)
	}
	for argv0, want := range map[string]string{
		"/usr/sbin/iptables-restore": "/usr/sbin/iptables-restore",
		"/opt/bin/iptables-shim":     "iptables-restore",
		"":                           "iptables-restore",
	} {
		var out bytes.Buffer
		c := &backend.Call{Tool: backend.Restore, Family: syntax.IPv4, Argv0: argv0, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out}
		if err := l.Run(deadline(t), c); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(out.String(), "argv0="+want+"\n") {
			t.Errorf("called as %q: the backend saw\n%s\nwant argv0=%s", argv0, out.String(), want)
		}
	}
}
