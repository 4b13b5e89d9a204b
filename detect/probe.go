package detect

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/iptables-shim/iptables-shim/detect/nftquery"
	"github.com/iptables-shim/iptables-shim/detect/ruleset"
	"github.com/iptables-shim/iptables-shim/detect/xtables"
	"github.com/iptables-shim/iptables-shim/internal/nfnl"
	"github.com/iptables-shim/iptables-shim/shim/netfilter"
)

// DefaultCountLimit is where rule counting stops, so the count costs the
// same whatever the ruleset's size (a rule dump's cost grows with every
// rule; bench/detect measures it): past it, a backend clearly holds a
// ruleset, and two backends both past it tie. Both backends are capped alike so the comparison is fair.
const DefaultCountLimit = 100

// Query says what a probe should gather.
type Query struct {
	// Created are chains this shim created: never evidence, never counted.
	Created CreatedSet
	// Kubelet asks for the kubelet 1.13-1.16 chains (layer 3) as well as
	// the markers; detection only needs them when no marker decided, and in
	// legacy they cost a read of the nat and filter tables.
	Kubelet bool
	// Count asks for rule counts (implies Kubelet); detection only needs
	// them when no Kubernetes chain decided.
	Count bool
	// MaxTableBytes, when positive, makes the legacy prober skip tables
	// whose entries exceed it (IPT_SO_GET_INFO says so cheaply), bounding the
	// cost of re-validation on hosts with a big legacy ruleset.
	MaxTableBytes int
	// CountLimit caps counting (DefaultCountLimit when 0).
	CountLimit int
}

// Prober gathers one backend's evidence. Probes never create tables or chains
// and report failures inside the evidence.
type Prober interface {
	Mode() netfilter.Mode
	Probe(ctx context.Context, f netfilter.Family, q Query) FamilyEvidence
	// HasChain re-checks one chain, as cheaply as the backend allows.
	HasChain(ctx context.Context, f netfilter.Family, table, chain string) (bool, error)
}

// KernelProbers are the real probers: nf_tables first, then legacy.
func KernelProbers() []Prober { return []Prober{NFTProber{}, LegacyProber{}} }

// NFTProber asks nf_tables over netlink: one table listing, then one lookup
// per named chain, then (if asked) a rule count that stops at the limit.
type NFTProber struct {
	// Open, when set, replaces the kernel's nf_tables (tests give
	// internal/nfnl/fake's Opener).
	Open nfnl.Opener
}

// dial connects to the kernel's nf_tables, or to what Open opens.
func (p NFTProber) dial(ctx context.Context) (*nftquery.Conn, error) {
	if p.Open == nil {
		return nftquery.Dial(ctx)
	}
	tr, err := p.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", nftquery.ErrUnavailable, err)
	}
	return nftquery.New(tr), nil
}

// Mode is netfilter.NFT.
func (NFTProber) Mode() netfilter.Mode { return netfilter.NFT }

// Probe gathers nf_tables evidence for a family.
func (p NFTProber) Probe(ctx context.Context, f netfilter.Family, q Query) FamilyEvidence {
	fe := noEvidence(f)
	c, err := p.dial(ctx)
	if err != nil {
		return failed(fe, err)
	}
	defer c.Close()
	tables, err := c.Tables(f)
	if err != nil {
		return failed(fe, err)
	}
	if tables != nil {
		fe.Tables = tables
	}
	exists := func(ref ChainRef) bool {
		if !contains(tables, ref.Table) || q.Created.Has(netfilter.NFT, fe.Family, ref) {
			return false
		}
		ok, err := c.HasChain(f, ref.Table, ref.Chain)
		if err != nil {
			fe.Error = joinErr(fe.Error, err)
		}
		return ok
	}
	fe.Markers = collect(MarkerChains(), exists)
	if q.Kubelet || q.Count {
		fe.KubeletChains = collect(KubeletChains(), exists)
		fe.KubeletChecked = true
	}
	if q.Count {
		// A capped dump leaves the rest of the dump queued on the socket, so
		// the count gets a socket of its own.
		cc, err := p.dial(ctx)
		if err != nil {
			fe.Error = joinErr(fe.Error, err)
			return fe
		}
		defer cc.Close()
		fe.Rules, fe.Capped, err = cc.CountRules(f, q.limit(), func(table, chain string) bool {
			return q.Created.Has(netfilter.NFT, fe.Family, ChainRef{table, chain})
		})
		fe.Counted = err == nil
		if err != nil {
			fe.Error = joinErr(fe.Error, err)
		}
	}
	return fe
}

// HasChain is one netlink lookup.
func (p NFTProber) HasChain(ctx context.Context, f netfilter.Family, table, chain string) (bool, error) {
	c, err := p.dial(ctx)
	if err != nil {
		return false, err
	}
	defer c.Close()
	return c.HasChain(f, table, chain)
}

// LegacyProber reads x_tables: the tables names file, then the entries of the
// listed tables it needs (never one that is not listed).
type LegacyProber struct {
	// Kernel, when set, replaces the kernel's x_tables (tests give
	// detect/xtables/fake's).
	Kernel xtables.Kernel
}

// open reads the family's tables from the kernel, or from Kernel.
func (p LegacyProber) open(f netfilter.Family) (*xtables.Reader, error) {
	return xtables.OpenOn(p.Kernel, f)
}

// Mode is netfilter.Legacy.
func (LegacyProber) Mode() netfilter.Mode { return netfilter.Legacy }

// Probe gathers legacy evidence for a family.
func (p LegacyProber) Probe(ctx context.Context, f netfilter.Family, q Query) FamilyEvidence {
	fe := noEvidence(f)
	r, err := p.open(f)
	if err != nil {
		return failed(fe, err)
	}
	defer r.Close()
	fe.Tables = r.Tables()
	read := map[string]*ruleset.Table{}
	table := func(name string) *ruleset.Table {
		if t, ok := read[name]; ok {
			return t
		}
		if q.MaxTableBytes > 0 {
			if in, err := r.Info(name); err == nil && int(in.Size) > q.MaxTableBytes {
				read[name] = nil
				fe.Error = joinErr(fe.Error, fmt.Errorf("legacy %s table (%d bytes) not read: over the re-validation bound", name, in.Size))
				return nil
			}
		}
		t, err := r.Table(name)
		if err != nil {
			fe.Error = joinErr(fe.Error, err)
		}
		read[name] = t
		return t
	}
	exists := func(ref ChainRef) bool {
		if !r.Listed(ref.Table) || q.Created.Has(netfilter.Legacy, fe.Family, ref) {
			return false
		}
		t := table(ref.Table)
		if t == nil {
			return false
		}
		_, ok := t.Chain(ref.Chain)
		return ok
	}
	// Kubelet and kube-proxy create each canary in mangle, nat and filter
	// together, and mangle stays small, so markers are looked for there only.
	fe.Markers = collect(mangleOnly(MarkerChains()), exists)
	if q.Kubelet || q.Count {
		fe.KubeletChains = collect(KubeletChains(), exists)
		fe.KubeletChecked = true
	}
	if q.Count {
		fe.Counted = true
		for _, name := range fe.Tables {
			t := table(name)
			if t == nil {
				fe.Counted = false
				continue
			}
			for _, c := range t.Chains {
				if !q.Created.Has(netfilter.Legacy, fe.Family, ChainRef{name, c.Name}) {
					fe.Rules += c.Rules
				}
			}
		}
		if fe.Rules >= q.limit() {
			fe.Rules, fe.Capped = q.limit(), true
		}
	}
	return fe
}

// HasChain copies the one table the chain belongs to, if it is listed, and
// walks it for chain heads only.
func (p LegacyProber) HasChain(ctx context.Context, f netfilter.Family, table, chain string) (bool, error) {
	r, err := p.open(f)
	if err != nil {
		return false, err
	}
	defer r.Close()
	return r.HasChain(table, chain)
}

// Stamper is a Prober that can summarise one table's state far more cheaply
// than HasChain reads it. Equal stamps do not prove nothing changed (see
// xtables.Reader.Stamp); different stamps say something may have.
type Stamper interface {
	Stamp(ctx context.Context, f netfilter.Family, table string) (string, error)
}

// Stamp is the table's IPT_SO_GET_INFO summary: one small copy however big
// the table.
func (p LegacyProber) Stamp(ctx context.Context, f netfilter.Family, table string) (string, error) {
	r, err := p.open(f)
	if err != nil {
		return "", err
	}
	defer r.Close()
	return r.Stamp(table)
}

// RulesetStamper is a Prober that can summarise, far more cheaply than
// Probe gathers it, all that weak re-validation looks at (every family):
// a change that could add a Kubernetes chain changes the stamp, up to the
// blind spots each stamp documents.
type RulesetStamper interface {
	RulesetStamp(ctx context.Context) (string, error)
}

// RulesetStamp is nf_tables' generation id: every commit, in any family
// and table, moves it.
func (p NFTProber) RulesetStamp(ctx context.Context) (string, error) {
	c, err := p.dial(ctx)
	if err != nil {
		return "", err
	}
	defer c.Close()
	gen, err := c.GenID()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("gen=%d", gen), nil
}

// RulesetStamp is the IPT_SO_GET_INFO stamp (Reader.Stamp) of every listed
// table of both families: a few small copies, whatever the tables' size.
// A chain added or removed changes its table's entry count; a chain
// renamed to a name of the same length does not (Options.cached bounds
// how long that can go unseen).
func (p LegacyProber) RulesetStamp(ctx context.Context) (string, error) {
	var b strings.Builder
	for _, f := range Families() {
		r, err := p.open(f)
		if errors.Is(err, xtables.ErrUnavailable) {
			fmt.Fprintf(&b, "%s:unavailable;", FamilyName(f))
			continue
		}
		if err != nil {
			return "", err
		}
		for _, t := range r.Tables() {
			st, err := r.Stamp(t)
			if err != nil {
				r.Close()
				return "", err
			}
			fmt.Fprintf(&b, "%s/%s:%s;", FamilyName(f), t, st)
		}
		r.Close()
	}
	return b.String(), nil
}

func (q Query) limit() int {
	if q.CountLimit > 0 {
		return q.CountLimit
	}
	return DefaultCountLimit
}

// noEvidence is a family's evidence before a probe found anything (empty
// lists, not null, in the JSON document).
func noEvidence(f netfilter.Family) FamilyEvidence {
	return FamilyEvidence{Family: FamilyName(f), Tables: []string{}, Markers: []ChainRef{}, KubeletChains: []ChainRef{}}
}

func failed(fe FamilyEvidence, err error) FamilyEvidence {
	fe.Error = err.Error()
	// A permission error is no fact about the kernel: the subsystem may
	// well be there, this process may just not look.
	fe.Denied = errors.Is(err, os.ErrPermission)
	fe.Unavailable = IsUnavailable(err)
	return fe
}

func collect(refs []ChainRef, exists func(ChainRef) bool) []ChainRef {
	out := []ChainRef{}
	for _, r := range refs {
		if exists(r) {
			out = append(out, r)
		}
	}
	return out
}

func mangleOnly(refs []ChainRef) []ChainRef {
	var out []ChainRef
	for _, r := range refs {
		if r.Table == "mangle" {
			out = append(out, r)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func joinErr(prev string, err error) string {
	if prev == "" {
		return err.Error()
	}
	return fmt.Sprintf("%s; %v", prev, err)
}

// Gather probes every backend and family, and reads the host hints.
func Gather(ctx context.Context, probers []Prober, hostRoot string, q Query) Evidence {
	ev := Evidence{Hints: ReadHostHints(hostRoot)}
	for _, p := range probers {
		b := BackendEvidence{Mode: p.Mode()}
		for _, f := range Families() {
			b.Families = append(b.Families, p.Probe(ctx, f, q))
		}
		ev.Backends = append(ev.Backends, b)
	}
	return ev
}
