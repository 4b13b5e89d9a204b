package detect

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/iptables-shim/iptables-shim/shim/dialect"
	"github.com/iptables-shim/iptables-shim/shim/netfilter"
)

// liteSamples are records as the shim writes them, and variations a hand
// or another version could leave behind.
func liteSamples(t testing.TB) [][]byte {
	at := time.Date(2026, 12, 6, 3, 4, 5, 123456789, time.UTC)
	ns := NetNS{Inode: 4026533841, Cookie: 1711212, Boot: "cc05c57e-e8b3-42c2-91a6-1bf006ea58b9"}
	var out [][]byte
	add := func(v any) {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, data)
		if data, err = json.MarshalIndent(v, "", "  "); err != nil {
			t.Fatal(err)
		}
		out = append(out, data)
	}
	decisions := []Decision{
		{Mode: netfilter.NFT, Reason: ReasonKubeletChains, Detail: "nf_tables ipv4 nat/KUBE-MARK-DROP exists in nf_tables <&>",
			Basis: &Basis{Mode: netfilter.NFT, Family: FamilyIPv4, Table: "nat", Chain: "KUBE-MARK-DROP"}, DecidedAt: at,
			Evidence: Evidence{Backends: []BackendEvidence{{Mode: netfilter.NFT}}}},
		{Mode: netfilter.Legacy, Reason: ReasonDefault, Detail: "tab\there \"quoted\" \\ é \u2028", Warnings: []string{"one", "two\nlines"}, Split: true, DecidedAt: at.In(time.FixedZone("x", 3600))},
		{Mode: netfilter.NFT, Reason: ReasonRuleCount},
	}
	for _, d := range decisions {
		add(cacheEntry{recordHeader: recordHeader{Version: recordVersion, NetNS: ns}, Policy: `default=nft wait=3s root="/"`, Decision: d})
		add(cacheEntry{recordHeader: recordHeader{Version: recordVersion, NetNS: ns}, Policy: "p", Decision: d, Proof: &proof{Stamp: "legacy ipv4 nat 1:2", CheckedAt: at}})
	}
	init := ns
	init.Cookie, init.Initial = 0, true
	add(cacheEntry{recordHeader: recordHeader{Version: recordVersion, NetNS: init}, Decision: decisions[0]})
	rec := DialectRecord{Families: map[string]dialect.Cached{FamilyIPv4: {
		Finding: dialect.Finding{Dialect: dialect.V189, Source: "rules", Why: "why\t\"x\"", Clues: []dialect.Clue{{Hint: dialect.AtLeast188, What: "w", Rule: &dialect.RuleRef{Table: "filter", Chain: "C", Handle: 5}}}},
		Basis:   dialect.Basis{FromRules: true, Gen: 5, At: at}}}}
	add(bodyRecord[DialectRecord]{recordHeader: recordHeader{Version: recordVersion, NetNS: ns}, Body: rec})
	add(bodyRecord[DialectRecord]{recordHeader: recordHeader{Version: recordVersion, NetNS: ns}})
	out = append(out,
		[]byte(`{"version":2,"netns":1,"cookie":2,"boot":"b","policy":"p","decision":{"mode":"nft","reason":"marker","detail":"\u00e9\/","basis":null,"split":false,"decided_at":"2026-12-06T03:04:05Z"},"proof":null}`),
		[]byte(`{"Version":2,"NETNS":1,"cookie":2,"cookie":3,"policy":"p","decision":{"mode":"nft","mode":"legacy"}}`),
		[]byte(`{"version":2.5,"netns":1}`),
		[]byte(`{"version":"2","netns":1}`),
		[]byte(`{"version":2,"netns":-1}`),
		[]byte(`{"version":2,"netns":1,"decision":{"warnings":["a",null]}}`),
		[]byte(`{"version":2,"netns":1,"decision":{"decided_at":"yesterday"}}`),
		[]byte(`{"version":2,"netns":1,"record":"F\t\"ipv4\""}`),
		[]byte(`{"version":2,"netns":01}`),
		[]byte(`{"version":2,"netns":1,"x":[1,2,{"y":1e5}],"decision":{"detail":"\ud83d\ude00"}}`),
		[]byte(`[1,2]`), []byte(`"s"`), []byte(`{"version":2,`), []byte("{\"boot\":\"\xff\"}"),
	)
	return out
}

// checkLite asserts that what the fast reader reads from data is exactly
// what encoding/json reads, whenever the fast reader does not give up.
func checkLite(t *testing.T, data []byte) {
	t.Helper()
	doc, err := parseJSON(data)
	if err != nil {
		if err != errJSONLite {
			t.Fatalf("parseJSON(%q): error %v, want errJSONLite", data, err)
		}
		return
	}
	if doc.kind != 'o' {
		return
	}
	{
		var fast leanEntry
		lean, err := parseJSON(data, fast.liteSkip()...)
		if err != nil {
			t.Fatalf("%q parses in full but not without the evidence: %v", data, err)
		}
		f := jsonFields{v: lean}
		fast.readLite(&f)
		var slow leanEntry
		jerr := json.Unmarshal(data, &slow)
		if f.err == nil {
			if jerr != nil {
				t.Errorf("%q: fast reader read a lean entry encoding/json refuses (%v)", data, jerr)
			} else if !sameLean(fast, slow) {
				t.Errorf("%q: lean entry\nfast %+v\njson %+v", data, fast, slow)
			}
		}
	}
	{
		var fast bodyRecord[DialectRecord]
		f := jsonFields{v: doc}
		fast.readLite(&f)
		var slow bodyRecord[DialectRecord]
		jerr := json.Unmarshal(data, &slow)
		if f.err == nil {
			if jerr != nil {
				t.Errorf("%q: fast reader read a dialect record encoding/json refuses (%v)", data, jerr)
			} else if !reflect.DeepEqual(normDialect(fast.Body), normDialect(slow.Body)) || fast.recordHeader != slow.recordHeader {
				t.Errorf("%q: dialect record\nfast %+v\njson %+v", data, fast, slow)
			}
		}
	}
}

func sameLean(a, b leanEntry) bool {
	if !a.Decision.DecidedAt.Equal(b.Decision.DecidedAt) {
		return false
	}
	a.Decision.DecidedAt, b.Decision.DecidedAt = time.Time{}, time.Time{}
	if (a.Proof == nil) != (b.Proof == nil) {
		return false
	}
	if a.Proof != nil {
		if !a.Proof.CheckedAt.Equal(b.Proof.CheckedAt) || a.Proof.Stamp != b.Proof.Stamp {
			return false
		}
		a.Proof, b.Proof = nil, nil
	}
	if len(a.Decision.Warnings) == 0 && len(b.Decision.Warnings) == 0 {
		a.Decision.Warnings, b.Decision.Warnings = nil, nil
	}
	return reflect.DeepEqual(a, b)
}

func normDialect(r DialectRecord) DialectRecord {
	for k, c := range r.Families {
		c.Basis.At = c.Basis.At.UTC()
		r.Families[k] = c
	}
	return r
}

// TestLiteReaderAgreesWithEncodingJSON: the hot readers' fast path reads
// the records the shim writes (and odd ones) exactly as encoding/json does,
// and gives up on what it cannot read that way.
func TestLiteReaderAgreesWithEncodingJSON(t *testing.T) {
	samples := liteSamples(t)
	read := 0
	for _, data := range samples {
		checkLite(t, data)
		if doc, err := parseJSON(data, "evidence"); err == nil && doc.kind == 'o' {
			var e leanEntry
			f := jsonFields{v: doc}
			e.readLite(&f)
			if f.err == nil {
				read++
			}
		}
	}
	// Every record the shim writes takes the fast path.
	if read < 14 {
		t.Errorf("the fast reader read %d of the %d samples, want at least the shim's own 14", read, len(samples))
	}
}

// TestLeanReadTakesTheFastPath: readCache's lean read of a decision the
// shim wrote gives the decision written.
func TestLeanReadTakesTheFastPath(t *testing.T) {
	me, err := CurrentNetNS()
	if err != nil {
		t.Skipf("no namespace identity here: %v", err)
	}
	path := cachePath(t.TempDir(), me)
	d := Decision{Mode: netfilter.NFT, Reason: ReasonKubeletChains, Detail: "x", DecidedAt: time.Now().UTC(),
		Basis: &Basis{Mode: netfilter.NFT, Family: FamilyIPv4, Table: "nat", Chain: "KUBE-MARK-DROP"}}
	p := &proof{Stamp: "s", CheckedAt: time.Now().UTC()}
	if err := writeCache(path, me, "policy", d, p); err != nil {
		t.Fatal(err)
	}
	data, _, err := readSmallFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := parseJSON(data, "evidence")
	if err != nil {
		t.Fatalf("the fast reader cannot parse the shim's own cache file: %v", err)
	}
	var e leanEntry
	f := jsonFields{v: doc}
	if e.readLite(&f); f.err != nil {
		t.Fatalf("the fast reader gave up on the shim's own cache file")
	}
	got, gp, ok := readCache(path, me, "policy", true)
	if !ok || got.Mode != d.Mode || got.Reason != d.Reason || *got.Basis != *d.Basis || !got.DecidedAt.Equal(d.DecidedAt) || gp == nil || gp.Stamp != "s" || !gp.CheckedAt.Equal(p.CheckedAt) {
		t.Errorf("lean read: %+v %+v %v", got, gp, ok)
	}
}

// FuzzLiteReader: the fast reader never panics, and whatever it reads is
// what encoding/json reads.
func FuzzLiteReader(f *testing.F) {
	for _, s := range liteSamples(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkLite(t, data)
	})
}

// TestPrintableASCII: the word-at-a-time check agrees with the byte loop.
func TestPrintableASCII(t *testing.T) {
	slow := func(b []byte) bool {
		for _, c := range b {
			if c < 0x20 || c >= 0x80 {
				return false
			}
		}
		return true
	}
	var b []byte
	for n := 0; n < 20; n++ {
		for _, c := range []byte{0, 0x1f, 0x20, 0x21, 0x7e, 0x7f, 0x80, 0xff, 'a'} {
			for pos := 0; pos <= n; pos++ {
				b = b[:0]
				for i := 0; i <= n; i++ {
					if i == pos {
						b = append(b, c)
					} else {
						b = append(b, 'x')
					}
				}
				if got, want := printableASCII(b), slow(b); got != want {
					t.Errorf("printableASCII(%q) = %v, want %v", b, got, want)
				}
			}
		}
	}
}
