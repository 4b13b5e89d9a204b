package syntax

import (
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
)

// TestDifferentialToolArgs compares ParseRestoreArgs and ParseSaveArgs with
// iptables-nft-restore and iptables-nft-save on argument lists: same
// acceptance, same exit status and text on refusal.
func TestDifferentialToolArgs(t *testing.T) {
	netnstest.Require(t, "iptables-nft-restore", "iptables-nft-save")
	ns := netnstest.New(t)
	restoreArgs := [][]string{
		{"-w", "5", "-W", "100000", "--noflush", "--counters"},
		{"-w", "--noflush", "--counters"},
		{"-w", "-T", "nat", "--noflush", "--counters"},
		{"-w5"}, {"-w", "x"}, {"--wait=5"}, {"-W"}, {"-W", "x"}, {"--wait-interval=100"},
		{"-T"}, {"-T", "nat"}, {"--table=nat"}, {"--tab", "nat"}, {"--foo"}, {"-x"}, {"-nc"}, {"-ncT", "nat"},
		{"a", "b"}, {"--nofl"}, {"--no"}, {"--noflush=1"}, {"-t"}, {"-v"}, {"-M", "/bin/true"}, {"-M"},
		{"--", "a", "b"},
	}
	for _, args := range restoreArgs {
		real := ns.RunStdin("*filter\nCOMMIT\n", "iptables-nft-restore", args...)
		_, err := ParseRestoreArgs(args)
		compareToolArgs(t, "iptables-nft-restore", args, real, err)
	}
	saveArgs := [][]string{
		{"-t", "nat"}, {"-t"}, {"-x"}, {"-c"}, {"--counters", "-t", "filter"}, {"extra"}, {"--foo"},
		{"-tnat"}, {"--table=nat"}, {"-d"}, {"-M", "/bin/true"},
	}
	for _, args := range saveArgs {
		real := ns.Run("iptables-nft-save", args...)
		_, err := ParseSaveArgs(args)
		compareToolArgs(t, "iptables-nft-save", args, real, err)
	}
}

func compareToolArgs(t *testing.T, prog string, args []string, real netnstest.Result, err error) {
	t.Helper()
	line := prog + " " + strings.Join(args, " ")
	stderr := strings.ReplaceAll(real.Stderr, "/usr/sbin/"+prog, prog)
	if real.Code == 0 {
		if err != nil {
			t.Errorf("%s: accepted by the real tool, we refused: %v", line, err)
		}
		return
	}
	if err == nil {
		t.Errorf("%s: real exit %d (%q), we accepted", line, real.Code, real.Stderr)
		return
	}
	if ipterr.ClassOf(err) != ipterr.Class(real.Code) {
		t.Errorf("%s: real exit %d, we returned class %d: %v", line, real.Code, ipterr.ClassOf(err), err)
	}
	if got := FormatError(prog, "", err); got != stderr {
		t.Errorf("%s: message differs\n got: %q\nwant: %q", line, got, stderr)
	}
}
