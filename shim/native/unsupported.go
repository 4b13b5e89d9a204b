package native

import "github.com/iptables-shim/iptables-shim/shim/nftread"

// IsUnsupported reports whether err says the call lies outside what the
// native backend handles (its own refusals and shim/xt's), so the router
// can hand the call to a real iptables-nft instead.
func IsUnsupported(err error) bool { return nftread.IsUnsupported(err) }
