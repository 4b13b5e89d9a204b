package main

import (
	"context"

	"github.com/iptables-shim/iptables-shim/shim/config"
	"github.com/iptables-shim/iptables-shim/shim/route"
)

// decider is auto mode's detection. Until the detector is wired in, auto
// falls back to the configured default mode.
func decider(cfg config.Config) func(ctx context.Context) (route.Decision, error) {
	return nil
}

// nativeBackend is the native nf_tables backend, nil until it is wired in.
func nativeBackend(cfg config.Config) route.Native { return nil }
