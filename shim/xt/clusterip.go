package xt

import (
	"fmt"
	"math"
	"strconv"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// This file holds the IPv4 CLUSTERIP target (Linux dropped its module in
// 6.3; a kernel without it refuses the rule on commit, see
// WarnsWhenMissing).

const (
	clusteripSize     = 64 // struct ipt_clusterip_tgt_info with its pointer
	clusteripFlagNew  = 1  // CLUSTERIP_FLAG_NEW
	clusteripMaxNodes = 16 // CLUSTERIP_MAX_NODES
)

// clusteripHashModes are the --hashmode names by enum clusterip_hashmode.
var clusteripHashModes = []string{"sourceip", "sourceip-sourceport", "sourceip-sourceport-destport"}

// clusteripTarget is -j CLUSTERIP, revision 0: either bare (flags 0) or
// --new with every option but --hash-init (libipt_CLUSTERIP's final check).
type clusteripTarget struct {
	isNew    bool
	mac      [6]byte
	total    uint16
	local    uint16
	hashMode uint32
	hashInit uint32
}

func parseClusterIP(ctx Context, t syntax.Target) (Ext, error) {
	if ctx.Family != syntax.IPv4 {
		return nil, unsupported("target", t.Name)
	}
	e := &clusteripTarget{}
	seen := map[string]bool{}
	for _, o := range t.Options {
		v := ""
		if o.Name != "new" {
			var err error
			if v, err = oneArg(t.Name, o); err != nil {
				return nil, err
			}
		}
		switch o.Name {
		case "new":
			if err := noArg(t.Name, o); err != nil {
				return nil, err
			}
			e.isNew = true
		case "hashmode":
			found := false
			for i, n := range clusteripHashModes {
				if v == n {
					e.hashMode, found = uint32(i), true
				}
			}
			if !found {
				return nil, paramErr("Unknown hashmode \"%s\"", v)
			}
		case "clustermac":
			mac, ok := parseColonMAC(v)
			if !ok {
				return nil, paramErr("Invalid MAC address specified.")
			}
			if mac[0]&1 == 0 {
				return nil, paramErr("MAC has to be a multicast ethernet address")
			}
			e.mac = mac
		case "total-nodes", "local-node":
			n, ok := cNumber(v, clusteripMaxNodes)
			if !ok {
				return nil, badRange(t.Name, o.Name, 0, clusteripMaxNodes)
			}
			if o.Name == "total-nodes" {
				e.total = uint16(n)
			} else {
				e.local = uint16(n)
			}
		case "hash-init":
			n, ok := cNumber(v, math.MaxUint32)
			if !ok {
				return nil, badRange(t.Name, o.Name, 0, math.MaxUint32)
			}
			e.hashInit = uint32(n)
		default:
			return nil, unsupportedOption(t.Name, o.Name)
		}
		seen[o.Name] = true
	}
	full := seen["new"] && seen["hashmode"] && seen["clustermac"] && seen["total-nodes"] && seen["local-node"]
	if len(seen) > 0 && !full {
		return nil, paramErr("CLUSTERIP target: Invalid parameter combination")
	}
	return e, nil
}

// parseColonMAC reads XX:XX:XX:XX:XX:XX (hex digits, either case).
func parseColonMAC(s string) (mac [6]byte, ok bool) {
	if len(s) != 17 {
		return mac, false
	}
	for i := range mac {
		if i > 0 && s[3*i-1] != ':' {
			return mac, false
		}
		n, err := strconv.ParseUint(s[3*i:3*i+2], 16, 8)
		if err != nil {
			return mac, false
		}
		mac[i] = byte(n)
	}
	return mac, true
}

func (e *clusteripTarget) Name() string                          { return "CLUSTERIP" }
func (e *clusteripTarget) Revision() (string, uint8, bool, bool) { return "CLUSTERIP", 0, true, true }
func (e *clusteripTarget) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(clusteripSize)
	if e.isNew {
		b.u32(0, clusteripFlagNew)
		copy(b[4:10], e.mac[:])
		b.u16(10, e.total)
		b.u16(12, 1) // num_local_nodes: --local-node is given
		b.u16(14, e.local)
		b.u32(48, e.hashMode)
		b.u32(52, e.hashInit)
	}
	return xtTarget("CLUSTERIP", 0, b), nil
}

func (e *clusteripTarget) macString() string {
	m := e.mac
	return fmt.Sprintf("%02X:%02X:%02X:%02X:%02X:%02X", m[0], m[1], m[2], m[3], m[4], m[5])
}

// Save prints as libipt_CLUSTERIP 1.8.9 does: nothing after the name
// unless --new.
func (e *clusteripTarget) Save(Context) string {
	if !e.isNew {
		return "-j CLUSTERIP"
	}
	return fmt.Sprintf("-j CLUSTERIP --new --hashmode %s --clustermac %s --total-nodes %d --local-node %d --hash-init %d",
		clusteripHashModes[e.hashMode], e.macString(), e.total, e.local, e.hashInit)
}

// List is -L's text (libipt_CLUSTERIP's print).
func (e *clusteripTarget) List(bool) string {
	if !e.isNew {
		return " CLUSTERIP"
	}
	return fmt.Sprintf(" CLUSTERIP hashmode=%s clustermac=%s total_nodes=%d local_node=%d hash_init=%d",
		clusteripHashModes[e.hashMode], e.macString(), e.total, e.local, e.hashInit)
}

func decodeClusterIPBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 || ctx.Family != syntax.IPv4 {
		return nil, decodeErr("xt target CLUSTERIP rev %d is not supported", rev)
	}
	if err := checkSize("CLUSTERIP", rev, data, clusteripSize); err != nil {
		return nil, err
	}
	b := blob(data)
	// Only the two forms libipt_CLUSTERIP writes: all zero, or --new with
	// one local node, a known hash mode and node numbers it accepts; the
	// config pointer (offset 56) is the kernel's.
	if b.zero(0, len(b)) {
		return &clusteripTarget{}, nil
	}
	e := &clusteripTarget{isNew: true, total: b.get16(10), local: b.get16(14), hashMode: b.get32(48), hashInit: b.get32(52)}
	copy(e.mac[:], b[4:10])
	if b.get32(0) != clusteripFlagNew || b.get16(12) != 1 || !b.zero(16, 32) || !b.zero(56, len(b)-56) ||
		e.hashMode >= uint32(len(clusteripHashModes)) || e.total > clusteripMaxNodes || e.local > clusteripMaxNodes || e.mac[0]&1 == 0 {
		return nil, decodeErr("xt target CLUSTERIP: unknown data")
	}
	return e, nil
}
