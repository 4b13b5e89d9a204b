package detect

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/iptables-shim/iptables-shim/detect/helperproc"
	"github.com/iptables-shim/iptables-shim/shim/netfilter"
)

func TestMain(m *testing.M) {
	helperproc.Main(m, map[string]func() int{
		"resolve":        helperResolve,
		"record-created": helperRecordCreated,
		"netns-state":    helperNetNSState,
		"ruleset-stamps": helperRulesetStamps,
	})
}

// helperRulesetStamps prints the kernel probers' ruleset stamps as JSON
// (mode -> stamp).
func helperRulesetStamps() int {
	return helperproc.Print(rulesetStamps(KernelProbers()))
}

// rulesetStamps is each prober's ruleset stamp, by mode.
func rulesetStamps(probers []Prober) (map[netfilter.Mode]string, error) {
	out := map[netfilter.Mode]string{}
	for _, p := range probers {
		st, err := p.(RulesetStamper).RulesetStamp(context.Background())
		if err != nil {
			return nil, err
		}
		out[p.Mode()] = st
	}
	return out, nil
}

// helperResolve runs Resolve inside the namespace with options from the
// environment and prints the decision as JSON.
func helperResolve() int {
	o, err := resolveOptions(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return helperproc.Print(Resolve(context.Background(), o))
}

// resolveOptions are the scenarios' Resolve options from their variables:
// T_CACHE, T_ROOT (no host hints when empty), T_FRESH=1, T_WAIT (no wait
// when empty) and T_MODE (an override).
func resolveOptions(getenv func(string) string) (Options, error) {
	o := Options{CacheDir: getenv("T_CACHE"), HostRoot: getenv("T_ROOT"), Fresh: getenv("T_FRESH") == "1"}
	if o.HostRoot == "" {
		o.NoHostHints = true
	}
	o.Wait = -1
	if w := getenv("T_WAIT"); w != "" {
		d, err := time.ParseDuration(w)
		if err != nil {
			return o, err
		}
		o.Wait = d
	}
	if m := getenv("T_MODE"); m != "" {
		o.Override, o.OverrideSource = netfilter.Mode(m), "test"
	}
	return o, nil
}

// helperRecordCreated records T_CREATED as created by the shim.
func helperRecordCreated() int {
	if err := recordCreatedFrom(os.Getenv("T_CACHE"), os.Getenv("T_CREATED")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// recordCreatedFrom records created ("mode family table chain") under cache.
func recordCreatedFrom(cache, created string) error {
	f := strings.Fields(created)
	if len(f) != 4 {
		return fmt.Errorf("T_CREATED needs mode family table chain, not %q", created)
	}
	return RecordCreated(cache, CreatedChain{Mode: netfilter.Mode(f[0]), Family: f[1], Table: f[2], Chain: f[3]})
}
