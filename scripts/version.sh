#!/bin/sh
# Prints the one version the binary, the rpm/deb and the image carry: the
# VERSION file (a semantic version), or, when a tree has none, the newest
# vX.Y.Z tag (with "+N.gHASH" for commits after it), or 0.0.0-dev.
set -eu
cd "$(dirname "$0")/.."
if [ -s VERSION ]; then
	tr -d ' \n' < VERSION
	echo
	exit 0
fi
if d=$(git describe --tags --match 'v[0-9]*' 2>/dev/null); then
	# v1.2.3-4-gabcdef0 -> 1.2.3+4.gabcdef0 (build metadata, still semver)
	echo "$d" | sed -e 's/^v//' -e 's/-\([0-9]*\)-g\([0-9a-f]*\)$/+\1.g\2/'
	exit 0
fi
echo 0.0.0-dev
