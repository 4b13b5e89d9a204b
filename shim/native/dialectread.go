package native

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

// ipv4ProtoOffset is the offset of the protocol byte in the IPv4 header.
const ipv4ProtoOffset = 9

// payloadProto decodes iptables-nft 1.8.11's IPv4 -p at es[i]: a 1-byte
// network-header payload load at offset 9 and an eq/neq cmp of it. It
// fills bf's protocol and reports how many expressions it took.
func payloadProto(env *renderEnv, es []expr.Any, i int, bf *baseFields) (int, bool) {
	p, ok := es[i].(*expr.Payload)
	if !ok || env.fam != syntax.IPv4 || bf.proto.Set || p.Base != expr.PayloadBaseNetworkHeader ||
		p.OperationType != expr.PayloadLoad || p.Offset != ipv4ProtoOffset || p.Len != 1 {
		return 0, false
	}
	cmp, ok := cmpAt(es, i+1, p.DestRegister)
	if !ok || len(cmp.Data) != 1 {
		return 0, false
	}
	bf.protoNum = cmp.Data[0]
	bf.proto = syntax.Field{Set: true, Invert: cmp.Op == expr.CmpOpNeq, Value: env.protos.name(cmp.Data[0])}
	return 2, true
}

// protocols loads the protocol names for a call. iptables-nft 1.8.11 names
// protocols from its own table only ("-p 47" where 1.8.9 prints "-p gre"
// from /etc/protocols), so a backend speaking its dialect prints the same.
func (b *Backend) protocols() *protocols {
	p := loadProtocols(b.opts.ProtocolsFile)
	p.builtinNames = b.opts.Dialect == dialect.V1811
	return p
}

// builtinProtoName is iptables-nft 1.8.11's name for a protocol number:
// its table's (where 58 is "ipv6-icmp"), else the number.
func builtinProtoName(n uint8) string {
	if n == 58 {
		return "ipv6-icmp"
	}
	for _, cp := range chainProtos {
		if cp.num == n {
			return cp.name
		}
	}
	return strconv.Itoa(int(n))
}
