package install

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"strconv"
	"strings"
)

// altLinkDir is where both dpkg's update-alternatives and chkconfig's
// alternatives keep their per-group links.
const altLinkDir = "/etc/alternatives"

// altAdminDirs are the state directories of Debian's and Red Hat's tools.
var altAdminDirs = [...]string{"/var/lib/dpkg/alternatives", "/var/lib/alternatives"}

// altTools are the places the alternatives command lives; looked up by
// absolute path because PATH may lead to the shim itself.
var altTools = [...]string{
	"/usr/bin/update-alternatives", "/usr/sbin/update-alternatives",
	"/usr/sbin/alternatives", "/sbin/update-alternatives", "/sbin/alternatives",
	"/usr/bin/alternatives",
}

// altGroup is one alternatives group as its administrative file records it.
// dpkg and chkconfig write the same shape: mode, master link, pairs of slave
// name and slave link, a blank line, then per entry its path, priority and
// one target per slave.
type altGroup struct {
	Name     string
	Manual   bool
	Link     string
	Slaves   []altSlave
	Entries  []altEntry
	admindir string
}

// altSlave is a follower link of a group.
type altSlave struct {
	Name string
	Link string
}

// altEntry is one registered alternative.
type altEntry struct {
	Path     string
	Priority int
}

// parseAltGroup reads an administrative file.
func parseAltGroup(name string, data []byte) (altGroup, error) {
	g := altGroup{Name: name}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) < 2 {
		return g, fmt.Errorf("alternatives group %s: truncated administrative file", name)
	}
	g.Manual = strings.TrimSpace(lines[0]) == "manual"
	g.Link = lines[1]
	i := 2
	for ; i+1 < len(lines) && lines[i] != ""; i += 2 {
		g.Slaves = append(g.Slaves, altSlave{Name: lines[i], Link: lines[i+1]})
	}
	i++ // the blank line ending the slaves
	for i+1 < len(lines) && lines[i] != "" {
		prio, err := strconv.Atoi(strings.Fields(lines[i+1] + " 0")[0])
		if err != nil {
			return g, fmt.Errorf("alternatives group %s: priority of %s: %w", name, lines[i], err)
		}
		g.Entries = append(g.Entries, altEntry{Path: lines[i], Priority: prio})
		i += 2 + len(g.Slaves)
	}
	return g, nil
}

// has reports whether the group already lists p as an alternative.
func (g altGroup) has(p string) bool {
	for _, e := range g.Entries {
		if e.Path == p {
			return true
		}
	}
	return false
}

// topPriority is the highest priority among the group's entries.
func (g altGroup) topPriority() int {
	top := 0
	for _, e := range g.Entries {
		top = max(top, e.Priority)
	}
	return top
}

// links lists the master link and every slave link of the group.
func (g altGroup) links() []string {
	out := []string{g.Link}
	for _, s := range g.Slaves {
		out = append(out, s.Link)
	}
	return out
}

// alternatives is the alternatives system found in a root, if any.
type alternatives struct {
	root fsRoot
	tool string // path inside the root; "" when no tool is installed
}

// findAlternatives looks for the alternatives command. For the real root it
// is the root's own; for another root it is this host's dpkg tool, which
// works on a root given with --root (chkconfig's has no such option).
func findAlternatives(r fsRoot) alternatives {
	foreign := r.dir != "" && r.dir != "/"
	for _, t := range altTools {
		p := r.host(t)
		if foreign {
			if !strings.HasSuffix(t, "/update-alternatives") {
				continue
			}
			p = t
		}
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return alternatives{root: r, tool: t}
		}
	}
	return alternatives{root: r}
}

// managed reports whether the link at p (inside the root) is a link into
// the alternatives directory.
func managed(r fsRoot, p string) bool {
	target, err := os.Readlink(r.host(p))
	if err != nil {
		return false
	}
	if !path.IsAbs(target) {
		target = path.Join(path.Dir(p), target)
	}
	return path.Dir(path.Clean(target)) == altLinkDir
}

// groupOf finds the group whose master or slave link is the name at p. The
// administrative file may spell the link through another directory (/sbin
// and /usr/sbin on a merged-/usr system), so both are resolved.
func (a alternatives) groupOf(p string) (altGroup, error) {
	want := a.canonical(p)
	for _, dir := range altAdminDirs {
		entries, err := os.ReadDir(a.root.host(dir))
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			data, err := os.ReadFile(a.root.host(path.Join(dir, e.Name())))
			if err != nil {
				return altGroup{}, fmt.Errorf("reading alternatives state: %w", err)
			}
			g, err := parseAltGroup(e.Name(), data)
			if err != nil {
				return altGroup{}, err
			}
			for _, l := range g.links() {
				if l == p || a.canonical(l) == want {
					g.admindir = dir
					return g, nil
				}
			}
		}
	}
	return altGroup{}, fmt.Errorf("%s links into %s but no alternatives group lists it (use --alternatives no to replace the link): %w", p, altLinkDir, ErrRefused)
}

// canonical resolves the directory part of a link path, leaving the link
// itself alone.
func (a alternatives) canonical(p string) string {
	dir, err := a.root.resolve(path.Dir(p))
	if err != nil {
		return p
	}
	return path.Join(dir, path.Base(p))
}

// registerArgs builds the command that adds the shim to group g, with every
// slave that is one of the six names following it. Slaves that are not ours
// (none in the known layouts) are left out: the tool then removes those
// links while the shim is selected, which is what selecting any entry that
// lacks them does too.
func (a alternatives) registerArgs(g altGroup, shim string, priority int) []string {
	args := a.rootArgs()
	args = append(args, "--install", g.Link, g.Name, shim, strconv.Itoa(priority))
	for _, s := range g.Slaves {
		if isShimName(path.Base(s.Link)) {
			args = append(args, "--slave", s.Link, s.Name, shim)
		}
	}
	return args
}

// setArgs builds the command that selects the shim in group g.
func (a alternatives) setArgs(g altGroup, shim string) []string {
	return append(a.rootArgs(), "--set", g.Name, shim)
}

// rootArgs points dpkg's tool at a test root; in production the root is "/"
// and nothing is added.
func (a alternatives) rootArgs() []string {
	if a.root.dir == "" || a.root.dir == "/" {
		return nil
	}
	return []string{"--root", a.root.dir}
}

// run executes the alternatives tool (see findAlternatives for which one).
func (a alternatives) run(ctx context.Context, args []string) error {
	out, err := exec.CommandContext(ctx, a.tool, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", a.tool, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// isShimName reports whether base is one of the six names.
func isShimName(base string) bool {
	for _, n := range Names() {
		if n == base {
			return true
		}
	}
	return false
}
