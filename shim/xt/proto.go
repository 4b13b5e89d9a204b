package xt

import (
	"strconv"
	"strings"
	"sync"
)

// Protocol numbers the extensions care about.
const (
	protoTCP  = 6
	protoUDP  = 17
	protoSCTP = 132
)

var protoNames = sync.OnceValue(func() map[string]uint8 {
	return map[string]uint8{
		"tcp": protoTCP, "udp": protoUDP, "sctp": protoSCTP, "icmp": 1, "icmpv6": 58,
		"ipv6-icmp": 58, "esp": 50, "ah": 51, "udplite": 136, "dccp": 33, "mh": 135,
		"gre": 47, "igmp": 2,
	}
})

// protoNum is the protocol number of a -p value (name or number); ok is false
// for "all", empty or unknown values.
func protoNum(v string) (uint8, bool) {
	v = strings.ToLower(v)
	if n, ok := protoNames()[v]; ok {
		return n, true
	}
	if n, err := strconv.ParseUint(v, 10, 8); err == nil && n != 0 {
		return uint8(n), true
	}
	return 0, false
}

// ruleProto is the rule's -p as a number when it is given and not inverted,
// which is what the port matches require.
func (c Context) ruleProto() (uint8, bool) {
	if !c.Protocol.Set || c.Protocol.Invert {
		return 0, false
	}
	return protoNum(c.Protocol.Value)
}
