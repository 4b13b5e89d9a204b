#!/bin/bash
# Runs iptables' own shell tests (iptables/tests/shell/testcases of an
# iptables 1.8.9 source tree) against the shim in native nf_tables mode,
# with no real iptables binary reachable, each test in a private network
# namespace (unshare -n), and counts passes and failures.
#
# usage: scripts/iptables-shell-tests.sh SHIM-BINARY TESTCASES-DIR [TEST...]
#   SHIM-BINARY    a built iptables-shim
#   TESTCASES-DIR  iptables/tests/shell/testcases of the iptables tree
#                  (1.8.9's or 1.8.11's; any checkout of iptables, e.g. the
#                  aosp-mirror/platform_external_iptables commits named in
#                  ../shared/iptables-tests/README.md)
#   TEST           test paths relative to TESTCASES-DIR (default: all but
#                  the arptables and ebtables ones)
# Set XT_MULTI=/usr/sbin/xtables-nft-multi to run the real iptables-nft
# instead, and SHIM_DIALECT=1.8.11 (or 1.8.7) to run the shim as it runs on
# a host of that iptables-nft version (nft-dialect; default: auto, this
# host's). Needs root (network namespaces).
#
# The shim provides the six iptables/ip6tables programs only. A test that
# fails after calling another program of the multi-call binary (ebtables,
# arptables, iptables-xml, ...) is counted as out of scope, with the
# programs it asked for, not as a failure of the shim.
set -u
shim=$(readlink -f "$1")
cases=$(readlink -f "$2")
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/empty" "$work/cache"
# 0008-unprivileged runs the programs as another user.
chmod 755 "$work" "$work/bin" "$work/empty" && chmod 1777 "$work/cache"
for n in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
	ln -s "$shim" "$work/bin/$n"
done
# The tests call "$XT_MULTI PROG ARGS"; they check that XT_MULTI's name
# ends in xtables-nft-multi for the nft-only cases.
cat > "$work/xtables-nft-multi" <<WRAP
#!/bin/bash
p=\$1; shift
p=\${p/-nft/}
export IPTABLES_SHIM_MODE=nft IPTABLES_SHIM_NFT=native IPTABLES_SHIM_GUARD=false \\
	IPTABLES_SHIM_CONFIG=/nonexistent IPTABLES_SHIM_CACHE_DIR=$work/cache IPTABLES_SHIM_LOG= \\
	IPTABLES_SHIM_BACKEND_DIRS=$work/empty IPTABLES_SHIM_NFT_DIALECT=${SHIM_DIALECT:-auto}
if [ ! -e "$work/bin/\$p" ]; then
	echo "\$p" >> "\${SHELLTEST_OUT_OF_SCOPE:-/dev/null}"
	echo "xtables-nft-multi: \$p is not one of the shim's programs" >&2
	exit 127
fi
exec -a "\$p" "$work/bin/\$p" "\$@"
WRAP
chmod +x "$work/xtables-nft-multi"
multi=${XT_MULTI:-$work/xtables-nft-multi}
cd "$cases" || exit 1
tests="$*"
if [ -z "$tests" ]; then
	for t in ./*/*_[0-9]; do
		case "$t" in ./arptables/* | ./ebtables/*) ;; *) tests="$tests ${t#./}" ;; esac
	done
fi
pass=0 fail=0 failed="" skip=0 skipped=""
for t in $tests; do
	want=${t##*_}
	: >"$work/out-of-scope"
	out=$(cd "$(dirname "$t")" && SHELLTEST_OUT_OF_SCOPE=$work/out-of-scope XT_MULTI=$multi \
		timeout 300 unshare -n bash "./$(basename "$t")" 2>&1)
	got=$?
	progs=$(sort -u "$work/out-of-scope" | tr '\n' ' ')
	if [ "$got" = "$want" ]; then
		pass=$((pass + 1))
	elif [ -n "$progs" ]; then
		skip=$((skip + 1))
		skipped="$skipped $t"
		echo "=== OUT OF SCOPE $t (calls ${progs% })"
	else
		fail=$((fail + 1))
		failed="$failed $t"
		echo "=== FAIL $t (exit $got, want $want)"
		echo "$out" | tail -20
	fi
done
echo "passed $pass, failed $fail:$failed"
echo "out of scope $skip:$skipped"
[ "$fail" = 0 ]
