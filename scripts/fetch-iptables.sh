#!/usr/bin/env bash
# fetch-iptables.sh: fetch real iptables-nft binaries of other versions from
# Debian's archive, as oracles for the version-skew tests (docs/dialects.md).
#
#   scripts/fetch-iptables.sh [VERSION...]     VERSION: 1.8.7 (bullseye), 1.8.11 (trixie)
#
# Each version is unpacked with `dpkg -x` into its own tree,
#   ${IPTABLES_SHIM_ORACLES:-${XDG_CACHE_HOME:-/var/cache}/iptables-shim}/iptables-VERSION/
# with its own libc and loader, and never installed: apt works on a private
# sources list and a private state and cache directory inside that cache, so
# the system's package database and files are not touched. The tree gets a
# runner, `iptables-VERSION/run`, which execs
#   lib64/ld-linux-x86-64.so.2 --library-path LIBS usr/sbin/xtables-nft-multi "$@"
# with XTABLES_LIBDIR pointing into the tree: `run iptables -S`,
# `run iptables-save`, `run ip6tables-restore --noflush`, ...
# A version already fetched (its `run` exists) is left as it is.
set -euo pipefail

cache="${IPTABLES_SHIM_ORACLES:-${XDG_CACHE_HOME:-/var/cache}/iptables-shim}"
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(1.8.7 1.8.11)

# suite and exact package versions, checked against the archive: a newer
# point release could change the oracle under the tests, so they are pinned;
# when a stable update has replaced a pinned revision the suite's current
# one is taken, and the upstream version must still be the one asked for. libc6 and the conntrack
# libraries follow their suite's security updates (they do not change how
# rules are encoded).
suite_of() {
	case "$1" in
	1.8.7) echo bullseye ;;
	1.8.11) echo trixie ;;
	*) echo "fetch-iptables: unknown version $1 (known: 1.8.7 1.8.11)" >&2; return 2 ;;
	esac
}
pins_of() {
	case "$1" in
	1.8.7) echo "iptables=1.8.7-1 libxtables12=1.8.7-1 libip4tc2=1.8.7-1 libip6tc2=1.8.7-1 libnftnl11=1.1.9-1 libmnl0=1.0.4-3 libnetfilter-conntrack3 libnfnetlink0 libc6" ;;
	1.8.11) echo "iptables=1.8.11-2 libxtables12=1.8.11-2 libip4tc2=1.8.11-2 libip6tc2=1.8.11-2 libnftnl11=1.2.9-1 libmnl0=1.0.5-3 libnetfilter-conntrack3 libnfnetlink0 libc6" ;;
	esac
}

fetch() {
	local v="$1" suite tree apt work
	suite="$(suite_of "$v")"
	tree="$cache/iptables-$v"
	if [ -x "$tree/run" ]; then
		echo "iptables $v: already in $tree"
		return 0
	fi
	apt="$cache/apt-$suite"
	work="$(mktemp -d "$cache/.fetch-$v.XXXXXX")"
	trap 'rm -rf "$work"' RETURN
	mkdir -p "$apt/state/lists/partial" "$apt/cache/archives/partial" "$work/debs" "$work/tree"
	: >"$apt/state/status"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${DEBIAN_MIRROR:-http://deb.debian.org/debian} $suite main" >"$apt/sources.list"
	local opts=(
		-o "Dir::Etc::SourceList=$apt/sources.list"
		-o "Dir::Etc::SourceParts=/nonexistent"
		-o "Dir::State=$apt/state"
		-o "Dir::State::status=$apt/state/status"
		-o "Dir::Cache=$apt/cache"
		-o "Acquire::Languages=none"
		-o "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false"
		-o "Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false"
		-o "Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false"
		-o "APT::Architecture=amd64"
		-o "Debug::NoLocking=true"
		-o "APT::Sandbox::User=root"
	)
	apt-get "${opts[@]}" -qq update
	# shellcheck disable=SC2046
	if ! (cd "$work/debs" && apt-get "${opts[@]}" -qq download $(pins_of "$v")); then
		# A stable update replaced the pinned revision: take the suite's
		# current one; the version check below still insists on $v.
		echo "fetch-iptables: pinned packages of $v gone from $suite, taking the current ones" >&2
		rm -f "$work"/debs/*.deb
		# shellcheck disable=SC2046
		(cd "$work/debs" && apt-get "${opts[@]}" -qq download $(pins_of "$v" | sed 's/=[^ ]*//g'))
	fi
	for d in "$work"/debs/*.deb; do
		dpkg -x "$d" "$work/tree"
	done
	local libs="$tree/lib/x86_64-linux-gnu:$tree/usr/lib/x86_64-linux-gnu"
	local loader=lib64/ld-linux-x86-64.so.2
	[ -e "$work/tree/$loader" ] || loader=lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
	[ -e "$work/tree/$loader" ] || loader=usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
	cat >"$work/tree/run" <<EOF
#!/bin/sh
# iptables $v from Debian $suite, unpacked by scripts/fetch-iptables.sh.
# Usage: run iptables|iptables-save|iptables-restore|ip6tables...  ARGS
export XTABLES_LIBDIR="$tree/usr/lib/x86_64-linux-gnu/xtables"
exec "$tree/$loader" --library-path "$libs" "$tree/usr/sbin/xtables-nft-multi" "\$@"
EOF
	chmod +x "$work/tree/run"
	(cd "$work/debs" && ls) >"$work/tree/PACKAGES"
	rm -rf "$tree"
	mv "$work/tree" "$tree"
	if ! out="$("$tree/run" iptables --version 2>&1)" || [ "${out#iptables v$v }" = "$out" ]; then
		echo "fetch-iptables: $tree/run iptables --version said: $out" >&2
		return 1
	fi
	echo "iptables $v: $out in $tree"
}

mkdir -p "$cache"
for v in "${versions[@]}"; do
	fetch "$v"
done
