package native_test

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRestoreCommitsWhileInputOpenDifferential feeds iptables-restore
// --noflush a table section, waits with the input still open, looks at the
// ruleset, then sends another section and closes the input: iptables-nft
// commits each section at its COMMIT line as it reads it (iptables 1.8.11's
// shell test nft-only/0007 relies on it). Before, the shim read its whole
// input first, so the first section was not there yet while it waited.
func TestRestoreCommitsWhileInputOpenDifferential(t *testing.T) {
	p := newPair(t)
	first := "*filter\n:STREAM-A - [0:0]\n-A STREAM-A -j ACCEPT\nCOMMIT\n"
	second := "*filter\n:STREAM-B - [0:0]\n-A STREAM-B -j NOPE-CHAIN\nCOMMIT\n"
	type outcome struct {
		during string
		code   int
		stderr string
		after  string
	}
	run := func(tl tool) outcome {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := tl.ns.Command(ctx, filepath.Join(tl.dir, "iptables-restore"), "--noflush")
		// No real binary reachable: the shim reads its input itself
		// (the router reads a payload whole when it could hand it on).
		cmd.Env = append(append(cmd.Env, tl.env...), "IPTABLES_SHIM_BACKEND_DIRS="+t.TempDir())
		in, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(in, first); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		var o outcome
		o.during = tl.run("", "iptables", "-S").Stdout
		io.WriteString(in, second)
		in.Close()
		if err := cmd.Wait(); err != nil {
			o.code = cmd.ProcessState.ExitCode()
		}
		o.stderr = stderr.String()
		o.after = tl.run("", "iptables", "-S").Stdout
		return o
	}
	want, got := run(p.ref), run(p.mine)
	if !strings.Contains(want.during, "STREAM-A") {
		t.Fatalf("iptables-nft-restore did not commit the first section while its input was open:\n%s", want.during)
	}
	if got != want {
		t.Errorf("restore fed section by section:\nreal: %+v\nshim: %+v", want, got)
	}
	p.state("a restore fed section by section")
}
