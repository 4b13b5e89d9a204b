package main

import (
	"errors"
	"testing"

	"github.com/iptables-shim/iptables-shim/detect"
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/config"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// TestGuardOffIsRecordedForDoctor: the router's GuardOff hook, as wired,
// leaves the record of the network namespace that doctor reads.
func TestGuardOffIsRecordedForDoctor(t *testing.T) {
	cfg := config.Default()
	cfg.CacheDir = t.TempDir()
	c := &backend.Call{Tool: backend.Restore, Family: syntax.IPv4}
	recordGuardOff(cfg)(backend.NFT, c, errors.New("netlink receive: timeout"))
	rec, ok, err := detect.LoadGuardOff(cfg.CacheDir)
	if errors.Is(err, detect.ErrNoNetNSIdentity) {
		t.Skip(err)
	}
	if err != nil || !ok || rec.Count != 1 || rec.Last.Mode != backend.NFT || rec.Last.Program != "iptables-restore" || rec.Last.Error != "netlink receive: timeout" {
		t.Errorf("record %+v, %v, %v", rec, ok, err)
	}
}
