package xt

import (
	"fmt"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// struct xt_cluster_match_info: total_nodes, node_mask, hash_seed, flags
// (u32 each).
const (
	clusterInv      = 0x1 // XT_CLUSTER_F_INV
	clusterNodesMax = 32  // XT_CLUSTER_NODES_MAX
)

// cluster is -m cluster. Save always prints the node mask, whether the
// rule was given --cluster-local-node or --cluster-local-nodemask.
type cluster struct {
	total, mask, seed, flags uint32
}

func parseCluster(ctx Context, m syntax.Match) (Ext, error) {
	e := &cluster{}
	var haveTotal, haveNode, haveMask, haveSeed bool
	for _, o := range m.Options {
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		max := uint64(clusterNodesMax)
		if o.Name == "cluster-hash-seed" {
			max = 0xffffffff
		}
		n, ok := cNumber(v, max)
		if !ok || max == clusterNodesMax && n < 1 {
			min := uint64(1)
			if max != clusterNodesMax {
				min = 0
			}
			return nil, badRange(m.Name, o.Name, min, max)
		}
		switch o.Name {
		case "cluster-total-nodes":
			e.total, haveTotal = uint32(n), true
		case "cluster-local-node":
			e.mask, haveNode = 1<<(n-1), true
		case "cluster-local-nodemask":
			e.mask, haveMask = uint32(n), true
		case "cluster-hash-seed":
			e.seed, haveSeed = uint32(n), true
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
		if o.Invert {
			e.flags |= clusterInv
		}
	}
	// libxt_cluster's final check runs before libxtables' check of the
	// mandatory options.
	switch {
	case haveTotal && haveNode && haveSeed:
		if uint64(e.mask) >= 1<<e.total {
			return nil, paramErr("cluster match: `--cluster-local-node' must be <= `--cluster-total-nodes'")
		}
	case haveTotal && haveMask && haveSeed:
		if uint64(e.mask) >= 1<<e.total {
			return nil, paramErr("cluster match: `--cluster-local-nodemask' too big for `--cluster-total-nodes'")
		}
	case !haveNode && !haveMask:
		return nil, paramErr("cluster match: `--cluster-local-node' or`--cluster-local-nodemask' is missing")
	}
	// libxtables' final check, in the option table's order.
	if !haveTotal {
		return nil, mustSpecify(m.Name, "cluster-total-nodes")
	}
	if haveNode && haveMask {
		return nil, notTogether(m.Name, "cluster-local-node", "cluster-local-nodemask")
	}
	if !haveSeed {
		return nil, mustSpecify(m.Name, "cluster-hash-seed")
	}
	return e, nil
}

func (e *cluster) Name() string                          { return "cluster" }
func (e *cluster) Revision() (string, uint8, bool, bool) { return "cluster", 0, false, true }

func (e *cluster) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(16)
	b.u32(0, e.total)
	b.u32(4, e.mask)
	b.u32(8, e.seed)
	b.u32(12, e.flags)
	return xtMatch("cluster", 0, b), nil
}

func (e *cluster) Save(Context) string {
	return fmt.Sprintf("-m cluster %s--cluster-local-nodemask 0x%08x --cluster-total-nodes %d --cluster-hash-seed 0x%08x",
		invertSave(e.flags&clusterInv != 0), e.mask, e.total, e.seed)
}

// List prints "cluster !node_mask=0x00000002 total_nodes=2 hash_seed=0x...".
func (e *cluster) List(bool) string {
	return fmt.Sprintf(" cluster %snode_mask=0x%08x total_nodes=%d hash_seed=0x%08x", bang(e.flags&clusterInv != 0), e.mask, e.total, e.seed)
}

func decodeClusterBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match cluster rev %d is not supported", rev)
	}
	if err := checkSize("cluster", rev, data, 16); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &cluster{total: b.get32(0), mask: b.get32(4), seed: b.get32(8), flags: b.get32(12)}
	if e.flags&^clusterInv != 0 {
		return nil, decodeErr("xt match cluster: flags %#x", e.flags)
	}
	return e, nil
}
