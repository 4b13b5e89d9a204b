package native

import "strings"

// usageText is the shim's own summary for -h: the commands and options the
// native backend carries out. It is deliberately short and is not
// iptables' help text; callers only rely on -h exiting 0.
const usageText = `PROG v1.8.9 (nf_tables), served natively by iptables-shim

Usage: PROG [-t TABLE] COMMAND [CHAIN] [RULE-SPECIFICATION] [OPTIONS]

Commands:
  -A CHAIN RULE          append a rule
  -I CHAIN [N] RULE      insert a rule at position N (default 1)
  -R CHAIN N RULE        replace rule N
  -D CHAIN RULE | N      delete a rule by specification or by number
  -C CHAIN RULE          check whether a rule exists
  -S [CHAIN [N]]         print rules as iptables-save would
  -L [CHAIN [N]]         list rules as a table
  -F [CHAIN]             delete every rule of a chain (of all chains)
  -Z [CHAIN [N]]         zero packet and byte counters
  -N CHAIN               create a user chain
  -X [CHAIN]             delete a user chain (all empty user chains)
  -E OLD NEW             rename a user chain
  -P CHAIN TARGET        set the policy of a built-in chain
  -V, --version          print the version
  -h, --help             print this summary

Rule specification:
  [!] -p PROTO  [!] -s ADDR[/MASK]  [!] -d ADDR[/MASK]
  [!] -i IFACE  [!] -o IFACE  [!] -f  -m MATCH [OPTIONS...]
  -j TARGET [OPTIONS...] | -g CHAIN  -c PACKETS BYTES

Options:
  -t TABLE               filter (default), nat, mangle, raw or security
  -n                     numeric output (no names from /etc/hosts, /etc/services)
  -v                     verbose output (counters, interfaces)
  -x                     exact counter values
  --line-numbers         number the rules when listing
  -w [SECONDS]           wait for the xtables lock (at most SECONDS)
  -W USECS               accepted and ignored
  -4, -6                 run only for this IP version
`

// usage returns the summary for program prog ("iptables", "ip6tables").
func usage(prog string) string {
	return strings.ReplaceAll(usageText, "PROG", prog)
}
