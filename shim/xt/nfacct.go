package xt

import (
	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// nfacctNameLen is NFACCT_NAME_MAX: the accounting object's name and its
// NUL.
const nfacctNameLen = 32

// nfacctInfoLen is sizeof(struct xt_nfacct_match_info_v1): the name, then
// the kernel's pointer to the object, aligned to 8 bytes.
const nfacctInfoLen = nfacctNameLen + 8

// nfacct is the nfacct match (struct xt_nfacct_match_info_v1, revision 1,
// which is what iptables-nft 1.8.9 loads), always compat. It counts into
// an accounting object that must already exist (kube-proxy creates its
// counters over nfnetlink_acct before it writes the rules); the kernel
// refuses the rule with ENOENT otherwise, as it does for iptables-nft.
type nfacct struct{ name string }

func parseNFAcct(_ Context, m syntax.Match) (Ext, error) {
	var e *nfacct
	for _, o := range m.Options {
		if o.Name != "nfacct-name" {
			return nil, unsupportedOption(m.Name, o.Name)
		}
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		if err := noInvert(m.Name, o); err != nil {
			return nil, err
		}
		if v == "" {
			return nil, paramErr("Argument must have a minimum length of 1 characters\n")
		}
		// libxtables copies at most the field's size less its NUL: a
		// longer name is cut, and the kernel then finds no such object.
		if len(v) > nfacctNameLen-1 {
			v = v[:nfacctNameLen-1]
		}
		e = &nfacct{name: v}
	}
	if e == nil {
		return nil, mustSpecify(m.Name, "nfacct-name")
	}
	return e, nil
}

func (e *nfacct) Name() string                          { return "nfacct" }
func (e *nfacct) Revision() (string, uint8, bool, bool) { return "nfacct", 1, false, true }

// Save prints the name after two spaces, as libxt_nfacct 1.8.9 does: its
// option ends in a space, and xtables_save_string adds another (and
// quotes a name that needs it).
func (e *nfacct) Save(Context) string {
	return string(appendSaveString([]byte("-m nfacct --nfacct-name "), e.name))
}

func (e *nfacct) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(nfacctInfoLen)
	b.str(0, nfacctNameLen-1, e.name)
	return []expr.Any{&expr.Match{Name: "nfacct", Rev: 1, Info: rawInfo(b)}}, nil
}

// decodeNFAcct reads the info back. The kernel fills in its own pointer to
// the accounting object after the name (and may dump it); only the name
// is the rule's.
func decodeNFAcct(_ Context, rev uint32, data []byte) (Ext, error) {
	if rev != 1 {
		return nil, decodeErr("xt match nfacct rev %d is not supported", rev)
	}
	if err := checkSize("nfacct", rev, data, nfacctInfoLen); err != nil {
		return nil, err
	}
	s, ok := blob(data).getStr(0, nfacctNameLen)
	if !ok {
		return nil, decodeErr("xt match nfacct: name is not terminated")
	}
	return &nfacct{name: s}, nil
}
