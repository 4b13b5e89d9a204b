package doctor

import (
	"cmp"
	"slices"

	"github.com/iptables-shim/iptables-shim/detect"
)

// createdChains lists the chains the guard recorded creating in this
// network namespace (detect.RecordCreated's file under cacheDir), with the
// reasons the call log gives. The file, not the log, says what was created
// here: one log may serve many namespaces.
func createdChains(cacheDir string, why map[detect.CreatedChain]string) ([]CreatedChain, error) {
	out := []CreatedChain{}
	set, err := detect.LoadCreated(cacheDir)
	if err != nil {
		return out, err
	}
	for c := range set {
		out = append(out, CreatedChain{Mode: c.Mode, Family: c.Family, Table: c.Table, Chain: c.Chain, Why: why[c]})
	}
	slices.SortFunc(out, func(a, b CreatedChain) int {
		return cmp.Or(cmp.Compare(a.Mode, b.Mode), cmp.Compare(a.Family, b.Family),
			cmp.Compare(a.Table, b.Table), cmp.Compare(a.Chain, b.Chain))
	})
	return out, nil
}

// markExisting sets Exists on the created chains still in the ruleset.
func markExisting(created []CreatedChain, inv Inventory) {
	for i, c := range created {
		_, created[i].Exists = findChain(inv.family(c.Mode, c.Family).Tables, c.Table, c.Chain)
	}
}

// createdSet is the created chains as a set, to tell them from chains
// kubelet made.
func createdSet(created []CreatedChain) detect.CreatedSet {
	s := detect.CreatedSet{}
	for _, c := range created {
		s[detect.CreatedChain{Mode: c.Mode, Family: c.Family, Table: c.Table, Chain: c.Chain}] = true
	}
	return s
}

// createdText is how a created chain reads for people.
func createdText(c CreatedChain) string {
	s := c.Chain + " in " + Label(c.Mode) + " " + c.Family + " " + c.Table
	if c.Why != "" {
		s += " (" + c.Why + ")"
	}
	if !c.Exists {
		s += "; no longer there"
	}
	return s
}
