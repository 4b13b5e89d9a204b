// Package kubefixture holds, for tests, the rulesets of the incident: what
// kubelet 1.13 keeps on a host and what kube-proxy 1.13's IPVS proxier
// restores. Both are accepted by iptables-restore --noflush of either
// backend in an empty network namespace (ProxyIPVS113 once KUBE-MARK-DROP
// exists). Generated payloads of any size are package kubepayload's.
package kubefixture

// Kubelet113 is the restore payload of the chains kubelet 1.13 creates: its
// nat markers and KUBE-POSTROUTING, and filter's KUBE-FIREWALL, which drops
// what KUBE-MARK-DROP marks.
const Kubelet113 = `*nat
:KUBE-MARK-DROP - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-POSTROUTING - [0:0]
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -m mark --mark 0x4000/0x4000 -j MASQUERADE
COMMIT
*filter
:KUBE-FIREWALL - [0:0]
-A INPUT -j KUBE-FIREWALL
-A OUTPUT -j KUBE-FIREWALL
-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP
COMMIT
`

// ProxyIPVS113 is the 1.13 IPVS proxier's restore, cut to what the
// incident needs: KUBE-MARK-DROP is used and never declared.
const ProxyIPVS113 = `*nat
:KUBE-SERVICES - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-NODE-PORT - [0:0]
:KUBE-LOAD-BALANCER - [0:0]
:KUBE-MARK-MASQ - [0:0]
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -m mark --mark 0x4000/0x4000 -j MASQUERADE
-A KUBE-FIREWALL -j KUBE-MARK-DROP
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
COMMIT
*filter
:KUBE-FORWARD - [0:0]
COMMIT
`

// ProxyIPVS113MarkDropLine is the line of ProxyIPVS113 that jumps to
// KUBE-MARK-DROP, as the guard reports it.
const ProxyIPVS113MarkDropLine = 9
