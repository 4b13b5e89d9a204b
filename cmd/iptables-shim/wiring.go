package main

import (
	"context"

	"github.com/iptables-shim/iptables-shim/detect"
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/config"
	"github.com/iptables-shim/iptables-shim/shim/guard"
	"github.com/iptables-shim/iptables-shim/shim/route"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// decider is auto mode: detection, cached per network namespace.
func decider(cfg config.Config) func(ctx context.Context) (route.Decision, error) {
	return func(ctx context.Context) (route.Decision, error) {
		d, err := detect.Resolve(ctx, detectOptions(cfg))
		if err != nil {
			return route.Decision{}, err
		}
		return route.Decision{Mode: d.Mode, Reason: string(d.Reason), Detail: d.Detail, Warnings: d.Warnings}, nil
	}
}

// recordCreated tells detection (and doctor) about chains the guard made, so
// they never count as evidence for the backend they were made in.
func recordCreated(cfg config.Config) func(mode backend.Mode, fam syntax.Family, c guard.Creation) {
	return func(mode backend.Mode, fam syntax.Family, c guard.Creation) {
		// Best effort: a read-only /run must not fail an iptables call
		// that already succeeded.
		_ = detect.RecordCreated(cfg.CacheDir, detect.CreatedChain{Mode: mode, Family: detect.FamilyName(fam), Table: c.Table, Chain: c.Chain})
	}
}

// nativeBackend is the native nf_tables backend, nil until it is wired in.
func nativeBackend(cfg config.Config) route.Native { return nil }
