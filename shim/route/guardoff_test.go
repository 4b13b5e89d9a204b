package route

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/calllog"
	"github.com/iptables-shim/iptables-shim/shim/guard"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

type failingChains struct{}

func (failingChains) Existing(string, []string) (map[string]bool, error) {
	return nil, errors.New("netlink receive: timeout")
}

// TestGuardLookupFailureIsLoggedAndRecorded: when the guard cannot ask
// which chains exist, the call goes on unguarded, and says so in the call
// log and to Router.GuardOff (which cmd wires to the namespace's record
// that doctor reads).
func TestGuardLookupFailureIsLoggedAndRecorded(t *testing.T) {
	for _, tc := range []struct {
		name string
		call func() *backend.Call
	}{
		{"restore", func() *backend.Call {
			in := "*nat\n:KUBE-FIREWALL - [0:0]\n-A KUBE-FIREWALL -j KUBE-MARK-DROP\nCOMMIT\n"
			return &backend.Call{Tool: backend.Restore, Family: syntax.IPv4, Args: []string{"--noflush"}, Stdin: strings.NewReader(in), Stdout: io.Discard, Stderr: io.Discard}
		}},
		{"single command", func() *backend.Call {
			return &backend.Call{Tool: backend.Iptables, Family: syntax.IPv4, Args: []string{"-A", "KUBE-FIREWALL", "-t", "nat", "-j", "KUBE-MARK-DROP"}, Stdout: io.Discard, Stderr: io.Discard}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := setup{mode: "nft", haveNFT: true}.router()
			r.Chains = func(backend.Mode, syntax.Family) guard.Chains { return failingChains{} }
			type off struct {
				mode backend.Mode
				name string
				err  error
			}
			var offs []off
			r.GuardOff = func(mode backend.Mode, c *backend.Call, err error) { offs = append(offs, off{mode, c.Name(), err}) }
			logPath := filepath.Join(t.TempDir(), "calls.log")
			r.Log = calllog.Open(logPath)
			defer r.Log.Close()
			if err := r.Run(context.Background(), tc.call()); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(logPath)
			if !strings.Contains(string(data), "event=guard-disabled") || !strings.Contains(string(data), "netlink receive: timeout") {
				t.Errorf("call log lacks the guard-disabled record:\n%s", data)
			}
			if len(offs) != 1 || offs[0].mode != backend.NFT || !strings.Contains(offs[0].err.Error(), "timeout") {
				t.Errorf("GuardOff told %+v, want one nft call with the timeout", offs)
			}
		})
	}
}

// TestGuardWithoutChainLookup: a router wired without Router.Chains cannot
// look, so a call the guard would have looked after runs unguarded, and
// GuardOff hears of it as of any failed lookup.
func TestGuardWithoutChainLookup(t *testing.T) {
	r, execs := setup{mode: "nft", haveNFT: true}.router()
	r.Chains = nil
	var offs []error
	r.GuardOff = func(_ backend.Mode, _ *backend.Call, err error) { offs = append(offs, err) }
	in := "*nat\n:KUBE-FIREWALL - [0:0]\n-A KUBE-FIREWALL -j KUBE-MARK-DROP\nCOMMIT\n"
	c := &backend.Call{Tool: backend.Restore, Family: syntax.IPv4, Args: []string{"--noflush"}, Stdin: strings.NewReader(in), Stdout: io.Discard, Stderr: io.Discard}
	if err := r.Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if len(offs) != 1 {
		t.Errorf("GuardOff heard %v, want one missing lookup", offs)
	}
	if ran := execs[backend.NFT].ran; len(ran) != 1 || strings.Contains(ran[0], "KUBE-MARK-DROP - [0:0]") {
		t.Errorf("the backend ran %q, want the restore as given", ran)
	}
}
