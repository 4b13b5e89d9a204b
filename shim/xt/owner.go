package xt

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// xt_owner_match_info match/invert bits.
const (
	ownerUID         = 0x01
	ownerGID         = 0x02
	ownerSocket      = 0x04
	ownerSupplGroups = 0x08
	ownerInfoSize    = 18
)

// ownerMatch is -m owner (struct xt_owner_match_info, revision 1).
type ownerMatch struct {
	uidMin, uidMax, gidMin, gidMax uint32
	match, invert                  uint8
}

func ownerBadValue(opt, v string) error {
	return paramErr("owner: Bad value for \"%s\" option: \"%s\"", opt, v)
}

// parseOwnerRange reads "a[-b]" (or "a:b") as libxt_owner does, each
// below 2^32-1.
func parseOwnerRange(opt, s string) (uint32, uint32, error) {
	from, end, ok := strtoulPrefix(s)
	if !ok || from == 0xffffffff {
		return 0, 0, ownerBadValue(opt, s)
	}
	to := from
	if end != "" && (end[0] == '-' || end[0] == ':') {
		if to, end, ok = strtoulPrefix(end[1:]); !ok || to == 0xffffffff {
			return 0, 0, ownerBadValue(opt, s)
		}
	}
	if end != "" {
		return 0, 0, ownerBadValue(opt, s)
	}
	return from, to, nil
}

func parseOwner(ctx Context, m syntax.Match) (Ext, error) {
	e := &ownerMatch{}
	for _, o := range m.Options {
		var bit uint8
		switch o.Name {
		case "uid-owner", "gid-owner":
			v, err := oneArg(m.Name, o)
			if err != nil {
				return nil, err
			}
			file, bit := "/etc/passwd", uint8(ownerUID)
			if o.Name == "gid-owner" {
				file, bit = "/etc/group", ownerGID
			}
			lo, hi := uint32(0), uint32(0)
			if id, ok := lookupID(file, v); ok {
				lo, hi = id, id
			} else if lo, hi, err = parseOwnerRange("--"+o.Name, v); err != nil {
				return nil, err
			}
			if bit == ownerUID {
				e.uidMin, e.uidMax = lo, hi
			} else {
				e.gidMin, e.gidMax = lo, hi
			}
			e.match |= bit
			if o.Invert {
				e.invert |= bit
			}
			continue
		case "socket-exists":
			bit = ownerSocket
		case "suppl-groups":
			if e.match&ownerGID == 0 {
				return nil, ownerBadValue("--suppl-groups", "you need to use --gid-owner first")
			}
			if o.Invert {
				return nil, ownerBadValue("--suppl-groups", "cannot be inverted")
			}
			bit = ownerSupplGroups
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
		e.match |= bit
		if o.Invert {
			e.invert |= bit
		}
	}
	return e, nil
}

// lookupID finds a user (in /etc/passwd) or group (in /etc/group) by
// name, as getpwnam/getgrnam read them.
func lookupID(file, name string) (uint32, bool) {
	return scanIDs(file, func(n string, id uint32) bool { return n == name })
}

// lookupName finds the name of a user or group id.
func lookupName(file string, id uint32) (string, bool) {
	var name string
	_, ok := scanIDs(file, func(n string, i uint32) bool {
		if i == id {
			name = n
			return true
		}
		return false
	})
	return name, ok
}

func scanIDs(file string, want func(name string, id uint32) bool) (uint32, bool) {
	f, err := os.Open(file)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), ":")
		if len(fs) < 3 {
			continue
		}
		id, err := strconv.ParseUint(fs[2], 10, 32)
		if err == nil && want(fs[0], uint32(id)) {
			return uint32(id), true
		}
	}
	return 0, false
}

func (e *ownerMatch) Name() string                          { return "owner" }
func (e *ownerMatch) Revision() (string, uint8, bool, bool) { return "owner", 1, false, true }

func (e *ownerMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(ownerInfoSize)
	b.u32(0, e.uidMin)
	b.u32(4, e.uidMax)
	b.u32(8, e.gidMin)
	b.u32(12, e.gidMax)
	b.u8(16, e.match)
	b.u8(17, e.invert)
	return xtMatch("owner", 1, b), nil
}

// items renders the options in libxt_owner's order with the given labels;
// names looks ids up (-L without -n).
func (e *ownerMatch) items(labels [4]string, names bool) string {
	var b strings.Builder
	for i, bit := range []uint8{ownerSocket, ownerUID, ownerGID, ownerSupplGroups} {
		if e.match&bit == 0 {
			continue
		}
		if e.invert&bit != 0 {
			b.WriteString(" !")
		}
		b.WriteString(" " + labels[i])
		lo, hi, file := e.uidMin, e.uidMax, "/etc/passwd"
		switch bit {
		case ownerGID:
			lo, hi, file = e.gidMin, e.gidMax, "/etc/group"
		case ownerUID:
		default:
			continue
		}
		switch {
		case lo != hi:
			b.WriteString(" " + strconv.FormatUint(uint64(lo), 10) + "-" + strconv.FormatUint(uint64(hi), 10))
		default:
			if n, ok := lookupName(file, lo); names && ok {
				b.WriteString(" " + n)
			} else {
				b.WriteString(" " + strconv.FormatUint(uint64(lo), 10))
			}
		}
	}
	return b.String()
}

func (e *ownerMatch) Save(Context) string {
	return "-m owner" + e.items([4]string{"--socket-exists", "--uid-owner", "--gid-owner", "--suppl-groups"}, false)
}

// List prints as libxt_owner's print does.
func (e *ownerMatch) List(numeric bool) string {
	return e.items([4]string{"owner socket exists", "owner UID match", "owner GID match", "incl. suppl. groups"}, !numeric)
}

func decodeOwnerBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 1 {
		return nil, decodeErr("xt match owner rev %d is not supported", rev)
	}
	if err := checkSize("owner", rev, data, ownerInfoSize); err != nil {
		return nil, err
	}
	b := blob(data)
	e := &ownerMatch{uidMin: b.get32(0), uidMax: b.get32(4), gidMin: b.get32(8), gidMax: b.get32(12), match: b.get8(16), invert: b.get8(17)}
	if e.match&^0x0f != 0 || e.invert&^e.match != 0 || !b.zero(18, len(b)-18) {
		return nil, decodeErr("xt match owner: unknown flags")
	}
	return e, nil
}
