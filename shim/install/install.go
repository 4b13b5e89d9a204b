package install

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// AltMode says what to do where an alternatives system manages a name.
type AltMode int

const (
	// AltAuto registers with alternatives where a name is managed by it and
	// a tool is installed, and otherwise replaces the link.
	AltAuto AltMode = iota
	// AltYes requires registering with alternatives for managed names; it
	// fails when no alternatives tool is installed.
	AltYes
	// AltNo never uses alternatives: managed links are replaced by plain
	// links (an alternatives run or a package update may put them back).
	AltNo
)

// ParseAltMode parses the --alternatives value.
func ParseAltMode(s string) (AltMode, error) {
	switch s {
	case "auto":
		return AltAuto, nil
	case "yes":
		return AltYes, nil
	case "no":
		return AltNo, nil
	}
	return AltAuto, fmt.Errorf("invalid --alternatives value %q (want auto, yes or no)", s)
}

// Options is one install run.
type Options struct {
	// Shim is the absolute path of the shim binary inside Root.
	Shim string
	// Dest is the absolute directory, inside Root, that gets the six names.
	Dest string
	// Alternatives says how alternatives-managed names are handled.
	Alternatives AltMode
	// Repair is the mode for a timer or package trigger after an iptables
	// update rewrote the names: it does the same steps (re-point rewritten
	// links, re-select the shim in its alternatives groups) but prints
	// nothing when no name drifted.
	Repair bool
	// DryRun prints the steps without doing them.
	DryRun bool
	// Copy first copies the shim into Dest (as Dest/iptables-shim) and links
	// the names to the copy: for a directory that is later seen by another
	// container (a Kubernetes emptyDir), where the original is not.
	Copy bool
	// Root is the file system root the paths are in; "" means "/". Tests
	// use a temporary directory.
	Root string
	// Out receives one line per step.
	Out io.Writer
}

// Error kinds callers can test with errors.Is.
var (
	// ErrNoDest means the destination directory does not exist.
	ErrNoDest = errors.New("destination directory does not exist")
	// ErrReadOnly means the destination cannot be written.
	ErrReadOnly = errors.New("destination is not writable")
	// ErrRefused means a name holds something install must not replace, or
	// the shim path itself is unsuitable.
	ErrRefused = errors.New("refused")
	// ErrNotReached means a name does not reach the shim after the change.
	ErrNotReached = errors.New("name does not reach the shim")
)

// Run makes every name in opts.Dest reach opts.Shim. It checks everything it
// can before changing anything, so a refusal leaves the directory as it was.
func Run(ctx context.Context, opts Options) error {
	r := fsRoot{dir: opts.Root}
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	if err := checkShim(r, opts.Shim); err != nil {
		return err
	}
	if err := checkDest(r, opts.Dest); err != nil {
		return err
	}
	if opts.Copy {
		copied, err := copyShim(r, opts.Shim, opts.Dest, opts.DryRun, out)
		if err != nil {
			return err
		}
		if opts.DryRun {
			return nil
		}
		opts.Shim = copied
	}
	shimID, err := r.identity(opts.Shim)
	if err != nil {
		return fmt.Errorf("shim %s: %w", opts.Shim, err)
	}
	steps, err := plan(ctx, r, opts, shimID)
	if err != nil {
		return err
	}
	if len(steps) == 0 {
		if !opts.Repair {
			fmt.Fprintf(out, "%s: all six names already reach %s\n", opts.Dest, opts.Shim)
		}
		return nil
	}
	if !opts.DryRun {
		if err := probeWritable(r, opts.Dest); err != nil {
			return err
		}
	}
	for _, s := range steps {
		if opts.DryRun {
			fmt.Fprintf(out, "would %s\n", s.describe())
			continue
		}
		if err := s.apply(ctx); err != nil {
			return err
		}
		fmt.Fprintln(out, s.describe())
	}
	if opts.DryRun {
		return nil
	}
	return verify(r, opts.Dest, shimID, opts.Shim)
}

// checkShim refuses a shim path that is missing, not a regular file, one of
// the six names, or a backend.
func checkShim(r fsRoot, shim string) error {
	if !path.IsAbs(shim) {
		return fmt.Errorf("shim path %q is not absolute: %w", shim, ErrRefused)
	}
	if isShimName(path.Base(shim)) {
		return fmt.Errorf("shim %s carries one of the iptables names itself; install it as iptables-shim: %w", shim, ErrRefused)
	}
	real, err := r.resolve(shim)
	if err != nil {
		return fmt.Errorf("shim %s: %w", shim, err)
	}
	if IsBackendName(shim) || IsBackendName(real) {
		return fmt.Errorf("shim %s resolves to %s, an iptables backend: %w", shim, real, ErrRefused)
	}
	fi, err := os.Stat(r.host(real))
	if err != nil {
		return fmt.Errorf("shim %s: %w", shim, err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("shim %s is not an executable file: %w", shim, ErrRefused)
	}
	return nil
}

// checkDest turns a missing or non-directory destination into a clear error.
func checkDest(r fsRoot, dest string) error {
	if !path.IsAbs(dest) {
		return fmt.Errorf("destination %q is not absolute: %w", dest, ErrRefused)
	}
	fi, err := os.Stat(r.host(dest))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", dest, ErrNoDest)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", dest, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory: %w", dest, ErrNoDest)
	}
	return nil
}

// probeWritable creates and removes a scratch link, so a read-only or
// foreign-owned directory fails before the first real change.
func probeWritable(r fsRoot, dest string) error {
	probe := r.host(path.Join(dest, fmt.Sprintf(".iptables-shim-probe-%d", os.Getpid())))
	if err := os.Symlink("iptables-shim", probe); err != nil {
		if errors.Is(err, syscall.EROFS) {
			return fmt.Errorf("%s is on a read-only file system: %w", dest, ErrReadOnly)
		}
		if errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("%s: permission denied: %w", dest, ErrReadOnly)
		}
		return fmt.Errorf("%s: %w: %w", dest, ErrReadOnly, err)
	}
	return os.Remove(probe)
}

// verify checks that every name now resolves to the shim's file; the
// alternatives tools exit 0 on some failures, so their word is not taken.
func verify(r fsRoot, dest string, shimID fileIdentity, shim string) error {
	var bad []string
	for _, n := range Names() {
		id, err := r.identity(path.Join(dest, n))
		if err != nil || id != shimID {
			bad = append(bad, n)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s: %s in %s: %w", shim, strings.Join(bad, ", "), dest, ErrNotReached)
	}
	return nil
}

// relativeTarget is the link text that leads from a name in dest to the
// shim, computed on resolved directories so that a symlinked destination
// (/sbin -> usr/sbin) still gets a correct relative link.
func relativeTarget(r fsRoot, dest, shim string) (string, error) {
	realDest, err := r.resolve(dest)
	if err != nil {
		return "", err
	}
	realShimDir, err := r.resolve(path.Dir(shim))
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(realDest, path.Join(realShimDir, path.Base(shim)))
	if err != nil {
		return "", fmt.Errorf("relative link from %s to %s: %w", dest, shim, err)
	}
	return rel, nil
}

// copyShim writes the shim into dest as iptables-shim (a temporary file
// renamed into place, so a running copy is never overwritten in place) and
// returns the copy's path.
func copyShim(r fsRoot, shim, dest string, dryRun bool, out io.Writer) (string, error) {
	to := path.Join(dest, "iptables-shim")
	if dryRun {
		fmt.Fprintf(out, "would copy %s to %s and link the names to it\n", shim, to)
		return to, nil
	}
	if err := probeWritable(r, dest); err != nil {
		return "", err
	}
	data, err := os.ReadFile(r.host(shim))
	if err != nil {
		return "", fmt.Errorf("reading shim: %w", err)
	}
	tmp := r.host(to + ".new")
	if err := os.WriteFile(tmp, data, 0o755); err != nil {
		return "", fmt.Errorf("copying shim: %w", err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil { // WriteFile's mode is masked by umask
		return "", fmt.Errorf("copying shim: %w", err)
	}
	if err := os.Rename(tmp, r.host(to)); err != nil {
		return "", fmt.Errorf("copying shim: %w", err)
	}
	fmt.Fprintf(out, "copy %s to %s\n", shim, to)
	return to, nil
}
