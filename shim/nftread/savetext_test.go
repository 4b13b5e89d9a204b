package nftread

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// TestSaveTextChainGroups renders several MiB of rules, as a table-wide
// dump delivers them (chain by chain, one chain coming back later), and
// checks that the pieces give every chain's rules in order across chunk
// boundaries, and the whole text in save's order.
func TestSaveTextChainGroups(t *testing.T) {
	out := &saveText{}
	out.buf = append(out.buf, "*nat\n"...)
	out.endPiece(&out.pieces)
	g := newChainGroups(out)
	want := map[string]*strings.Builder{}
	// A long rule now and then checks a rule larger than the chunk slack.
	long := strings.Repeat("x", 2*saveChunkSlack)
	for i := 0; i < 60000; i++ {
		chain := []string{"A", "B", "A", "C"}[i*4/60000]
		line := fmt.Sprintf("-A %s -m comment --comment rule%d", chain, i)
		if i%9999 == 0 {
			line += " " + long
		}
		g.next(chain)
		out.buf = append(append(out.buf, line...), '\n')
		if want[chain] == nil {
			want[chain] = &strings.Builder{}
		}
		want[chain].WriteString(line + "\n")
	}
	byChain := g.finish()
	for _, chain := range []string{"C", "A", "B"} {
		if got := string(bytes.Join(byChain[chain], nil)); got != want[chain].String() {
			t.Fatalf("chain %s: %d bytes, want %d", chain, len(got), want[chain].Len())
		}
		out.pieces = append(out.pieces, byChain[chain]...)
	}
	out.buf = append(out.buf, "COMMIT\n"...)
	out.endPiece(&out.pieces)
	var w bytes.Buffer
	if err := out.writeTo(&w); err != nil {
		t.Fatal(err)
	}
	wantAll := "*nat\n" + want["C"].String() + want["A"].String() + want["B"].String() + "COMMIT\n"
	if w.String() != wantAll {
		t.Errorf("written text differs: %d bytes, want %d", w.Len(), len(wantAll))
	}
	if len(out.pieces) < 4 {
		t.Errorf("only %d pieces: the chunks never filled", len(out.pieces))
	}
}
