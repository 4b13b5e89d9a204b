// Command rhelalternatives is a test double for Red Hat's `alternatives`
// (chkconfig), which Debian does not package. It keeps the behaviour the
// takeover scriptlets depend on:
//
//   - state in /var/lib/alternatives/NAME in chkconfig's format (mode,
//     master link, slave name/link pairs, blank line, then per entry its
//     path, priority and one line per slave target);
//   - --install adds or updates an entry and, in auto mode, selects the
//     highest priority (the first registered wins a tie);
//   - a link path that exists and is not a symlink is left alone with the
//     message "exists and it is not a symlink" and exit status 0;
//   - --remove of the selected entry returns the group to auto mode; of the
//     last entry, deletes the group's links and its state file;
//   - --set selects an entry and puts the group in manual mode.
//
// It is built statically and placed at /usr/sbin/alternatives in the
// throwaway roots that rpm --root runs scriptlets in.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const (
	altDir   = "/etc/alternatives"
	adminDir = "/var/lib/alternatives"
)

type slave struct{ name, link string }

type entry struct {
	path     string
	priority int
	targets  map[string]string // slave name -> path
}

type group struct {
	name    string
	manual  bool
	link    string
	slaves  []slave
	entries []entry
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "alternatives: %v\n", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("no action")
	}
	switch args[0] {
	case "--install":
		if len(args) < 5 {
			return errors.New("--install needs <link> <name> <path> <priority>")
		}
		prio, err := strconv.Atoi(args[4])
		if err != nil {
			return fmt.Errorf("priority %q: %w", args[4], err)
		}
		e := entry{path: args[3], priority: prio, targets: map[string]string{}}
		var slaves []slave
		rest := args[5:]
		for len(rest) >= 4 && rest[0] == "--slave" {
			slaves = append(slaves, slave{name: rest[2], link: rest[1]})
			e.targets[rest[2]] = rest[3]
			rest = rest[4:]
		}
		if len(rest) > 0 {
			return fmt.Errorf("unexpected %q", rest[0])
		}
		if _, err := os.Stat(e.path); err != nil {
			return fmt.Errorf("cannot access %s: %w", e.path, err)
		}
		return install(args[2], args[1], e, slaves)
	case "--remove":
		if len(args) != 3 {
			return errors.New("--remove needs <name> <path>")
		}
		return remove(args[1], args[2])
	case "--set":
		if len(args) != 3 {
			return errors.New("--set needs <name> <path>")
		}
		g, err := load(args[1])
		if err != nil {
			return err
		}
		if g.find(args[2]) < 0 {
			return fmt.Errorf("%s has not been configured as an alternative for %s", args[2], args[1])
		}
		g.manual = true
		return g.apply(args[2])
	}
	return fmt.Errorf("unsupported action %q", args[0])
}

func (g *group) find(p string) int {
	for i, e := range g.entries {
		if e.path == p {
			return i
		}
	}
	return -1
}

func (g *group) best() string {
	best := -1
	for i, e := range g.entries {
		if best < 0 || e.priority > g.entries[best].priority {
			best = i
		}
	}
	return g.entries[best].path
}

func install(name, link string, e entry, slaves []slave) error {
	g, err := load(name)
	if errors.Is(err, fs.ErrNotExist) {
		g = &group{name: name}
	} else if err != nil {
		return err
	}
	g.link = link
	for _, s := range slaves {
		known := false
		for _, have := range g.slaves {
			known = known || have.name == s.name
		}
		if !known {
			g.slaves = append(g.slaves, s)
		}
	}
	if i := g.find(e.path); i >= 0 {
		g.entries[i] = e
	} else {
		g.entries = append(g.entries, e)
	}
	current, _ := os.Readlink(filepath.Join(altDir, name))
	if g.manual && g.find(current) >= 0 {
		return g.apply(current)
	}
	g.manual = false
	return g.apply(g.best())
}

func remove(name, p string) error {
	g, err := load(name)
	if err != nil {
		return err
	}
	i := g.find(p)
	if i < 0 {
		return fmt.Errorf("%s has not been configured as an alternative for %s", p, name)
	}
	current, _ := os.Readlink(filepath.Join(altDir, name))
	g.entries = append(g.entries[:i], g.entries[i+1:]...)
	if len(g.entries) == 0 {
		for _, l := range append([]slave{{name: name, link: g.link}}, g.slaves...) {
			removeLink(l.link)
			_ = os.Remove(filepath.Join(altDir, l.name))
		}
		return os.Remove(filepath.Join(adminDir, name))
	}
	if current == p || !g.manual {
		g.manual = false
		return g.apply(g.best())
	}
	return g.apply(current)
}

// removeLink deletes a link path only when it is a symlink into altDir.
func removeLink(p string) {
	if t, err := os.Readlink(p); err == nil && filepath.Dir(t) == altDir {
		_ = os.Remove(p)
	}
}

// apply selects path, rewrites the links and saves the state.
func (g *group) apply(path string) error {
	e := g.entries[g.find(path)]
	if err := setLink(filepath.Join(altDir, g.name), path); err != nil {
		return err
	}
	linkIn(g.link, filepath.Join(altDir, g.name))
	for _, s := range g.slaves {
		if t := e.targets[s.name]; t != "" {
			if err := setLink(filepath.Join(altDir, s.name), t); err != nil {
				return err
			}
			linkIn(s.link, filepath.Join(altDir, s.name))
		} else {
			removeLink(s.link)
			_ = os.Remove(filepath.Join(altDir, s.name))
		}
	}
	return g.save()
}

// linkIn points a public link at the alternatives link, refusing (with exit
// status 0, as chkconfig does) to replace anything but a symlink.
func linkIn(link, target string) {
	if fi, err := os.Lstat(link); err == nil && fi.Mode()&os.ModeSymlink == 0 {
		fmt.Fprintf(os.Stderr, "failed to link %s -> %s: %s exists and it is not a symlink\n", link, target, link)
		return
	}
	if err := setLink(link, target); err != nil {
		fmt.Fprintf(os.Stderr, "failed to link %s -> %s: %v\n", link, target, err)
	}
}

func setLink(link, target string) error {
	_ = os.Remove(link)
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return err
	}
	return os.Symlink(target, link)
}

func load(name string) (*group, error) {
	f, err := os.Open(filepath.Join(adminDir, name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) < 2 {
		return nil, fmt.Errorf("%s: truncated state", name)
	}
	g := &group{name: name, manual: lines[0] == "manual", link: lines[1]}
	i := 2
	for ; i+1 < len(lines) && lines[i] != ""; i += 2 {
		g.slaves = append(g.slaves, slave{name: lines[i], link: lines[i+1]})
	}
	i++
	for i+1 < len(lines) && lines[i] != "" {
		prio, err := strconv.Atoi(strings.Fields(lines[i+1])[0])
		if err != nil {
			return nil, fmt.Errorf("%s: priority: %w", name, err)
		}
		e := entry{path: lines[i], priority: prio, targets: map[string]string{}}
		for j, s := range g.slaves {
			if k := i + 2 + j; k < len(lines) {
				e.targets[s.name] = lines[k]
			}
		}
		g.entries = append(g.entries, e)
		i += 2 + len(g.slaves)
	}
	return g, nil
}

func (g *group) save() error {
	var b strings.Builder
	mode := "auto"
	if g.manual {
		mode = "manual"
	}
	fmt.Fprintf(&b, "%s\n%s\n", mode, g.link)
	for _, s := range g.slaves {
		fmt.Fprintf(&b, "%s\n%s\n", s.name, s.link)
	}
	b.WriteString("\n")
	for _, e := range g.entries {
		fmt.Fprintf(&b, "%s\n%d\n", e.path, e.priority)
		for _, s := range g.slaves {
			fmt.Fprintf(&b, "%s\n", e.targets[s.name])
		}
	}
	if err := os.MkdirAll(adminDir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(adminDir, g.name), []byte(b.String()), 0o644)
}
