package xt

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// realmsFile is where libxt_realm reads realm names (xtables_lmap_init).
const realmsFile = "/etc/iproute2/rt_realms"

// realmName is one "id name" line of the realms file.
type realmName struct {
	id   uint32
	name string
}

// loadRealms reads the realms file as xtables_lmap_init does: "id name"
// per line, the id as strtoul base 0, "#" lines and blank lines skipped.
// ok is false when the file cannot be read (libxtables then has no map).
func loadRealms() (names []realmName, ok bool) { return loadLmap(realmsFile) }

// loadLmap reads a libxtables name map (xtables_lmap_init): the realms
// file, or iproute2's device groups for devgroup.
func loadLmap(file string) (names []realmName, ok bool) {
	f, err := os.Open(file)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimLeft(sc.Text(), " \t")
		if l == "" || l[0] == '#' {
			continue
		}
		id, rest, ok := strtoulPrefix(l)
		if !ok {
			// libxtables gives up on the whole map at a malformed line.
			return nil, false
		}
		rest = strings.TrimLeft(rest, " \t")
		if i := strings.IndexAny(rest, " \t"); i >= 0 {
			rest = rest[:i]
		}
		if rest == "" {
			return nil, false
		}
		names = append(names, realmName{id, rest})
	}
	return names, true
}

// realmMatch is -m realm (struct xt_realm_info, IPv4 only): the route's
// realm, under a mask.
type realmMatch struct {
	id, mask uint32
	invert   bool
}

func parseRealm(ctx Context, m syntax.Match) (Ext, error) {
	var e *realmMatch
	for _, o := range m.Options {
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		if o.Name != "realm" {
			return nil, unsupportedOption(m.Name, o.Name)
		}
		id, mask, err := parseRealmValue(m.Name, o.Name, v)
		if err != nil {
			return nil, err
		}
		e = &realmMatch{id: id, mask: mask, invert: o.Invert}
	}
	if e == nil {
		return nil, mustSpecify("realm", "realm")
	}
	return e, nil
}

// parseRealmValue reads value[/mask] or a realm name, as
// xtables_parse_val_mask does with the realms map.
func parseRealmValue(ext, opt, s string) (uint32, uint32, error) {
	return parseValMask(ext, opt, s, realmsFile)
}

// parseValMask is xtables_parse_val_mask with the name map of file.
func parseValMask(ext, opt, s, file string) (uint32, uint32, error) {
	names, haveMap := loadLmap(file)
	byName := func() (uint32, uint32, error) {
		if !haveMap {
			return 0, 0, badValue(ext, opt, s)
		}
		// xtables_lmap_name2id compares exactly.
		for _, n := range names {
			if n.name == s {
				return n.id, 0xffffffff, nil
			}
		}
		return 0, 0, paramErr("%s: could not map name %s to an integer value for option \"--%s\".\n", ext, s, opt)
	}
	v, tail, ok := strtoulPrefix(s)
	switch {
	case !ok:
		return byName()
	case tail == "":
		return v, 0xffffffff, nil
	case tail[0] != '/':
		if haveMap {
			return byName()
		}
		return 0, 0, paramErr("%s: trailing garbage after value for option \"--%s\".\n", ext, opt)
	}
	mask, rest, ok := strtoulPrefix(tail[1:])
	if !ok {
		return 0, 0, badValue(ext, opt, s)
	}
	if rest != "" {
		return 0, 0, paramErr("%s: trailing garbage after value for option \"--%s\".\n", ext, opt)
	}
	return v, mask, nil
}

func (e *realmMatch) Name() string                          { return "realm" }
func (e *realmMatch) Revision() (string, uint8, bool, bool) { return "realm", 0, false, true }
func (e *realmMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(9)
	b.u32(0, e.id)
	b.u32(4, e.mask)
	if e.invert {
		b.u8(8, 1)
	}
	return xtMatch("realm", 0, b), nil
}

// value prints the realm as xtables_print_val_mask does: value/mask in
// hex, or, with the full mask, the realm's name (unless numeric) or hex.
func (e *realmMatch) value(numeric bool) string {
	return valMaskText(e.id, e.mask, numeric, realmsFile)
}

// valMaskText is xtables_print_val_mask with the name map of file.
func valMaskText(id, mask uint32, numeric bool, file string) string {
	if mask != 0xffffffff {
		return fmt.Sprintf("0x%x/0x%x", id, mask)
	}
	if !numeric {
		names, _ := loadLmap(file)
		for _, n := range names {
			if n.id == id {
				return n.name
			}
		}
	}
	return fmt.Sprintf("0x%x", id)
}

func (e *realmMatch) Save(Context) string {
	return "-m realm " + invertSave(e.invert) + "--realm " + e.value(false)
}

// List prints "realm 0x2a", "! realm cosmos".
func (e *realmMatch) List(numeric bool) string {
	return " " + invertSave(e.invert) + "realm " + e.value(numeric)
}

func decodeRealmBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match realm rev %d is not supported", rev)
	}
	if err := checkSize("realm", rev, data, 9); err != nil {
		return nil, err
	}
	b := blob(data)
	if b.get8(8) > 1 || !b.zero(9, len(b)-9) {
		return nil, decodeErr("xt match realm: invert flag %d", b.get8(8))
	}
	return &realmMatch{id: b.get32(0), mask: b.get32(4), invert: b.get8(8) == 1}, nil
}
