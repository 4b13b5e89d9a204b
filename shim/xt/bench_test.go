package xt

import (
	"testing"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// kubeRule is a typical kube-proxy service rule's extensions.
func kubeRule() (Context, []syntax.Match, syntax.Target) {
	ctx := Context{Family: syntax.IPv4, Table: "nat", Chain: "KUBE-SVC-X", Protocol: syntax.Field{Set: true, Value: "tcp"}}
	ms := []syntax.Match{
		{Name: "comment", Known: true, Options: []syntax.Option{{Name: "comment", Args: []string{"default/kubernetes:https"}}}},
		{Name: "tcp", Known: true, Options: []syntax.Option{{Name: "dport", Args: []string{"443"}}}},
		{Name: "statistic", Known: true, Options: []syntax.Option{{Name: "mode", Args: []string{"random"}}, {Name: "probability", Args: []string{"0.50000000000"}}}},
	}
	tg := syntax.Target{Name: "DNAT", Known: true, Options: []syntax.Option{{Name: "to-destination", Args: []string{"10.0.0.1:6443"}}}}
	return ctx, ms, tg
}

// BenchmarkEncodeKubeRule measures parse+encode of one kube-proxy rule's
// extensions (a 16k-rule restore does this 16k times).
func BenchmarkEncodeKubeRule(b *testing.B) {
	ctx, ms, tg := kubeRule()
	for b.Loop() {
		for _, m := range ms {
			e, err := ParseMatch(ctx, m)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := e.Exprs(ctx); err != nil {
				b.Fatal(err)
			}
		}
		e, err := ParseTarget(ctx, tg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.Exprs(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeSaveKubeRule measures decode+save of the same rule.
func BenchmarkDecodeSaveKubeRule(b *testing.B) {
	ctx, ms, tg := kubeRule()
	var exprs []expr.Any
	for _, m := range ms {
		e, _ := ParseMatch(ctx, m)
		x, _ := e.Exprs(ctx)
		exprs = append(exprs, x...)
	}
	t, _ := ParseTarget(ctx, tg)
	tx, _ := t.Exprs(ctx)
	for b.Loop() {
		for rest := exprs; len(rest) > 0; {
			e, n, err := DecodeMatch(ctx, rest)
			if err != nil {
				b.Fatal(err)
			}
			_ = e.Save(ctx)
			rest = rest[n:]
		}
		e, _, err := DecodeTarget(ctx, tx)
		if err != nil {
			b.Fatal(err)
		}
		_ = e.Save(ctx)
	}
}
