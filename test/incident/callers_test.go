package incident

import (
	"fmt"
	"strings"
)

// caller is a kube-proxy version's sync: the calls it makes, with the exit
// codes it accepts, through the shim's iptables names.
type caller struct {
	name string
	// sync runs one sync; round 0 is the first after start-up.
	sync func(c *cell, round int) error
	// marksDrop: the payload jumps to KUBE-MARK-DROP without declaring it.
	marksDrop bool
}

// addrs are the addresses a payload uses, per family.
type addrs struct {
	podCIDR, svc, svc2, ep1, ep2, ep3, host string
}

func familyAddrs(v6 bool) addrs {
	if v6 {
		return addrs{"fd00:10:244::/48", "fd00:10:96::1", "fd00:10:96::a", "fd00:10:244:1::a", "fd00:10:244:2::b", "fd00:10:244:3::c", "/128"}
	}
	return addrs{"10.244.0.0/16", "10.96.0.1", "10.96.0.10", "10.244.1.10", "10.244.2.11", "10.244.3.12", "/32"}
}

func (a addrs) hostPort(ip string, port int, v6 bool) string {
	if v6 {
		return fmt.Sprintf("[%s]:%d", ip, port)
	}
	return fmt.Sprintf("%s:%d", ip, port)
}

// ensureChains is kube-proxy's -N for each chain: 0 or 1 (exists) is fine.
func ensureChains(c *cell, chains [][2]string, wait ...string) error {
	for _, tc := range chains {
		args := append(append([]string{}, wait...), "-N", tc[1], "-t", tc[0])
		// kube-proxy reads exit 1 as "already exists"; the test also wants
		// iptables' message, so that a refusal cannot pass for it.
		if r := c.run("", "iptables", args...); r.Code != 0 && (r.Code != 1 || !strings.Contains(r.Stderr, "Chain already exists")) {
			return fmt.Errorf("-N %s: %s", tc[1], r)
		}
	}
	return nil
}

// ensureJump is kube-proxy's EnsureRule: -C, and -I when -C says absent.
func ensureJump(c *cell, table, chain string, spec []string, wait ...string) error {
	args := append(append(append([]string{}, wait...), "-C", chain, "-t", table), spec...)
	r := c.run("", "iptables", args...)
	switch r.Code {
	case 0:
		return nil
	case 1:
		ins := append(append(append([]string{}, wait...), "-I", chain, "-t", table), spec...)
		if r := c.run("", "iptables", ins...); r.Code != 0 {
			return fmt.Errorf("-I %s %v: %s", chain, spec, r)
		}
		c.inserted++
		return nil
	}
	return fmt.Errorf("-C %s %v: %s", chain, spec, r)
}

// jump is a rule kube-proxy ensures in a built-in chain.
type jump struct {
	table, chain string
	spec         []string
}

func ensureJumps(c *cell, jumps []jump, wait ...string) error {
	for _, j := range jumps {
		if err := ensureJump(c, j.table, j.chain, j.spec, wait...); err != nil {
			return err
		}
	}
	return nil
}

func restore(c *cell, payload string, args ...string) error {
	if r := c.run(payload, "iptables-restore", args...); r.Code != 0 {
		return fmt.Errorf("iptables-restore %v: %s\npayload:\n%s", args, r, payload)
	}
	return nil
}

func saves(c *cell, tables ...string) error {
	for _, t := range tables {
		if r := c.run("", "iptables-save", "-t", t); r.Code != 0 {
			return fmt.Errorf("iptables-save -t %s: %s", t, r)
		}
	}
	return nil
}

// ipvs113 is kube-proxy 1.13's IPVS proxier sync (pkg/proxy/ipvs): saves,
// -N of its chains, -C/-I of the jump rules, one restore of nat and filter
// whose KUBE-FIREWALL jumps to the undeclared KUBE-MARK-DROP.
func ipvs113(c *cell, round int) error {
	a := familyAddrs(c.v6)
	if err := c.ipsets("KUBE-CLUSTER-IP:hash:ip,port", "KUBE-LOOP-BACK:hash:ip,port,ip"); err != nil {
		return err
	}
	if err := saves(c, "filter", "nat"); err != nil {
		return err
	}
	w := []string{"-w", "5"}
	if err := ensureChains(c, [][2]string{{"nat", "KUBE-SERVICES"}, {"nat", "KUBE-POSTROUTING"}, {"nat", "KUBE-FIREWALL"},
		{"nat", "KUBE-NODE-PORT"}, {"nat", "KUBE-LOAD-BALANCER"}, {"nat", "KUBE-MARK-MASQ"}, {"filter", "KUBE-FORWARD"}}, w...); err != nil {
		return err
	}
	if err := ensureJumps(c, []jump{
		{"nat", "OUTPUT", []string{"-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"}},
		{"nat", "PREROUTING", []string{"-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"}},
		{"nat", "POSTROUTING", []string{"-m", "comment", "--comment", "kubernetes postrouting rules", "-j", "KUBE-POSTROUTING"}},
		{"filter", "FORWARD", []string{"-m", "comment", "--comment", "kubernetes forwarding rules", "-j", "KUBE-FORWARD"}},
	}, w...); err != nil {
		return err
	}
	payload := strings.Join([]string{
		"*nat",
		":KUBE-SERVICES - [0:0]",
		":KUBE-POSTROUTING - [0:0]",
		":KUBE-FIREWALL - [0:0]",
		":KUBE-NODE-PORT - [0:0]",
		":KUBE-LOAD-BALANCER - [0:0]",
		":KUBE-MARK-MASQ - [0:0]",
		":KUBE-POSTROUTING - [0:0]",
		`-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -m mark --mark 0x00004000/0x00004000 -j MASQUERADE`,
		`-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE`,
		`-A KUBE-MARK-MASQ -j MARK --set-xmark 0x00004000/0x00004000`,
		`-A KUBE-SERVICES -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP src,dst -j KUBE-MARK-MASQ`,
		`-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT`,
		`-A KUBE-FIREWALL -j KUBE-MARK-DROP`,
		`-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ`,
		"COMMIT",
		"*filter",
		":KUBE-FORWARD - [0:0]",
		`-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT`,
		`-A KUBE-FORWARD -s ` + a.podCIDR + ` -m comment --comment "kubernetes forwarding conntrack pod source rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
		`-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack pod destination rule" -d ` + a.podCIDR + ` -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
		"COMMIT",
		"",
	}, "\n")
	return restore(c, payload, "-w", "5", "--noflush", "--counters")
}

// iptables116 is kube-proxy 1.16's iptables proxier full sync: the
// kubernetes service with two endpoints (statistic, DNAT), a service with
// no endpoints (REJECT), a LoadBalancer with no local endpoints (its XLB
// chain jumps to the undeclared KUBE-MARK-DROP) and node ports.
func iptables116(c *cell, round int) error {
	a := familyAddrs(c.v6)
	w := []string{"-w", "5"}
	if err := ensureChains(c, [][2]string{{"filter", "KUBE-EXTERNAL-SERVICES"}, {"filter", "KUBE-SERVICES"},
		{"nat", "KUBE-SERVICES"}, {"nat", "KUBE-POSTROUTING"}, {"filter", "KUBE-FORWARD"}}, w...); err != nil {
		return err
	}
	if err := ensureJumps(c, []jump{
		{"filter", "INPUT", []string{"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "kubernetes externally-visible service portals", "-j", "KUBE-EXTERNAL-SERVICES"}},
		{"filter", "OUTPUT", []string{"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"}},
		{"nat", "OUTPUT", []string{"-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"}},
		{"nat", "PREROUTING", []string{"-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"}},
		{"nat", "POSTROUTING", []string{"-m", "comment", "--comment", "kubernetes postrouting rules", "-j", "KUBE-POSTROUTING"}},
		{"filter", "FORWARD", []string{"-m", "comment", "--comment", "kubernetes forwarding rules", "-j", "KUBE-FORWARD"}},
	}, w...); err != nil {
		return err
	}
	if err := saves(c, "filter", "nat"); err != nil {
		return err
	}
	reject := "icmp-port-unreachable"
	if c.v6 {
		reject = "icmp6-port-unreachable"
	}
	payload := strings.Join([]string{
		"*filter",
		":KUBE-SERVICES - [0:0]",
		":KUBE-EXTERNAL-SERVICES - [0:0]",
		":KUBE-FORWARD - [0:0]",
		`-A KUBE-SERVICES -d ` + a.svc2 + a.host + ` -p tcp -m comment --comment "default/noep:http has no endpoints" -m tcp --dport 80 -j REJECT --reject-with ` + reject,
		`-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP`,
		`-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT`,
		`-A KUBE-FORWARD -s ` + a.podCIDR + ` -m comment --comment "kubernetes forwarding conntrack pod source rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
		"COMMIT",
		"*nat",
		":KUBE-SERVICES - [0:0]",
		":KUBE-NODEPORTS - [0:0]",
		":KUBE-POSTROUTING - [0:0]",
		":KUBE-MARK-MASQ - [0:0]",
		":KUBE-SVC-NPX46M4PTMTKRN6Y - [0:0]",
		":KUBE-SEP-AAAAAAAAAAAAAAAA - [0:0]",
		":KUBE-SEP-BBBBBBBBBBBBBBBB - [0:0]",
		":KUBE-XLB-CCCCCCCCCCCCCCCC - [0:0]",
		":KUBE-FW-CCCCCCCCCCCCCCCC - [0:0]",
		`-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -m mark --mark 0x4000/0x4000 -j MASQUERADE`,
		`-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000`,
		`-A KUBE-SERVICES ! -s ` + a.podCIDR + ` -d ` + a.svc + a.host + ` -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j KUBE-MARK-MASQ`,
		`-A KUBE-SERVICES -d ` + a.svc + a.host + ` -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y`,
		`-A KUBE-SVC-NPX46M4PTMTKRN6Y -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-AAAAAAAAAAAAAAAA`,
		`-A KUBE-SVC-NPX46M4PTMTKRN6Y -j KUBE-SEP-BBBBBBBBBBBBBBBB`,
		`-A KUBE-SEP-AAAAAAAAAAAAAAAA -s ` + a.ep1 + a.host + ` -j KUBE-MARK-MASQ`,
		`-A KUBE-SEP-AAAAAAAAAAAAAAAA -p tcp -m tcp -j DNAT --to-destination ` + a.hostPort(a.ep1, 6443, c.v6),
		`-A KUBE-SEP-BBBBBBBBBBBBBBBB -s ` + a.ep2 + a.host + ` -j KUBE-MARK-MASQ`,
		`-A KUBE-SEP-BBBBBBBBBBBBBBBB -p tcp -m tcp -j DNAT --to-destination ` + a.hostPort(a.ep2, 6443, c.v6),
		`-A KUBE-FW-CCCCCCCCCCCCCCCC -m comment --comment "default/lb:http loadbalancer IP" -j KUBE-XLB-CCCCCCCCCCCCCCCC`,
		`-A KUBE-FW-CCCCCCCCCCCCCCCC -m comment --comment "default/lb:http loadbalancer IP" -j KUBE-MARK-DROP`,
		`-A KUBE-XLB-CCCCCCCCCCCCCCCC -m comment --comment "default/lb:http has no local endpoints" -j KUBE-MARK-DROP`,
		`-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`,
		"COMMIT",
		"",
	}, "\n")
	return restore(c, payload, "-w", "5", "--noflush", "--counters")
}

// iptables128 is kube-proxy 1.28's iptables proxier: canaries, -w 5 -W
// 100000, a full sync first, then partial syncs that declare only what
// changed, jump to chains that exist only in the kernel, and -X a stale
// endpoint chain.
func iptables128(c *cell, round int) error {
	a := familyAddrs(c.v6)
	w := []string{"-w", "5", "-W", "100000"}
	if err := ensureChains(c, [][2]string{{"mangle", "KUBE-PROXY-CANARY"}, {"nat", "KUBE-PROXY-CANARY"}, {"filter", "KUBE-PROXY-CANARY"}}, w...); err != nil {
		return err
	}
	if err := ensureChains(c, [][2]string{{"filter", "KUBE-EXTERNAL-SERVICES"}, {"filter", "KUBE-NODEPORTS"}, {"filter", "KUBE-SERVICES"},
		{"filter", "KUBE-FORWARD"}, {"filter", "KUBE-PROXY-FIREWALL"}, {"nat", "KUBE-SERVICES"}, {"nat", "KUBE-POSTROUTING"}}, w...); err != nil {
		return err
	}
	if err := ensureJumps(c, []jump{
		{"filter", "INPUT", []string{"-m", "comment", "--comment", "kubernetes health check service ports", "-j", "KUBE-NODEPORTS"}},
		{"filter", "FORWARD", []string{"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"}},
		{"nat", "OUTPUT", []string{"-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"}},
		{"nat", "PREROUTING", []string{"-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"}},
		{"nat", "POSTROUTING", []string{"-m", "comment", "--comment", "kubernetes postrouting rules", "-j", "KUBE-POSTROUTING"}},
	}, w...); err != nil {
		return err
	}
	svcA, svcB := "KUBE-SVC-NPX46M4PTMTKRN6Y", "KUBE-SVC-TCOU7JCQXEZGVUNU"
	sepA1, sepB1, sepB2, sepOld := "KUBE-SEP-A1A1A1A1A1A1A1A1", "KUBE-SEP-B1B1B1B1B1B1B1B1", "KUBE-SEP-B2B2B2B2B2B2B2B2", "KUBE-SEP-OLDOLDOLDOLDOLD0"
	lines := []string{
		"*filter",
		":KUBE-NODEPORTS - [0:0]",
		":KUBE-SERVICES - [0:0]",
		":KUBE-EXTERNAL-SERVICES - [0:0]",
		":KUBE-FORWARD - [0:0]",
		":KUBE-PROXY-FIREWALL - [0:0]",
		`-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP`,
		`-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT`,
		`-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
		"COMMIT",
		"*nat",
		":KUBE-SERVICES - [0:0]",
		":KUBE-NODEPORTS - [0:0]",
		":KUBE-POSTROUTING - [0:0]",
		":KUBE-MARK-MASQ - [0:0]",
	}
	svcB1 := func() []string {
		return []string{
			`-A ` + svcB + ` -m comment --comment "kube-system/kube-dns:dns -> ` + a.hostPort(a.ep2, 53, c.v6) + `" -m statistic --mode random --probability 0.5000000000 -j ` + sepB1,
			`-A ` + svcB + ` -m comment --comment "kube-system/kube-dns:dns -> ` + a.hostPort(a.ep3, 53, c.v6) + `" -j ` + sepB2,
			`-A ` + sepB1 + ` -s ` + a.ep2 + a.host + ` -m comment --comment "kube-system/kube-dns:dns" -j KUBE-MARK-MASQ`,
			`-A ` + sepB1 + ` -p udp -m comment --comment "kube-system/kube-dns:dns" -m udp -j DNAT --to-destination ` + a.hostPort(a.ep2, 53, c.v6),
			`-A ` + sepB2 + ` -s ` + a.ep3 + a.host + ` -m comment --comment "kube-system/kube-dns:dns" -j KUBE-MARK-MASQ`,
			`-A ` + sepB2 + ` -p udp -m comment --comment "kube-system/kube-dns:dns" -m udp -j DNAT --to-destination ` + a.hostPort(a.ep3, 53, c.v6),
		}
	}
	if round == 0 {
		lines = append(lines, ":"+svcA+" - [0:0]", ":"+sepA1+" - [0:0]", ":"+svcB+" - [0:0]", ":"+sepB1+" - [0:0]", ":"+sepOld+" - [0:0]",
			`-A `+svcA+` -m comment --comment "default/kubernetes:https -> `+a.hostPort(a.ep1, 6443, c.v6)+`" -j `+sepA1,
			`-A `+sepA1+` -s `+a.ep1+a.host+` -m comment --comment "default/kubernetes:https" -j KUBE-MARK-MASQ`,
			`-A `+sepA1+` -p tcp -m comment --comment "default/kubernetes:https" -m tcp -j DNAT --to-destination `+a.hostPort(a.ep1, 6443, c.v6),
			`-A `+svcB+` -j `+sepOld,
			`-A `+sepOld+` -p udp -m udp -j DNAT --to-destination `+a.hostPort(a.ep2, 53, c.v6),
		)
	} else {
		// Partial: svcA unchanged (exists only in the kernel), svcB
		// rewritten with a new endpoint, the old endpoint chain deleted.
		// Like kube-proxy, a chain to delete is declared (flushed) first.
		lines = append(lines, ":"+svcB+" - [0:0]", ":"+sepB1+" - [0:0]", ":"+sepB2+" - [0:0]", ":"+sepOld+" - [0:0]")
		lines = append(lines, svcB1()...)
	}
	lines = append(lines,
		`-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN`,
		`-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000`,
		`-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully`,
		`-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000`,
		`-A KUBE-SERVICES -d `+a.svc+a.host+` -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j `+svcA,
		`-A KUBE-SERVICES -d `+a.svc2+a.host+` -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j `+svcB,
		`-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`,
	)
	if round == 1 {
		lines = append(lines, "-X "+sepOld)
	}
	lines = append(lines, "COMMIT", "")
	return restore(c, strings.Join(lines, "\n"), append(w, "--noflush", "--counters")...)
}

var callers = []caller{
	{name: "kube-proxy1.13-ipvs", sync: ipvs113, marksDrop: true},
	{name: "kube-proxy1.16-iptables", sync: iptables116, marksDrop: true},
	{name: "kube-proxy1.28-partial", sync: iptables128},
}
