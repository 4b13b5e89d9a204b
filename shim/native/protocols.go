package native

import (
	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"github.com/iptables-shim/iptables-shim/shim/nftread"
)

// protocols loads the protocol names for a call. iptables-nft 1.8.11 names
// protocols from its own table only ("-p 47" where 1.8.9 prints "-p gre"
// from /etc/protocols), so a backend speaking its dialect prints the same.
func (b *Backend) protocols() *nftread.Protocols {
	p := nftread.LoadProtocols(b.opts.ProtocolsFile)
	p.BuiltinNames = b.opts.Dialect == dialect.V1811
	p.Printer = b.opts.Dialect
	return p
}
