package doctor

import (
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/shim/dialect"
)

// TestDialectFindings: an image iptables-nft that misreads the host's
// rules is a problem when the shim hands it every call (nft=exec), and a
// warning saying what the shim does instead otherwise.
func TestDialectFindings(t *testing.T) {
	skewed := func() *Report {
		host := dialect.Finding{Dialect: dialect.V189, Source: "rules"}
		dr := &DialectReport{Host: host, ImageVersion: "1.8.7", ImageDialect: dialect.V187}
		dr.Skew = dialect.Skew("1.8.7", dialect.V187, dialect.V189)
		dr.Unsafe = true
		return &Report{Dialect: dr}
	}
	want := "this image's iptables-nft 1.8.7 misreads the host's 1.8.9 rules: kube-proxy would rewrite KUBE-FIREWALL as drop-all (kubernetes#112477)"
	r := skewed()
	dialectFindings(r, "exec", true)
	if len(r.Problems) != 1 || r.Problems[0].Kind != KindDialectSkew || !strings.HasPrefix(r.Problems[0].Summary, want) {
		t.Errorf("nft=exec: problems %+v", r.Problems)
	}
	r = skewed()
	dialectFindings(r, "auto", true)
	if len(r.Problems) != 0 || len(r.Warnings) != 1 || !strings.HasPrefix(r.Warnings[0], want) || !strings.Contains(r.Warnings[0], "natively") {
		t.Errorf("nft=auto: problems %+v warnings %q", r.Problems, r.Warnings)
	}
	r = &Report{Dialect: &DialectReport{Host: dialect.Finding{Dialect: dialect.V189}, ImageVersion: "1.8.9", ImageDialect: dialect.V189}}
	dialectFindings(r, "exec", true)
	if len(r.Problems)+len(r.Warnings) != 0 {
		t.Errorf("no skew: problems %+v warnings %q", r.Problems, r.Warnings)
	}
	if got := dialect.Skew("1.8.9", dialect.V189, dialect.V187); !strings.Contains(got, "the host's iptables-nft 1.8.7 misreads what this image's 1.8.9 writes") {
		t.Errorf("reverse skew: %q", got)
	}
}
