#!/bin/sh
# Installs what the build and the tests need on a Debian machine, and only
# what is missing, so `make test` works on a fresh machine and costs nothing
# on a prepared one. Needs root for apt-get.
#
# scripts/deps.sh            everything the tests need
# scripts/deps.sh --runtime  only what the shim and the demo need
set -eu
pkgs="iptables nftables ipset iproute2 kmod"
runtime=false
[ "${1:-}" = "--runtime" ] && runtime=true
if ! $runtime; then
	# Packaging tests (rpm/deb/image) use these.
	pkgs="$pkgs $(cat "$(dirname "$0")/../packaging/apt-packages.txt" 2>/dev/null || true)"
fi
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing Debian packages:$missing (run as root to install them)" >&2
		exit 1
	fi
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if ! $runtime && [ "$(id -u)" = 0 ]; then
	# Real iptables-nft 1.8.7 and 1.8.11 from Debian's archive, the oracles
	# of the version-skew tests; unpacked into a cache, never installed.
	bash "$(dirname "$0")/fetch-iptables.sh"
	# iptables' own shell tests of 1.8.9 and 1.8.11 (source packages,
	# not installed), which test/native's TestIptablesShellTests runs.
	bash "$(dirname "$0")/fetch-iptables-tests.sh"
fi
if ! $runtime && { command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ]; }; then
	# Every module's dependencies (MODULES from the Makefile; the shim's
	# own module alone when run by hand).
	cd "$(dirname "$0")/.."
	for m in ${MODULES:-.}; do
		(cd "$m" && PATH=$PATH:/usr/local/go/bin go mod download)
	done
fi
