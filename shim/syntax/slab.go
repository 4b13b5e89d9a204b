package syntax

// slab hands out the pieces of the parsed model from a few large arrays, so
// that a restore payload of 100,000 rules costs a few thousand allocations
// instead of millions. Every piece is cut with its capacity equal to its
// length: a caller appending to a Rule's Matches or an Option's Args gets a
// fresh array and never writes over a neighbour.
//
// A slab with chunk 0 allocates exactly what is reserved (one command
// line); a restore sets chunk so that many lines share one array: arrays
// double in size up to chunk elements, so that a payload of a few lines
// stays small.
type slab struct {
	chunk   int
	strs    []string
	options []Option
	matches []Match
	blocks  []commandBlock
	decls   []declBlock
}

// commandBlock holds everything a command line needs besides its match,
// option and argument lists, so that it is one allocation (or a slot in
// one).
type commandBlock struct {
	cmd    Command
	rule   Rule
	target Target
	ctr    Counters
}

// declBlock is a chain declaration with room for its counters.
type declBlock struct {
	decl ChainDecl
	ctr  Counters
}

// reserve makes room for n more elements in pool: when it has less, a new
// array replaces it (the old one stays with the pieces already cut from
// it), twice the size of the old one up to chunk elements, and never less
// than n.
func reserve[T any](pool *[]T, n, chunk int) {
	if cap(*pool)-len(*pool) < n {
		size := 0
		if chunk > 0 {
			size = min(max(2*cap(*pool), 16), chunk)
		}
		*pool = make([]T, 0, max(n, size))
	}
}

// take cuts n elements off pool; reserve must have made room for them
// (take reserves itself when it was not).
func take[T any](pool *[]T, n, chunk int) []T {
	reserve(pool, n, chunk)
	l := len(*pool)
	*pool = (*pool)[:l+n]
	return (*pool)[l : l+n : l+n]
}

// reserveArgs makes room for the option arguments of a command line of
// words tokens (at most one per token), so that a lone command line cuts
// them all from one array. Matches and options are cut once per rule, when
// their number is known.
func (s *slab) reserveArgs(words int) {
	reserve(&s.strs, words, s.chunk)
}

func (s *slab) block() *commandBlock { return &take(&s.blocks, 1, s.chunk/16)[0] }

func (s *slab) decl() *declBlock { return &take(&s.decls, 1, s.chunk/16)[0] }

// args returns a copy of words as an Option's Args (nil when empty, as
// appending nothing to a nil slice leaves it).
func (s *slab) args(words ...string) []string {
	if len(words) == 0 {
		return nil
	}
	a := take(&s.strs, len(words), s.chunk)
	copy(a, words)
	return a
}
