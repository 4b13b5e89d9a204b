package execbackend

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

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

// Exec replaces the shim with the binary (see Exec). When the shim has
// read the call's standard input already (a restore's payload, which the
// router and the guard look at), the bytes read become the binary's
// standard input (see placeInput), so the binary still replaces the shim
// instead of running as its child. When they cannot be placed, Exec
// returns a *backend.InputNotPlaced error with the process untouched, and the
// caller runs the binary as a child (Run) instead.
func (l *Located) Exec(c *backend.Call) error {
	if data, kept := c.KeptInput(); kept {
		if err := placeInput(data); err != nil {
			return &backend.InputNotPlaced{Err: err}
		}
	}
	return Exec(l.forCaller(c), c.Args, os.Environ())
}

// placeInput makes data the process's standard input (fd 0) for the
// binary about to replace it: an anonymous memory file (memfd) holding
// data, positioned at its start. The binary reads the same bytes the
// caller wrote, to their end, as it would have read them from the
// caller's pipe. Until fd 0 is replaced nothing is changed; an error
// then leaves the process as it was.
func placeInput(data []byte) error {
	fd, err := unix.MemfdCreate("iptables-shim-stdin", unix.MFD_CLOEXEC)
	if err != nil {
		return os.NewSyscallError("memfd_create", err)
	}
	defer unix.Close(fd)
	for rest := data; len(rest) > 0; {
		n, err := unix.Write(fd, rest)
		if err != nil {
			return os.NewSyscallError("write", err)
		}
		rest = rest[n:]
	}
	if _, err := unix.Seek(fd, 0, io.SeekStart); err != nil {
		return os.NewSyscallError("lseek", err)
	}
	// dup3 leaves the new descriptor without close-on-exec.
	return os.NewSyscallError("dup3", unix.Dup3(fd, 0, 0))
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
