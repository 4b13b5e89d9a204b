package nftread

import (
	"bytes"

	"github.com/google/nftables/expr"
	nfxt "github.com/google/nftables/xt"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
	"github.com/iptables-shim/iptables-shim/shim/xt"
)

// Semantic rule comparison for -C and -D. iptables-nft does not compare
// expressions: it turns the kernel's rule and the command's rule into its
// own rule structure (base fields, each match and target as an xt blob,
// native forms parsed into the blob they stand for) and compares those. So
// a 1.8.9 iptables finds the rule 1.8.7 wrote as an xt tcp match when asked
// for "-p tcp --dport 80", which it itself would write as payload and cmp.
// The shim does the same: a dumped rule equal expression by expression is
// found at once; otherwise both are decoded to iptables terms and compared
// there: base fields, then each match and the target, two compat (xt) forms
// of the same extension by their blobs byte for byte (as iptables compares
// them, which tells apart rules whose save text is equal, like recent's
// padded names), anything else by the save text the extension decodes to.

// SemRule is a rule decoded for comparison (DecodeSem).
type SemRule struct {
	base    baseFields
	matches []semExt
	verdict *expr.Verdict
	target  *semExt
}

// semExt is one decoded match or target: its save text and, for a compat
// form, the xt expression it came from.
type semExt struct {
	text   string
	compat *xtForm
}

// xtForm is a compat expression's identity: name, revision, blob.
type xtForm struct {
	name string
	rev  uint32
	info []byte
}

// xtFormOf returns the compat identity of a match or target expression,
// or nil for a native expression (or an xt info not kept raw, which is then
// compared by its text).
func xtFormOf(e expr.Any) *xtForm {
	switch e := e.(type) {
	case *expr.Match:
		if u, ok := e.Info.(*nfxt.Unknown); ok {
			return &xtForm{name: e.Name, rev: e.Rev, info: *u}
		}
	case *expr.Target:
		if u, ok := e.Info.(*nfxt.Unknown); ok {
			return &xtForm{name: e.Name, rev: e.Rev, info: *u}
		}
	}
	return nil
}

// DecodeSem decodes a rule's expressions for comparison; ok is false when
// any part of it is not understood (such a rule equals only itself,
// expression by expression).
func DecodeSem(env *RenderEnv, chain string, es []expr.Any) (SemRule, bool) {
	return DecodeSemComment(env, chain, es, "")
}

// DecodeSemComment is DecodeSem for a rule whose user data holds comment
// (nft's "comment ..."), which iptables-nft 1.8.9 counts as a -m comment
// after the other matches.
func DecodeSemComment(env *RenderEnv, chain string, es []expr.Any, comment string) (SemRule, bool) {
	var s SemRule
	bf, n, err := DecodeBase(env, es)
	if err != nil {
		return s, false
	}
	s.base = bf
	es = es[n:]
	ctx := xt.Context{Family: env.Fam, Table: env.Table, Chain: chain, Protocol: bf.Proto, IPSets: env.IPSets}
	var exts []xt.Ext
	var forms []*xtForm
	for len(es) > 0 {
		if _, ok := es[0].(*expr.Counter); ok {
			es = es[1:]
			break
		}
		if _, ok := es[0].(*expr.Log); ok || isVerdict(es[0]) {
			break
		}
		ext, k, err := xt.DecodeMatch(ctx, es)
		if err != nil || k == 0 {
			return s, false
		}
		var form *xtForm
		if k == 1 {
			form = xtFormOf(es[0])
		}
		exts, forms = append(exts, ext), append(forms, form)
		es = es[k:]
	}
	folded := xt.FoldMatches(exts)
	for i, e := range folded {
		m := semExt{text: string(xt.AppendSave(nil, e, ctx))}
		if len(folded) == len(exts) {
			m.compat = forms[i]
		}
		s.matches = append(s.matches, m)
	}
	if comment != "" {
		c, err := xt.ParseMatch(ctx, syntax.Match{Name: "comment", Known: true,
			Options: []syntax.Option{{Name: "comment", Args: []string{comment}}}})
		if err != nil {
			return s, false
		}
		s.matches = append(s.matches, semExt{text: string(xt.AppendSave(nil, c, ctx))})
	}
	if len(es) > 0 {
		if vd, ok := es[0].(*expr.Verdict); ok {
			s.verdict = vd
			es = es[1:]
		} else {
			ext, k, err := xt.DecodeTarget(ctx, es)
			if err != nil || k == 0 {
				return s, false
			}
			t := semExt{text: string(xt.AppendSave(nil, ext, ctx))}
			if k == 1 {
				t.compat = xtFormOf(es[0])
			}
			s.target = &t
			es = es[k:]
		}
	}
	return s, len(es) == 0
}

// SameTarget is the cheap first test: the rules end in the same verdict or
// the same target extension. Most rules of a chain that is searched differ
// here, before anything is decoded.
func SameTarget(a, b []expr.Any) bool {
	last := func(es []expr.Any) expr.Any {
		if len(es) == 0 {
			return nil
		}
		return es[len(es)-1]
	}
	switch x := last(a).(type) {
	case *expr.Log:
		// NFLOG, which iptables-nft writes natively.
		_, ok := last(b).(*expr.Log)
		return ok
	case *expr.Verdict:
		y, ok := last(b).(*expr.Verdict)
		return ok && x.Kind == y.Kind && x.Chain == y.Chain
	case *expr.Target:
		y, ok := last(b).(*expr.Target)
		return ok && x.Name == y.Name
	}
	// No target: iptables-nft ends such a rule with its counter, nft
	// with the last match.
	switch last(b).(type) {
	case *expr.Verdict, *expr.Target, *expr.Log:
		return false
	}
	return true
}

// Equal compares two decoded rules as iptables-nft compares its rule
// structures.
func (s *SemRule) Equal(o *SemRule) bool {
	if !sameField(s.base, o.base) || len(s.matches) != len(o.matches) {
		return false
	}
	for i := range s.matches {
		if !s.matches[i].equal(&o.matches[i]) {
			return false
		}
	}
	switch {
	case s.verdict != nil || o.verdict != nil:
		return s.verdict != nil && o.verdict != nil && s.verdict.Kind == o.verdict.Kind && s.verdict.Chain == o.verdict.Chain
	case s.target != nil || o.target != nil:
		return s.target != nil && o.target != nil && s.target.equal(o.target)
	}
	return true
}

// equal compares two extensions: blobs when both are compat forms of one
// extension, save text otherwise.
func (e *semExt) equal(o *semExt) bool {
	if e.compat != nil && o.compat != nil && e.compat.name == o.compat.name {
		return e.compat.rev == o.compat.rev && bytes.Equal(e.compat.info, o.compat.info)
	}
	return e.text == o.text
}

// sameField compares base fields; the protocol by number (its name depends
// on who prints it).
func sameField(a, b baseFields) bool {
	if a.Proto.Set != b.Proto.Set || a.Proto.Invert != b.Proto.Invert || a.protoNum != b.protoNum {
		return false
	}
	a.Proto = b.Proto
	a.protoNum = b.protoNum
	return a == b
}

// SameBase is the second cheap test: the rule's base fields (-s -d -i -o
// -p -f) are the candidate's. It decodes the leading expressions only.
func SameBase(env *RenderEnv, es []expr.Any, want *SemRule) bool {
	bf, _, err := DecodeBase(env, es)
	return err == nil && sameField(bf, want.base)
}
