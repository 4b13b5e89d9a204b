package xt

import (
	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// commentLen is XT_MAX_COMMENT_LEN: the comment and its NUL.
const commentLen = 256

// comment is the comment match (struct xt_comment_info), always compat.
type comment struct{ text string }

func parseComment(ctx Context, m syntax.Match) (Ext, error) {
	var e *comment
	for _, o := range m.Options {
		if o.Name != "comment" {
			return nil, unsupportedOption(m.Name, o.Name)
		}
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		v = cutNUL(v)
		if err := noInvert(m.Name, o); err != nil {
			return nil, err
		}
		if len(v) > commentLen-1 {
			return nil, paramErr("comment: option \"--comment\" must be less than %d characters", commentLen-1)
		}
		e = &comment{text: v}
	}
	if e == nil {
		return nil, mustSpecify(m.Name, "comment")
	}
	return e, nil
}

func (e *comment) Name() string                          { return "comment" }
func (e *comment) Revision() (string, uint8, bool, bool) { return "comment", 0, false, true }
func (e *comment) Save(ctx Context) string               { return string(e.appendSave(nil, ctx)) }
func (e *comment) appendSave(dst []byte, _ Context) []byte {
	return appendSaveString(append(dst, "-m comment --comment"...), e.text)
}
func (e *comment) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(commentLen)
	b.str(0, commentLen, e.text)
	return []expr.Any{&expr.Match{Name: "comment", Info: rawInfo(b)}}, nil
}

func decodeComment(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match comment rev %d is not supported", rev)
	}
	if err := checkSize("comment", rev, data, commentLen); err != nil {
		return nil, err
	}
	s, ok := blob(data).getStr(0, commentLen)
	if !ok {
		return nil, decodeErr("xt match comment: comment is not terminated")
	}
	return &comment{text: s}, nil
}

// saveString renders a value as libxtables' xtables_save_string does,
// including the leading space: bare when it is only [A-Za-z0-9_-], else
// double-quoted with ", \ and ' escaped by a backslash.
func saveString(v string) string { return string(appendSaveString(nil, v)) }

// appendSaveString appends saveString(v) to dst.
func appendSaveString(dst []byte, v string) []byte {
	bare := v != ""
	for i := 0; i < len(v); i++ {
		if c := v[i]; !(c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			bare = false
			break
		}
	}
	dst = append(dst, ' ')
	if bare {
		return append(dst, v...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '"' || c == '\\' || c == '\'' {
			dst = append(dst, '\\')
		}
		dst = append(dst, v[i])
	}
	return append(dst, '"')
}
