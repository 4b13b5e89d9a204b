package nftread

import (
	"strconv"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// Reading the base matches of every iptables-nft dialect (shim/dialect).
// decodeBase takes them in any order, which covers 1.8.11's saddr, daddr,
// iifname, oifname, protocol as well as the iifname, oifname, l4proto,
// saddr, daddr of the versions before; what 1.8.11 adds is the IPv4 -p as
// a load of the header's protocol byte.

// IPv4ProtoOffset is the offset of the protocol byte in the IPv4 header.
const IPv4ProtoOffset = 9

// payloadProto decodes iptables-nft 1.8.11's IPv4 -p at es[i]: a 1-byte
// network-header payload load at offset 9 and an eq/neq cmp of it. It
// fills bf's protocol and reports how many expressions it took.
func payloadProto(env *RenderEnv, es []expr.Any, i int, bf *baseFields) (int, bool) {
	p, ok := es[i].(*expr.Payload)
	if !ok || env.Fam != syntax.IPv4 || bf.Proto.Set || p.Base != expr.PayloadBaseNetworkHeader ||
		p.OperationType != expr.PayloadLoad || p.Offset != IPv4ProtoOffset || p.Len != 1 {
		return 0, false
	}
	cmp, ok := cmpAt(es, i+1, p.DestRegister)
	if !ok || len(cmp.Data) != 1 {
		return 0, false
	}
	bf.protoNum = cmp.Data[0]
	bf.Proto = syntax.Field{Set: true, Invert: cmp.Op == expr.CmpOpNeq, Value: env.Protos.Name(cmp.Data[0])}
	return 2, true
}

// listsNumbers reports whether -L -n prints the protocol as a number:
// 1.8.9 does ("0", "6"); 1.8.7 and 1.8.11 print the name ("all", "tcp").
func (p *Protocols) listsNumbers() bool {
	return p.Printer.Or() == dialect.V189
}

// numericListName is the protocol's name in -L -n for the versions that
// print names there: their own table's only (1.8.7's iptables table, where
// 58 is "icmpv6"; 1.8.11's, where it is "ipv6-icmp").
func (p *Protocols) numericListName(n uint8) string {
	if p.Printer == dialect.V187 {
		for _, cp := range chainProtos {
			if cp.num == n {
				return cp.name
			}
		}
		return strconv.Itoa(int(n))
	}
	return builtinProtoName(n)
}

// listName is the protocol's name in -L without -n: every version consults
// /etc/protocols there (1.8.11 too), in the order name gives.
func (p *Protocols) listName(n uint8) string {
	return p.nameFrom(n, false)
}

// appendProtoColumn appends -L's prot column: 1.8.9 and 1.8.11 always
// leave a space after the name ("ipv6-icmp --"), 1.8.7 pads to five
// characters only ("ipv6-icmp--").
func (p *Protocols) appendProtoColumn(out []byte, name string) []byte {
	out = append(out, name...)
	w := 5
	if p.Printer != dialect.V187 {
		// 1.8.9 prints "%-4s " too (print_rule_details), measured:
		// "ipv6-icmp --".
		w = 4
		out = append(out, ' ')
	}
	for i := len(name); i < w; i++ {
		out = append(out, ' ')
	}
	return out
}

// blankOptColumn reports whether -L leaves the opt column blank: 1.8.7's
// ip6tables does ("all      ::/0" where later versions print "all  --").
func (p *Protocols) blankOptColumn(fam syntax.Family) bool {
	return fam == syntax.IPv6 && p.Printer == dialect.V187
}

// protos1811 is iptables-nft 1.8.11's own protocol table, the only
// names its save, -S and -L -n print (measured: -p 1 to 255).
var protos1811 = map[uint8]string{
	1: "icmp", 6: "tcp", 17: "udp", 33: "dccp", 50: "esp", 51: "ah", 58: "ipv6-icmp",
	108: "ipcomp", 132: "sctp", 135: "mobility-header", 136: "udplite",
}

// builtinProtoName is iptables-nft 1.8.11's name for a protocol number:
// its table's, else the number.
func builtinProtoName(n uint8) string {
	if s, ok := protos1811[n]; ok {
		return s
	}
	return strconv.Itoa(int(n))
}

// printsLike187 reports whether rules are printed as iptables-nft 1.8.7
// prints them (save and -S end a rule without a target with a space).
func printsLike187(env *RenderEnv) bool {
	return env.Protos != nil && env.Protos.Printer == dialect.V187
}
