package execbackend

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
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

// execInputHelper makes the test binary act as a shim whose router has
// read its standard input (a restore payload) before exec'ing the real
// binary, here cat.
const execInputHelper = "EXECBACKEND_TEST_EXEC_INPUT"

// TestExecGivesTheKeptInput: when the shim has read a call's standard
// input already, the binary replacing it reads exactly those bytes, to
// their end, as it would have read the caller's pipe.
func TestExecGivesTheKeptInput(t *testing.T) {
	if os.Getenv(execInputHelper) != "" {
		c := &backend.Call{Tool: backend.Restore, Family: syntax.IPv4, Stdin: os.Stdin}
		if _, err := c.ReadInput(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		err := (&Located{Backend: New(backend.NFT), Binary: Binary{Path: "/bin/cat", Argv0: "cat"}}).Exec(c)
		fmt.Fprintln(os.Stderr, "exec returned:", err)
		os.Exit(4)
	}
	if _, err := os.Stat("/bin/cat"); err != nil {
		t.Skip("no /bin/cat to exec")
	}
	payload := strings.Repeat("*filter\n-A INPUT -s 10.0.0.1/32 -j ACCEPT\nCOMMIT\n", 4000) // larger than a pipe's buffer
	cmd := exec.Command(os.Args[0], "-test.run=^TestExecGivesTheKeptInput$")
	cmd.Env = append(os.Environ(), execInputHelper+"=1")
	cmd.Stdin = strings.NewReader(payload)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	if stdout.String() != payload {
		t.Errorf("the binary read %d bytes, want the %d the shim read", stdout.Len(), len(payload))
	}
}
