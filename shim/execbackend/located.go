package execbackend

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/iptables-shim/iptables-shim/shim/backend"
)

// Located is the real binary found for one call, ready to run as a child
// (Run) or to replace the shim (Exec): the router's exec path.
type Located struct {
	Backend *Backend
	Binary  Binary
}

// Find locates the real binary of mode for c's program and family in dirs
// (backend-dirs; the default directories when empty).
func Find(dirs []string, mode backend.Mode, c *backend.Call) (*Located, error) {
	be := New(mode)
	be.Locate.Dirs = dirs
	bin, err := Locate(be.Locate, mode, c.Family, c.Tool)
	if err != nil {
		return nil, err
	}
	return &Located{Backend: be, Binary: bin}, nil
}

// Describe names the binary and the argv[0] it is run with, for the log.
func (l *Located) Describe() string {
	return fmt.Sprintf("exec %s (argv0 %s)", l.Binary.Path, l.Binary.Argv0)
}

// Run runs the binary as a child with c's arguments and streams.
func (l *Located) Run(ctx context.Context, c *backend.Call) error {
	return l.Backend.RunBinary(ctx, l.forCaller(c), c)
}

// TakesWait reports whether the binary, a restore, accepts -w (the guard
// asks before it passes a command's -w on to a restore of its own).
func (l *Located) TakesWait() bool { return TakesWait(l.Binary) }

// Exec replaces the shim with the binary (see Exec).
func (l *Located) Exec(c *backend.Call) error {
	return Exec(l.forCaller(c), c.Args, os.Environ())
}

// forCaller passes a multi-call backend the caller's own argv[0] (say
// /usr/sbin/iptables) when it names the same program, so messages that
// print argv[0] read exactly as without the shim.
func (l *Located) forCaller(c *backend.Call) Binary {
	bin := l.Binary
	if c.Argv0 != "" && filepath.Base(c.Argv0) == bin.Argv0 {
		bin.Argv0 = c.Argv0
	}
	return bin
}
