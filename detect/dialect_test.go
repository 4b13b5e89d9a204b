package detect

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/iptables-shim/iptables-shim/shim/dialect"
)

// TestDialectRecordRoundTrip: the compact form reads back as written,
// free text with tabs, quotes and newlines included; a malformed body is
// an error, not a half-read record.
func TestDialectRecordRoundTrip(t *testing.T) {
	at := time.Unix(0, time.Now().UnixNano())
	r := DialectRecord{
		Families: map[string]dialect.Cached{
			FamilyIPv4: {
				Finding: dialect.Finding{Dialect: dialect.V189, Source: "rules", Why: "rules \"written\"\tby 1.8.9\n",
					Clues: []dialect.Clue{
						{Hint: dialect.AtLeast188, What: "filter KUBE-FIREWALL rule handle 2: meta mark", Rule: &dialect.RuleRef{Table: "filter", Chain: "KUBE FIREWALL\t", Handle: 2}},
						{What: "/host/var/lib/dpkg/status: iptables 1.8.11"},
					}},
				Basis: dialect.Basis{FromRules: true, Gen: 4294967295, HostFiles: "1:2:3:4 -", At: at},
			},
			FamilyIPv6: {Finding: dialect.Finding{Dialect: dialect.V1811, Source: "default"}, Basis: dialect.Basis{Gen: 7, At: at}},
		},
		Images: map[string]dialect.ImageVersion{"/usr/sbin/xtables-nft-multi": {Path: "/usr/sbin/xtables-nft-multi", Stamp: "5:6:7:8", Version: "1.8.7"}},
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got DialectRecord
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	for fam, c := range got.Families {
		if !c.Basis.At.Equal(r.Families[fam].Basis.At) {
			t.Errorf("%s: at %v, want %v", fam, c.Basis.At, r.Families[fam].Basis.At)
		}
		c.Basis.At = r.Families[fam].Basis.At
		got.Families[fam] = c
	}
	if !reflect.DeepEqual(got, r) {
		t.Errorf("round trip:\n got %+v\nwant %+v\n(%s)", got, r, data)
	}
	for _, bad := range []string{`"F\t\"ipv4\""`, `"C\t\"ipv4\"\t1\ttrue\t\"f\"\t\"c\"\t1\t\"w\""`, `"X"`, `{"families":{}}`} {
		var r DialectRecord
		if err := json.Unmarshal([]byte(bad), &r); err == nil {
			t.Errorf("%s read as %+v", bad, r)
		}
	}
}
