#!/bin/sh
# Runs every benchmark program under bench/ once and prints their tables
# (ours vs the real iptables tools, with ratios, from one run). Needs root:
# each program works inside network namespaces it creates and deletes.
set -eu
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
for dir in bench/*/; do
	[ -f "$dir/main.go" ] || continue
	echo "== $dir"
	go run "./$dir" "$@"
	echo
done
# kube-proxy 1.37's own sync time (its "SyncProxyRules complete" elapsed)
# with the real binaries, the shim in exec mode and in native mode.
echo "== test/kubeproxy/cmd/kpbench"
go -C test/kubeproxy run ./cmd/kpbench
