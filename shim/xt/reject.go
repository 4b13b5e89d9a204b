package xt

import (
	"sync"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// rejectType is one --reject-with value: the name save prints, its
// aliases, and the kernel's enum value.
type rejectType struct {
	name    string
	aliases []string
	with    uint32
}

// rejectTypes are ipt_reject_with / ip6t_reject_with, per family.
var rejectTypes = sync.OnceValue(func() map[syntax.Family][]rejectType {
	return map[syntax.Family][]rejectType{
		syntax.IPv4: {
			{"icmp-net-unreachable", []string{"net-unreach"}, 0},
			{"icmp-host-unreachable", []string{"host-unreach"}, 1},
			{"icmp-proto-unreachable", []string{"proto-unreach"}, 2},
			{"icmp-port-unreachable", []string{"port-unreach"}, 3},
			{"icmp-net-prohibited", []string{"net-prohib"}, 5},
			{"icmp-host-prohibited", []string{"host-prohib"}, 6},
			{"tcp-reset", []string{"tcp-rst"}, 7},
			{"icmp-admin-prohibited", []string{"admin-prohib"}, 8},
		},
		syntax.IPv6: {
			{"icmp6-no-route", []string{"no-route"}, 0},
			{"icmp6-adm-prohibited", []string{"adm-prohibited"}, 1},
			{"icmp6-addr-unreachable", []string{"addr-unreach"}, 3},
			{"icmp6-port-unreachable", []string{"port-unreach"}, 4},
			{"tcp-reset", []string{"tcp-rst"}, 6},
			{"icmp6-policy-fail", []string{"policy-fail"}, 7},
			{"icmp6-reject-route", []string{"reject-route"}, 8},
		},
	}
})

// rejectDefault is the port-unreachable type of each family.
func rejectDefault(f syntax.Family) uint32 {
	if f == syntax.IPv6 {
		return 4
	}
	return 3
}

// reject is -j REJECT (ipt_reject_info / ip6t_reject_info, rev 0).
type reject struct{ with uint32 }

func parseReject(ctx Context, t syntax.Target) (Ext, error) {
	e := &reject{with: rejectDefault(ctx.Family)}
	for _, o := range t.Options {
		if o.Name != "reject-with" {
			return nil, unsupportedOption(t.Name, o.Name)
		}
		v, err := oneArg(t.Name, o)
		if err != nil {
			return nil, err
		}
		found := false
		for _, rt := range rejectTypes()[ctx.Family] {
			if v == rt.name {
				found = true
			}
			for _, a := range rt.aliases {
				found = found || v == a
			}
			if found {
				e.with = rt.with
				break
			}
		}
		if !found {
			return nil, paramErr("unknown reject type \"%s\"", v)
		}
	}
	return e, nil
}

func (e *reject) Name() string                          { return "REJECT" }
func (e *reject) Revision() (string, uint8, bool, bool) { return "REJECT", 0, true, true }

func (e *reject) Save(ctx Context) string {
	for _, rt := range rejectTypes()[ctx.Family] {
		if rt.with == e.with {
			return "-j REJECT --reject-with " + rt.name
		}
	}
	return "-j REJECT"
}

func (e *reject) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(4)
	b.u32(0, e.with)
	return []expr.Any{&expr.Target{Name: "REJECT", Info: rawInfo(b)}}, nil
}

func decodeRejectBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt target REJECT rev %d is not supported", rev)
	}
	if err := checkSize("REJECT", rev, data, 4); err != nil {
		return nil, err
	}
	e := &reject{with: blob(data).get32(0)}
	for _, rt := range rejectTypes()[ctx.Family] {
		if rt.with == e.with && blob(data).zero(4, len(data)-4) {
			return e, nil
		}
	}
	return nil, decodeErr("xt target REJECT: unknown reject type %d", e.with)
}
