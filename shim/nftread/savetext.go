package nftread

import (
	"bufio"
	"io"
)

// saveText is save's output: pieces in output order, rendered into large
// chunks, so that the megabytes of a big ruleset are never copied to grow
// one buffer, and the rules of a table-wide dump (which come in kernel
// order) can be put in save's chain order without copying them again.
type saveText struct {
	pieces [][]byte
	// buf is the chunk being filled; the open piece is buf[start:].
	buf   []byte
	start int
	// undecoded names the rules left out because they could not be
	// decoded.
	undecoded []error
	// warnings are the stderr lines printing the rules gave (xt.Warner).
	warnings []string
}

const (
	// saveChunk is the size of one chunk of rendered text.
	saveChunk = 1 << 20
	// saveChunkSlack is the room below which a chunk counts as full: a
	// rule longer than that still fits, by append moving the open piece.
	saveChunkSlack = 16 << 10
	// saveWriteBuffer gathers the small pieces of a save.
	saveWriteBuffer = 64 << 10
)

// endPiece closes the open piece, adds it to *to, and starts a new chunk
// when the current one is nearly full.
func (t *saveText) endPiece(to *[][]byte) {
	if len(t.buf) > t.start {
		*to = append(*to, t.buf[t.start:len(t.buf):len(t.buf)])
	}
	t.start = len(t.buf)
	if cap(t.buf)-len(t.buf) < saveChunkSlack {
		t.buf = make([]byte, 0, saveChunk)
		t.start = 0
	}
}

// full reports whether the chunk should be closed before the next rule.
func (t *saveText) full() bool { return cap(t.buf)-len(t.buf) < saveChunkSlack }

// writeTo writes the pieces through one buffer: small pieces are gathered,
// larger ones (most are nearly a chunk) go straight through, uncopied.
func (t *saveText) writeTo(w io.Writer) error {
	bw := bufio.NewWriterSize(w, saveWriteBuffer)
	for _, p := range t.pieces {
		if _, err := bw.Write(p); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// chainGroups sorts the rules of a table-wide dump, rendered into a
// saveText, by chain: the kernel sends a table's rules chain by chain in
// its own chain order, save prints them in iptables' order.
type chainGroups struct {
	out     *saveText
	byChain map[string][][]byte
	cur     string
	pieces  [][]byte // of cur, closed so far
}

func newChainGroups(out *saveText) *chainGroups {
	return &chainGroups{out: out, byChain: map[string][][]byte{}}
}

// next is called before each rule is rendered, with its chain.
func (g *chainGroups) next(chain string) {
	switch {
	case chain != g.cur:
		g.flush()
		g.cur = chain
	case g.out.full():
		g.out.endPiece(&g.pieces)
	}
}

// flush files the current chain's text under its name.
func (g *chainGroups) flush() {
	g.out.endPiece(&g.pieces)
	if len(g.pieces) > 0 {
		g.byChain[g.cur] = append(g.byChain[g.cur], g.pieces...)
	}
	g.pieces = g.pieces[:0]
}

// finish returns each chain's pieces, in the order they were rendered.
func (g *chainGroups) finish() map[string][][]byte {
	g.flush()
	return g.byChain
}
