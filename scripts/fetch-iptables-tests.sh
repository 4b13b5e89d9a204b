#!/usr/bin/env bash
# fetch-iptables-tests.sh: fetch iptables' own shell tests
# (iptables/tests/shell of the upstream source) for the versions the shim
# is checked against, from Debian's source packages, with apt-get source
# on a private sources list, state and cache (nothing is installed, the
# system's apt state is not touched, nothing is built).
#
#   scripts/fetch-iptables-tests.sh [VERSION...]    VERSION: 1.8.9 (bookworm), 1.8.11 (trixie)
#
# Each version's tests land in
#   ${IPTABLES_SHIM_ORACLES:-${XDG_CACHE_HOME:-/var/cache}/iptables-shim}/iptables-tests-VERSION/testcases
# which scripts/iptables-shell-tests.sh takes as its TESTCASES-DIR (and
# test/native's TestIptablesShellTests finds there). A version already
# fetched is left as it is.
set -euo pipefail

cache="${IPTABLES_SHIM_ORACLES:-${XDG_CACHE_HOME:-/var/cache}/iptables-shim}"
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(1.8.9 1.8.11)

suite_of() {
	case "$1" in
	1.8.9) echo bookworm ;;
	1.8.11) echo trixie ;;
	*) echo "fetch-iptables-tests: unknown version $1 (known: 1.8.9 1.8.11)" >&2; return 2 ;;
	esac
}

fetch() {
	local v="$1" suite dest apt work
	suite="$(suite_of "$v")"
	dest="$cache/iptables-tests-$v"
	if [ -d "$dest/testcases" ]; then
		echo "iptables $v shell tests: already in $dest/testcases"
		return 0
	fi
	apt="$cache/apt-src-$suite"
	work="$(mktemp -d "$cache/.fetch-tests-$v.XXXXXX")"
	trap 'rm -rf "$work"' RETURN
	mkdir -p "$apt/state/lists/partial" "$apt/cache/archives/partial"
	: >"$apt/state/status"
	echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${DEBIAN_MIRROR:-http://deb.debian.org/debian} $suite main" >"$apt/sources.list"
	local opts=(
		-o "Dir::Etc::SourceList=$apt/sources.list"
		-o "Dir::Etc::SourceParts=/nonexistent"
		-o "Dir::State=$apt/state"
		-o "Dir::State::status=$apt/state/status"
		-o "Dir::Cache=$apt/cache"
		-o "Acquire::Languages=none"
		-o "Debug::NoLocking=true"
		-o "APT::Sandbox::User=root"
	)
	apt-get "${opts[@]}" -qq update
	# Only the upstream tarball is needed: a Debian revision file the
	# mirror no longer has (a stable update replaced it) does not matter.
	(cd "$work" && apt-get "${opts[@]}" -qq --download-only source iptables) || true
	local orig
	orig="$(find "$work" -maxdepth 1 -name "iptables_$v.orig.tar.*" ! -name '*.asc' | head -1)"
	if [ -z "$orig" ]; then
		echo "fetch-iptables-tests: no iptables_$v.orig.tar.* in $suite's source package" >&2
		return 1
	fi
	mkdir -p "$work/src"
	tar -xf "$orig" -C "$work/src"
	local shell
	shell="$(find "$work/src" -type d -path '*/iptables/tests/shell' | head -1)"
	[ -d "$shell/testcases" ] || { echo "fetch-iptables-tests: no iptables/tests/shell in $orig" >&2; return 1; }
	rm -rf "$dest"
	mkdir -p "$dest"
	cp -a "$shell/." "$dest/"
	echo "iptables $v shell tests: $(find "$dest/testcases" -mindepth 2 -maxdepth 2 -name '*_[0-9]' | wc -l) in $dest/testcases"
}

mkdir -p "$cache"
for v in "${versions[@]}"; do
	fetch "$v"
done
