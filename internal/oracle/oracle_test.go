package oracle

import (
	"context"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
)

// TestFind: a version that was not fetched says how to fetch it; every
// version that is there runs and reports its own version.
func TestFind(t *testing.T) {
	t.Setenv("IPTABLES_SHIM_ORACLES", t.TempDir())
	if _, err := Find("1.8.7"); err == nil || !strings.Contains(err.Error(), "scripts/fetch-iptables.sh 1.8.7") {
		t.Errorf("Find of a missing version: %v", err)
	}
}

func TestVersionsRun(t *testing.T) {
	netnstest.Require(t)
	ns := netnstest.New(t)
	for _, v := range Versions {
		o := Require(t, v)
		out, err := o.Command(context.Background(), ns, "iptables", "--version").Output()
		if err != nil || !o.HasVersionLine(string(out)) {
			t.Errorf("%s --version: %q, %v", o, out, err)
		}
	}
}
