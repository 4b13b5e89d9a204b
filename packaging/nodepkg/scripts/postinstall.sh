#!/bin/sh
# rpm %post ($1: 1 install, 2 upgrade) and deb postinst ($1: configure).
# The takeover of the host's own iptables names is opt-in: create
# /etc/iptables-shim/takeover before installing (or run
# /usr/libexec/iptables-shim/takeover enable later). On upgrade an active
# takeover is repaired. A failed takeover leaves the package installed and
# the host's names as they were.
TAKEOVER=/usr/libexec/iptables-shim/takeover
if [ -e /etc/iptables-shim/takeover ] || [ -f /var/lib/iptables-shim/takeover.state ]; then
	"$TAKEOVER" enable || echo "iptables-shim: takeover failed; the host's iptables names are unchanged" >&2
fi
exit 0
