package xt

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/nftables/expr"
	nfxt "github.com/google/nftables/xt"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// FuzzDecodeBlob feeds arbitrary info blobs to every match and target
// decoder: they must refuse or decode, never panic, and what they decode
// must encode and save without error.
func FuzzDecodeBlob(f *testing.F) {
	names := fuzzBlobNames()
	for i := range names {
		for _, size := range []int{0, 8, 16, 24, 48, 168, 232, 256} {
			f.Add(uint8(i), uint8(0), false, make([]byte, size))
		}
	}
	for _, a := range goldenBlobs(f) {
		f.Add(a.which, a.rev, a.v6, a.data)
	}
	f.Fuzz(func(t *testing.T, which, rev uint8, v6 bool, data []byte) {
		name := names[int(which)%len(names)]
		ctx := Context{Family: syntax.IPv4, Protocol: syntax.Field{Set: true, Value: "tcp"}}
		if v6 {
			ctx.Family = syntax.IPv6
		}
		ctx.IPSets = fakeIPSets{ctx.Family}
		// The kernel only accepts the udp and sctp matches in rules for
		// their protocol.
		if name == "m:udp" || name == "m:sctp" {
			ctx.Protocol.Value = name[2:]
		}
		var e expr.Any
		if name[0] == 'm' {
			e = &expr.Match{Name: name[2:], Rev: uint32(rev % 5), Info: rawInfo(data)}
		} else {
			e = &expr.Target{Name: name[2:], Rev: uint32(rev % 5), Info: rawInfo(data)}
		}
		var ext Ext
		var err error
		if name[0] == 'm' {
			ext, _, err = DecodeMatch(ctx, []expr.Any{e})
		} else {
			ext, _, err = DecodeTarget(ctx, []expr.Any{e})
		}
		if err != nil {
			return
		}
		save := ext.Save(ctx)
		again, err := ext.Exprs(ctx)
		if err != nil {
			t.Fatalf("%s decoded but does not encode: %v", name, err)
		}
		// What we write back must read as the same rule.
		var ext2 Ext
		if name[0] == 'm' {
			ext2, _, err = DecodeMatch(ctx, again)
		} else {
			ext2, _, err = DecodeTarget(ctx, again)
		}
		if err != nil {
			t.Fatalf("%s: re-encoded %q does not decode: %v", name, save, err)
		}
		if s2 := ext2.Save(ctx); s2 != save && !quirkyRoundTrip(ext) {
			t.Fatalf("%s: decoded %q, re-encoded reads %q", name, save, s2)
		}
	})
}

// fuzzBlobNames lists the decoders FuzzDecodeBlob picks from ("m:tcp",
// "t:MARK", ...), sorted so corpus entries keep their meaning.
func fuzzBlobNames() []string {
	var names []string
	for n := range compatMatchDecoders() {
		names = append(names, "m:"+n)
	}
	for n := range targetDecoders() {
		names = append(names, "t:"+n)
	}
	sort.Strings(names)
	return names
}

// goldenBlobs returns every xt blob of the goldens as FuzzDecodeBlob
// arguments.
func goldenBlobs(t testing.TB) []fuzzBlobArgs {
	t.Helper()
	names := fuzzBlobNames()
	var out []fuzzBlobArgs
	for _, c := range loadCases(t) {
		g := readGolden(t, c)
		for _, e := range g.Exprs {
			var kind, name string
			var rev uint32
			var info []byte
			switch x := e.Parsed.(type) {
			case *expr.Match:
				kind, name, rev, info = "m:", x.Name, x.Rev, []byte(*x.Info.(*nfxt.Unknown))
			case *expr.Target:
				kind, name, rev, info = "t:", x.Name, x.Rev, []byte(*x.Info.(*nfxt.Unknown))
			default:
				continue
			}
			idx := sort.SearchStrings(names, kind+name)
			if idx == len(names) || names[idx] != kind+name {
				t.Fatalf("%s: no decoder for %s%s", c, kind, name)
			}
			out = append(out, fuzzBlobArgs{uint8(idx), uint8(rev), c.Family == syntax.IPv6, info})
		}
	}
	return out
}

type fuzzBlobArgs struct {
	which, rev uint8
	v6         bool
	data       []byte
}

// TestFuzzCorpus checks that testdata/fuzz holds the goldens' blobs as
// FuzzDecodeBlob's seed corpus, and with -update writes them (FuzzDecodeBlob
// also seeds itself from the goldens at run time, so a stale corpus loses
// nothing). Entries the fuzzer added (regressions) stay.
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecodeBlob")
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	missing := 0
	for _, a := range goldenBlobs(t) {
		body := fmt.Sprintf("go test fuzz v1\nuint8(%d)\nuint8(%d)\nbool(%v)\n[]byte(%q)\n", a.which, a.rev, a.v6, a.data)
		sum := sha256.Sum256([]byte(body))
		path := filepath.Join(dir, hex.EncodeToString(sum[:8]))
		if *update {
			if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := os.Stat(path); err != nil {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d golden blobs are not in %s (regenerate with -update)", missing, dir)
	}
}

// FuzzDecodeNative feeds arbitrary native tests (payload/meta/cmp/range
// values) to the native decoders.
func FuzzDecodeNative(f *testing.F) {
	f.Add(uint32(2), uint32(2), uint8(0), []byte{0, 80}, []byte{0, 90}, false)
	f.Add(uint32(13), uint32(1), uint8(1), []byte{0x17}, []byte{0x02}, true)
	f.Fuzz(func(t *testing.T, off, n uint32, op uint8, a, b []byte, mark bool) {
		ctx := Context{Family: syntax.IPv4, Protocol: syntax.Field{Set: true, Value: "udp"}}
		var exprs []expr.Any
		if mark {
			exprs = []expr.Any{&expr.Meta{Key: expr.MetaKeyMARK, Register: 1}, maskReg(a), cmpReg(expr.CmpOp(op%6), b)}
		} else {
			exprs = []expr.Any{loadTransport(off%16, n%5), cmpReg(expr.CmpOp(op%6), a),
				loadTransport(2, 2), &expr.Range{Op: expr.CmpOp(op % 2), Register: 1, FromData: a, ToData: b}}
		}
		ext, used, err := DecodeMatch(ctx, exprs)
		if err != nil {
			return
		}
		if used <= 0 || used > len(exprs) {
			t.Fatalf("consumed %d of %d", used, len(exprs))
		}
		save := ext.Save(ctx)
		again, err := ext.Exprs(ctx)
		if err != nil {
			t.Fatalf("%q decoded but does not encode: %v", save, err)
		}
		ext2, _, err := DecodeMatch(ctx, again)
		if err != nil || ext2.Save(ctx) != save {
			t.Fatalf("%q re-encoded does not read back the same: %v", save, err)
		}
	})
}

// quirkyRoundTrip reports the one form iptables-nft 1.8.9 itself reads back
// differently from how it was given: "! --dport 0:N" is written as
// "> N" and read as "N+1:65535" (equivalent, not identical).
func quirkyRoundTrip(e Ext) bool {
	t, ok := e.(*tcpUDP)
	if !ok || t.compat() || t.fromBlob {
		return false
	}
	return t.invflags&invSrcPort != 0 && t.spts.Min == 0 && !t.spts.single() && !t.spts.full() ||
		t.invflags&invDstPort != 0 && t.dpts.Min == 0 && !t.dpts.single() && !t.dpts.full()
}
