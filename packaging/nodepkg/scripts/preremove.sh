#!/bin/sh
# rpm %preun ($1: 0 erase, 1 upgrade) and deb prerm ($1: remove, upgrade,
# deconfigure, failed-upgrade). Only a real removal gives the host its own
# iptables names back; an upgrade keeps the takeover.
case "${1:-}" in
0 | remove | deconfigure)
	if [ -f /var/lib/iptables-shim/takeover.state ]; then
		/usr/libexec/iptables-shim/takeover disable
	fi
	;;
esac
exit 0
