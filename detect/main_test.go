package detect

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/iptables-shim/iptables-shim/detect/helperproc"
	"github.com/iptables-shim/iptables-shim/shim/backend"
)

func TestMain(m *testing.M) {
	helperproc.Main(m, map[string]func() int{
		"resolve":        helperResolve,
		"record-created": helperRecordCreated,
		"netns-state":    helperNetNSState,
	})
}

// helperResolve runs Resolve inside the namespace with options from the
// environment and prints the decision as JSON.
func helperResolve() int {
	o := Options{CacheDir: os.Getenv("T_CACHE"), HostRoot: os.Getenv("T_ROOT"), Fresh: os.Getenv("T_FRESH") == "1"}
	if o.HostRoot == "" {
		o.NoHostHints = true
	}
	o.Wait = -1
	if w := os.Getenv("T_WAIT"); w != "" {
		d, err := time.ParseDuration(w)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		o.Wait = d
	}
	if m := os.Getenv("T_MODE"); m != "" {
		o.Override, o.OverrideSource = backend.Mode(m), "test"
	}
	d, err := Resolve(context.Background(), o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := json.NewEncoder(os.Stdout).Encode(d); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// helperRecordCreated records T_CREATED ("mode family table chain") as
// created by the shim.
func helperRecordCreated() int {
	f := strings.Fields(os.Getenv("T_CREATED"))
	if len(f) != 4 {
		fmt.Fprintln(os.Stderr, "T_CREATED needs mode family table chain")
		return 2
	}
	err := RecordCreated(os.Getenv("T_CACHE"), CreatedChain{Mode: backend.Mode(f[0]), Family: f[1], Table: f[2], Chain: f[3]})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
