#!/bin/sh
# iptables-shim takeover: make the host's own iptables names lead to
# /usr/sbin/iptables-shim through the alternatives system, and undo it so
# that the host is exactly as before.
#
#   takeover enable    register the shim (idempotent)
#   takeover disable   unregister and restore the previous state
#   takeover repair    re-point names an iptables update rewrote (quiet if none)
#   takeover status    print the recorded state and whether the names lead to the shim
#
# Layouts:
#   Debian:           groups iptables and ip6tables (-save/-restore follow)
#   Fedora, RHEL 9:   one group iptables, the five other names follow
#   RHEL 8:           no group: the names are package-owned links to
#                     xtables-nft-multi. The native binary is registered
#                     first, so the group never lacks a working entry, and
#                     disable puts the original links back.
# What was there before is recorded in $STATE; disable replays it.
set -eu

SHIM=/usr/sbin/iptables-shim
STATE_DIR=/var/lib/iptables-shim
STATE=$STATE_DIR/takeover.state
# Above every distribution entry (Debian 10/20, Fedora 5/10), so auto mode
# picks the shim.
PRIORITY=1000
NAMES="iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore"

say() { echo "iptables-shim takeover: $*" >&2; }
die() { say "$*"; exit 1; }

is_shim_name() {
	case " $NAMES " in *" $1 "*) return 0 ;; esac
	return 1
}

# find_tool prints the alternatives command by absolute path: PATH may
# already lead to the shim, and scriptlets run with a minimal PATH.
find_tool() {
	for t in "$@"; do
		if [ -x "$t" ]; then
			echo "$t"
			return 0
		fi
	done
	return 1
}

# group_links prints "master LINK" and "slave NAME LINK" lines from an
# alternatives administrative file (dpkg and chkconfig share the shape:
# mode, master link, name/link pairs, a blank line, entries).
group_links() {
	i=0
	name=""
	while IFS= read -r line; do
		i=$((i + 1))
		[ "$i" -eq 1 ] && continue
		if [ "$i" -eq 2 ]; then
			echo "master $line"
			continue
		fi
		[ -z "$line" ] && break
		if [ -z "$name" ]; then
			name=$line
		else
			echo "slave $name $line"
			name=""
		fi
	done <"$1"
}

# register_group GROUP ADMINFILE RECORD: add the shim to a group with every
# slave that is one of our names; RECORD=1 writes the prior state first.
register_group() {
	g=$1
	admin=$2
	mode=$(sed -n 1p "$admin")
	if [ "$3" = 1 ]; then
		current=$(readlink "/etc/alternatives/$g" || true)
		echo "group $g $mode $current" >>"$STATE.new"
	fi
	master=""
	slaves=""
	while read -r kind a b; do
		case $kind in
		master) master=$a ;;
		slave) if is_shim_name "${b##*/}"; then slaves="$slaves $b $a"; fi ;;
		esac
	done <<LINKS
$(group_links "$admin")
LINKS
	# shellcheck disable=SC2086 # word splitting of "link name" pairs is intended
	set -- $slaves
	args=""
	while [ $# -ge 2 ]; do
		args="$args --slave $1 $2 $SHIM"
		shift 2
	done
	# shellcheck disable=SC2086 # paths and names contain no blanks
	"$ALT" --install "$master" "$g" "$SHIM" "$PRIORITY" $args >/dev/null
	if [ "$mode" = manual ]; then
		"$ALT" --set "$g" "$SHIM" >/dev/null
	fi
	echo "${master%/*}"
}

# slave_args native|shim prints --slave arguments for the five follower
# names, each leading to its current binary or to the shim.
slave_args() {
	for n in $NAMES; do
		[ "$n" = iptables ] && continue
		if [ "$1" = native ]; then
			echo "--slave $DIR/$n $n $(readlink -f "$DIR/$n")"
		else
			echo "--slave $DIR/$n $n $SHIM"
		fi
	done
}

# register_native: the RHEL 8 layout. Registers the binaries the names lead
# to now (priority 1), then the shim.
register_native() {
	DIR=/usr/sbin
	for n in $NAMES; do
		[ -L "$DIR/$n" ] || die "$DIR/$n is not a link: unknown iptables layout, nothing changed"
	done
	native=$(readlink -f "$DIR/iptables")
	[ "$1" = 1 ] && echo "native $native" >>"$STATE.new"
	for n in $NAMES; do
		target=$(readlink "$DIR/$n")
		case $target in /etc/alternatives/*) continue ;; esac
		[ "$1" = 1 ] && echo "link $n $target" >>"$STATE.new"
	done
	# shellcheck disable=SC2046 # one word per argument
	"$ALT" --install "$DIR/iptables" iptables "$native" 1 $(slave_args native) >/dev/null
	# shellcheck disable=SC2046
	"$ALT" --install "$DIR/iptables" iptables "$SHIM" "$PRIORITY" $(slave_args shim) >/dev/null
	echo "$DIR"
}

# verify DIR: every name in DIR must lead to the shim. The alternatives
# tools exit 0 when a link path is a regular file, so their status is not
# enough.
verify() {
	want=$(readlink -f "$SHIM")
	for n in $NAMES; do
		if [ "$(readlink -f "$1/$n" 2>/dev/null || true)" != "$want" ]; then
			say "$1/$n does not lead to $SHIM"
			return 1
		fi
	done
}

state_value() { sed -n "s/^$1 //p" "$STATE"; }

do_enable() {
	if [ -f "$STATE" ]; then
		do_repair
		return
	fi
	mkdir -p "$STATE_DIR"
	rm -f "$STATE.new"
	if [ -f /var/lib/dpkg/alternatives/iptables ]; then
		ALT=$(find_tool /usr/bin/update-alternatives /usr/sbin/update-alternatives) || die "no update-alternatives"
		echo "tool $ALT" >>"$STATE.new"
		for g in iptables ip6tables; do
			[ -f "/var/lib/dpkg/alternatives/$g" ] || die "alternatives group $g missing: unknown layout, nothing changed"
		done
		DIR=$(register_group iptables /var/lib/dpkg/alternatives/iptables 1)
		register_group ip6tables /var/lib/dpkg/alternatives/ip6tables 1 >/dev/null
	elif [ -f /var/lib/alternatives/iptables ]; then
		ALT=$(find_tool /usr/sbin/alternatives /usr/bin/alternatives /sbin/alternatives) || die "no alternatives"
		echo "tool $ALT" >>"$STATE.new"
		DIR=$(register_group iptables /var/lib/alternatives/iptables 1)
	else
		ALT=$(find_tool /usr/sbin/alternatives /usr/bin/alternatives /sbin/alternatives) || die "no alternatives tool and no alternatives group: nothing changed"
		echo "tool $ALT" >>"$STATE.new"
		DIR=$(register_native 1)
	fi
	echo "dir $DIR" >>"$STATE.new"
	mv "$STATE.new" "$STATE"
	if ! verify "$DIR"; then
		say "rolling back"
		do_disable
		return 1
	fi
	repair_unit enable
	say "the iptables names in $DIR now lead to $SHIM"
}

# repair_unit enable|disable: the path unit that runs repair after an
# iptables update (rpm has no triggers through nfpm), when systemd runs.
repair_unit() {
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		systemctl "$1" --now iptables-shim-repair.path >/dev/null 2>&1 || say "could not $1 iptables-shim-repair.path"
	fi
}

do_disable() {
	if [ ! -f "$STATE" ]; then
		say "not active"
		return 0
	fi
	ALT=$(state_value tool)
	DIR=$(state_value dir)
	repair_unit disable
	while read -r kind a b c; do
		[ "$kind" = group ] || continue
		"$ALT" --remove "$a" "$SHIM" >/dev/null
		if [ "$b" = manual ] && [ -n "$c" ]; then
			"$ALT" --set "$a" "$c" >/dev/null
		fi
	done <"$STATE"
	native=$(state_value native)
	if [ -n "$native" ]; then
		"$ALT" --remove iptables "$SHIM" >/dev/null
		# Removing the last entry deletes the group and its links.
		"$ALT" --remove iptables "$native" >/dev/null
		while read -r kind a b; do
			[ "$kind" = link ] || continue
			rm -f "$DIR/$a"
			ln -s "$b" "$DIR/$a"
		done <"$STATE"
	fi
	rm -f "$STATE"
	rmdir "$STATE_DIR" 2>/dev/null || true
}

do_repair() {
	[ -f "$STATE" ] || return 0
	ALT=$(state_value tool)
	DIR=$(state_value dir)
	if verify "$DIR" 2>/dev/null; then
		return 0
	fi
	if [ -n "$(state_value native)" ]; then
		# An iptables update rewrote its links: what they lead to now is
		# what disable must restore.
		grep -v '^link ' "$STATE" >"$STATE.new"
		for n in $NAMES; do
			target=$(readlink "$DIR/$n")
			case $target in /etc/alternatives/*) grep "^link $n " "$STATE" >>"$STATE.new" || true ;; *) echo "link $n $target" >>"$STATE.new" ;; esac
		done
		mv "$STATE.new" "$STATE"
		# shellcheck disable=SC2046 # one word per argument
		"$ALT" --install "$DIR/iptables" iptables "$SHIM" "$PRIORITY" $(slave_args shim) >/dev/null
	else
		while read -r kind a _; do
			[ "$kind" = group ] || continue
			for admin in /var/lib/dpkg/alternatives/"$a" /var/lib/alternatives/"$a"; do
				[ -f "$admin" ] && register_group "$a" "$admin" 0 >/dev/null
			done
		done <"$STATE"
	fi
	verify "$DIR"
	say "repaired the iptables names in $DIR"
}

do_status() {
	if [ ! -f "$STATE" ]; then
		echo "takeover not active"
		return 0
	fi
	cat "$STATE"
	if verify "$(state_value dir)"; then
		echo "all names lead to $SHIM"
	else
		return 1
	fi
}

case "${1:-}" in
enable) do_enable ;;
disable) do_disable ;;
repair) do_repair ;;
status) do_status ;;
*)
	echo "usage: $0 enable|disable|repair|status" >&2
	exit 2
	;;
esac
