package syntax

import (
	"fmt"
	"strings"
	"testing"
)

// kubeletCommands are the single commands kubelet and kube-proxy run
// (1.13 to today), with the table given after the chain as they do.
var kubeletCommands = []string{
	`-w 5 -N KUBE-MARK-DROP -t nat`,
	`-w 5 -W 100000 -C KUBE-MARK-DROP -t nat -j MARK --set-xmark 0x00008000/0x00008000`,
	`-w 5 -A KUBE-MARK-DROP -t nat -j MARK --set-xmark 0x00008000/0x00008000`,
	`-w 5 -C KUBE-FIREWALL -t filter -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x00008000/0x00008000 -j DROP`,
	`-w 5 -I OUTPUT -t filter -j KUBE-FIREWALL`,
	`-w 5 -I INPUT -t filter -j KUBE-FIREWALL`,
	`-w 5 -A KUBE-MARK-MASQ -t nat -j MARK --or-mark 0x00004000`,
	`-w 5 -I POSTROUTING -t nat -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING`,
	`-w 5 -A KUBE-POSTROUTING -t nat -m comment --comment "kubernetes service traffic requiring SNAT" -m mark --mark 0x00004000/0x00004000 -j MASQUERADE`,
	`-w 5 -A KUBE-POSTROUTING -t nat -m mark ! --mark 0x00004000/0x00004000 -j RETURN`,
	`-w 5 -A KUBE-POSTROUTING -t nat -j MARK --xor-mark 0x00004000`,
	`-w 5 -A KUBE-POSTROUTING -t nat -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully`,
	`-w 5 -A KUBE-FIREWALL -t filter -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`,
	`-w 5 -N KUBE-KUBELET-CANARY -t mangle`,
	`-w 5 -N KUBE-IPTABLES-HINT -t mangle`,
	`-w 5 -S KUBE-PROXY-CANARY -t nat`,
	`-L KUBE-KUBELET-CANARY -t mangle`,
	`-w 5 -X KUBE-MARK-DROP -t nat`,
	`-w 5 -F KUBE-SERVICES -t nat`,
	`-w 5 -D PREROUTING -t nat -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
	`-w 5 -I FORWARD -t filter -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD`,
	`-w 5 -A KUBE-SERVICES -t filter -m comment --comment "ns/svc:p has no endpoints" -m udp -p udp -d 10.96.0.10/32 --dport 53 -j REJECT`,
	`-w 5 -A KUBE-NODEPORTS -t nat -m comment --comment "ns/svc:p" -m sctp -p sctp --dport 30001 -j KUBE-SVC-X`,
	`-w 5 -A KUBE-XLB -t nat -m comment --comment "ns/svc:p" -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-X`,
	`-w 5 -A KUBE-FORWARD -t filter -m physdev ! --physdev-is-in -j ACCEPT`,
	`-w 5 -A KUBE-SERVICES -t nat -m ipvs --vaddr 10.96.0.1/32 --vport 443 --vproto tcp -j ACCEPT`,
	`-w 5 -A KUBE-NODE-PORT -t nat -p tcp -m comment --comment "Kubernetes nodeport TCP port for masquerade purpose" -m set --match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ`,
	`-w 5 -A KUBE-PROXY-FIREWALL -t filter -m nfacct --nfacct-name localhost_nps_accepted_pkts -j ACCEPT`,
	`-w 5 -A KUBE-SEP-X -t nat -m comment --comment "ns/svc:p" -m tcp -p tcp -j DNAT --to-destination [fd00::1]:8080`,
}

// TestKubeletCommands checks that every command kube components send
// parses with every extension described (so a native backend can take
// them) and renders back to the same command.
func TestKubeletCommands(t *testing.T) {
	for _, line := range kubeletCommands {
		fam := IPv4
		if strings.Contains(line, "fd00::") {
			fam = IPv6
		}
		c, err := ParseCommand(Tokenize(line), fam)
		if err != nil {
			t.Errorf("%s: %v", line, FormatError("iptables", "", err))
			continue
		}
		if !c.Wait.Given && strings.HasPrefix(line, "-w") {
			t.Errorf("%s: wait lost", line)
		}
		if c.Rule != nil {
			if u := c.Rule.UnknownExtensions(); len(u) > 0 {
				t.Errorf("%s: unknown extensions %v", line, u)
			}
		}
		checkRoundTrip(t, c, fam)
	}
}

// BenchmarkParseRestoreServiceRules measures parsing a 1.2x iptables-mode
// payload with 10,000 service rules (about what a 2,000-service cluster
// sends); BenchmarkParseRestore has complete kube-proxy payloads.
func BenchmarkParseRestoreServiceRules(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("*nat\n:KUBE-SERVICES - [0:0]\n")
	for i := 0; i < 10000; i++ {
		fmt.Fprintf(&sb, "-A KUBE-SERVICES -m comment --comment \"ns/svc-%d:http cluster IP\" -m tcp -p tcp -d 10.96.%d.%d --dport 80 -j KUBE-SVC-%016d\n", i, i/250, i%250, i)
	}
	sb.WriteString("COMMIT\n")
	payload := sb.String()
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ParseRestore(strings.NewReader(payload), IPv4); err != nil {
			b.Fatal(err)
		}
	}
}
