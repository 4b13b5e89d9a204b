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
