#!/bin/sh
# Prints the README's example `detect` and `doctor` output, for real: in a
# throwaway network namespace where kubelet's chains are in nf_tables and a
# kube-proxy without the shim wrote its chains into legacy. Run it after
# changing either command's output and paste the result into README.md.
#
# Usage: scripts/readme-examples.sh [path/to/iptables-shim]. Needs root; the
# host's own firewall is never touched.
set -eu
BIN=$(readlink -f "${1:-bin/iptables-shim}")
[ -x "$BIN" ] || { echo "readme-examples: build the shim first (make build)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "readme-examples: needs root (network namespaces)" >&2; exit 1; }
ns="shim-readme-$$"
cache=$(mktemp -d /tmp/shim-readme.XXXXXX)
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$cache"; }
trap cleanup EXIT INT TERM
inns() { ip netns exec "$ns" "$@"; }
ip netns add "$ns"
inns ip link set lo up
for spec in nat:KUBE-MARK-DROP nat:KUBE-MARK-MASQ nat:KUBE-POSTROUTING filter:KUBE-FIREWALL; do
	inns iptables-nft -w 5 -t "${spec%%:*}" -N "${spec#*:}"
done
inns iptables-nft -w 5 -t nat -A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000
export IPTABLES_SHIM_CACHE_DIR="$cache"
echo '$ sudo iptables-shim detect'
inns "$BIN" detect || true
printf '*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp --dport 443 -j KUBE-MARK-MASQ\nCOMMIT\n' |
	inns iptables-legacy-restore --noflush
echo
echo '$ sudo iptables-shim doctor'
inns "$BIN" doctor || echo "(exit status $?)"
