#!/bin/sh
# The incident, reproduced and fixed, in a throwaway network namespace:
# a CentOS 8.2 node (kubelet 1.13 wrote its chains with the host's
# iptables, nf_tables) and the kube-proxy 1.13 image's layout (iptables
# 1.6's: legacy only, one xtables-multi under /sbin). The binary standing in
# for the image's iptables 1.6 is this machine's xtables-legacy-multi, so it
# prints its own version (1.8.9); what matters, the legacy backend, is the
# same. First the image's own iptables-restore (the failure),
# then the same call through the shim (success), then doctor.
#
# Usage: scripts/demo.sh [path/to/iptables-shim]. Needs root; the host's
# own firewall is never touched.
set -eu
BIN=$(readlink -f "${1:-bin/iptables-shim}")
[ -x "$BIN" ] || { echo "demo: build the shim first (make build)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "demo: needs root (network namespaces)" >&2; exit 1; }

ns="shim-demo-$$"
work=$(mktemp -d /tmp/shim-demo.XXXXXX)
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

if [ -t 1 ]; then bold=$(printf '\033[1m'); off=$(printf '\033[0m'); else bold=; off=; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$off"; }
show() { printf '$ %s\n' "$*"; }
inns() { ip netns exec "$ns" "$@"; }

say "A CentOS 8.2 node: kubelet 1.13 creates its chains with the host's iptables (nf_tables)"
ip netns add "$ns"
inns ip link set lo up
for spec in nat:KUBE-MARK-DROP nat:KUBE-MARK-MASQ nat:KUBE-POSTROUTING filter:KUBE-FIREWALL; do
	inns iptables-nft -w 5 -N "${spec#*:}" -t "${spec%%:*}"
done
inns iptables-nft -w 5 -A KUBE-MARK-DROP -t nat -j MARK --set-xmark 0x00008000/0x00008000
inns iptables-nft -w 5 -A KUBE-MARK-MASQ -t nat -j MARK --set-xmark 0x00004000/0x00004000
inns iptables-nft -w 5 -A KUBE-FIREWALL -t filter -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x00008000/0x00008000 -j DROP
inns iptables-nft -w 5 -I INPUT -t filter -j KUBE-FIREWALL
show "iptables-nft-save -t nat   # on the host"
inns iptables-nft-save -t nat | grep -v '^#'

say "The kube-proxy 1.13 image, in iptables 1.6's layout: legacy only, under /sbin"
echo "(the legacy binary is this machine's iptables-legacy, so it calls itself $(/usr/sbin/xtables-legacy-multi iptables -V 2>/dev/null || echo 1.8.9); it stands in for 1.6)"
mkdir -p "$work/image/sbin" "$work/image/usr/sbin" "$work/run"
cp /usr/sbin/xtables-legacy-multi "$work/image/sbin/xtables-multi"
for n in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
	ln -s xtables-multi "$work/image/sbin/$n"
done
for f in "$work/image/sbin"/*; do
	if [ -L "$f" ]; then echo "  /sbin/${f##*/} -> $(readlink "$f")"; else echo "  /sbin/${f##*/}"; fi
done

# kube-proxy 1.13's IPVS sync: KUBE-FIREWALL jumps to KUBE-MARK-DROP, which
# it never declares (it assumes kubelet made it).
inns ipset create KUBE-CLUSTER-IP hash:ip,port -exist
cat > "$work/payload" <<'PAYLOAD'
*nat
:KUBE-SERVICES - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-NODE-PORT - [0:0]
:KUBE-LOAD-BALANCER - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-POSTROUTING - [0:0]
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -m mark --mark 0x00004000/0x00004000 -j MASQUERADE
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x00004000/0x00004000
-A KUBE-SERVICES -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP src,dst -j KUBE-MARK-MASQ
-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT
-A KUBE-FIREWALL -j KUBE-MARK-DROP
COMMIT
PAYLOAD

say "1. Without the shim: the image's own iptables-restore (what kube-proxy ran that night)"
show "/sbin/iptables-restore --noflush --counters < kube-proxy-1.13-sync"
set +e
inns "$work/image/sbin/iptables-restore" --noflush --counters < "$work/payload"
rc=$?
set -e
echo "exit status: $rc    <- the whole transaction is rejected: no service rules, the VIP is dead"

say "2. With the shim in the image (/usr/sbin comes before /sbin on PATH)"
cp "$BIN" "$work/image/usr/sbin/iptables-shim"
for n in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
	ln -s iptables-shim "$work/image/usr/sbin/$n"
done
export IPTABLES_SHIM_BACKEND_DIRS="$work/image/usr/sbin:$work/image/sbin"  # only the image's binaries
export IPTABLES_SHIM_CACHE_DIR="$work/run" IPTABLES_SHIM_LOG="$work/shim.log"
show "/usr/sbin/iptables-restore --noflush --counters < kube-proxy-1.13-sync"
set +e
inns "$work/image/usr/sbin/iptables-restore" --noflush --counters < "$work/payload"
rc=$?
set -e
echo "exit status: $rc"
echo "what the shim decided (its log, off by default; IPTABLES_SHIM_LOG):"
sed 's/^[^ ]* pid=[0-9]* /  /' "$work/shim.log"
show "iptables-nft-save -t nat   # on the host: kube-proxy's rules, jumping to kubelet's KUBE-MARK-DROP"
inns iptables-nft-save -t nat | grep -v '^#'

say "3. The same sync again is clean"
set +e
inns "$work/image/usr/sbin/iptables-restore" --noflush --counters < "$work/payload"
echo "exit status: $?"
set -e

say "4. iptables-shim doctor"
set +e
inns "$work/image/usr/sbin/iptables-shim" doctor
echo "exit status: $?"
set -e
say "Done; namespace $ns removed."
