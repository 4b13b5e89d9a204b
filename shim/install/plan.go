package install

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
)

// step is one change to the file system.
type step interface {
	describe() string
	apply(ctx context.Context) error
}

// linkStep points one name at the shim with a relative link, replacing an
// existing link atomically (a new link renamed over the old one), so a
// concurrent caller always finds either the old or the new target.
type linkStep struct {
	root   fsRoot
	link   string
	target string
	was    string
}

func (s linkStep) describe() string {
	if s.was == "" {
		return fmt.Sprintf("link %s -> %s", s.link, s.target)
	}
	return fmt.Sprintf("link %s -> %s (was -> %s)", s.link, s.target, s.was)
}

func (s linkStep) apply(context.Context) error {
	tmp := s.root.host(path.Join(path.Dir(s.link), ".iptables-shim-new-"+path.Base(s.link)))
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing stale %s: %w", tmp, err)
	}
	if err := os.Symlink(s.target, tmp); err != nil {
		return fmt.Errorf("linking %s: %w", s.link, err)
	}
	if err := os.Rename(tmp, s.root.host(s.link)); err != nil {
		_ = os.Remove(tmp) // best effort: the rename error is the one to report
		return fmt.Errorf("replacing %s: %w", s.link, err)
	}
	return nil
}

// altStep runs the alternatives tool once.
type altStep struct {
	alt  alternatives
	args []string
}

func (s altStep) describe() string {
	return "run " + s.alt.tool + " " + strings.Join(s.args, " ")
}

func (s altStep) apply(ctx context.Context) error { return s.alt.run(ctx, s.args) }

// plan decides the steps for every name; it changes nothing.
func plan(_ context.Context, r fsRoot, opts Options, shimID fileIdentity) ([]step, error) {
	target, err := relativeTarget(r, opts.Dest, opts.Shim)
	if err != nil {
		return nil, err
	}
	alt := findAlternatives(r)
	groupsDone := map[string]bool{}
	var steps []step
	for _, n := range Names() {
		p := path.Join(opts.Dest, n)
		fi, err := os.Lstat(r.host(p))
		if errors.Is(err, fs.ErrNotExist) {
			steps = append(steps, linkStep{root: r, link: p, target: target})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if id, err := r.identity(p); err == nil && id == shimID {
			continue
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			return nil, fmt.Errorf("%s is a %s, not a link (it may be a backend binary); move it away first: %w", p, kindOf(fi), ErrRefused)
		}
		was, _ := os.Readlink(r.host(p)) // Lstat just said it is a link
		if !managed(r, p) || opts.Alternatives == AltNo {
			steps = append(steps, linkStep{root: r, link: p, target: target, was: was})
			continue
		}
		if alt.tool == "" {
			if opts.Alternatives == AltYes {
				return nil, fmt.Errorf("%s is managed by alternatives but no alternatives tool is installed: %w", p, ErrRefused)
			}
			steps = append(steps, linkStep{root: r, link: p, target: target, was: was})
			continue
		}
		g, err := alt.groupOf(p)
		if err != nil {
			return nil, err
		}
		if groupsDone[g.Name] {
			continue
		}
		groupsDone[g.Name] = true
		steps = append(steps, altSteps(r, alt, g, opts.Shim)...)
	}
	return steps, nil
}

// altSteps registers the shim in group g (above every other entry, so auto
// mode picks it) and selects it when the group is in manual mode or another
// entry is selected despite the priorities.
func altSteps(r fsRoot, alt alternatives, g altGroup, shim string) []step {
	var steps []step
	if !g.has(shim) {
		steps = append(steps, altStep{alt: alt, args: alt.registerArgs(g, shim, g.topPriority()+1)})
		if !g.Manual {
			return steps
		}
	}
	current, _ := os.Readlink(r.host(path.Join(altLinkDir, g.Name)))
	if current != shim || g.Manual {
		steps = append(steps, altStep{alt: alt, args: alt.setArgs(g, shim)})
	}
	return steps
}

// kindOf names a non-link file type for messages.
func kindOf(fi fs.FileInfo) string {
	switch {
	case fi.IsDir():
		return "directory"
	case fi.Mode().IsRegular():
		return "regular file"
	}
	return "special file"
}
