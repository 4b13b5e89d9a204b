package xt

import (
	"strconv"

	"github.com/google/nftables/expr"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// osf flags (struct xt_osf_info's flags: NF_OSF_TTL, NF_OSF_LOG,
// NF_OSF_INVERT; libxt_osf never sets NF_OSF_GENRE).
const (
	osfTTL    = 1 << 1
	osfLog    = 1 << 2
	osfInvert = 1 << 3
)

// osfGenreLen is MAXGENRELEN, the size of the genre field.
const osfGenreLen = 32

// osfMatch is -m osf (struct xt_osf_info, 48 bytes: genre[32], u32 len,
// flags, loglevel, ttl), IPv4 only. The rule names a genre; the
// fingerprints it is matched against are loaded into the kernel apart
// from any rule (nfnl_osf), so the blob follows from the rule text alone,
// and the kernel's checks (TCP only, input hooks) answer the shim as they
// answer iptables-nft.
type osfMatch struct {
	genre         string
	flags         uint32
	loglevel, ttl uint32
}

func parseOsf(ctx Context, m syntax.Match) (Ext, error) {
	e := &osfMatch{}
	seenGenre := false
	for _, o := range m.Options {
		v, err := oneArg(m.Name, o)
		if err != nil {
			return nil, err
		}
		v = cutNUL(v)
		switch o.Name {
		case "genre":
			// XTTYPE_STRING into genre[32]: cut to 31 bytes.
			if len(v) > osfGenreLen-1 {
				v = v[:osfGenreLen-1]
			}
			e.genre, seenGenre = v, true
			if o.Invert {
				e.flags |= osfInvert
			}
		case "ttl", "log":
			n, tail, ok := strtoulPrefix(v)
			if !ok || tail != "" || n > 2 {
				return nil, badRange(m.Name, o.Name, 0, 2)
			}
			if o.Name == "ttl" {
				e.ttl, e.flags = n, e.flags|osfTTL
			} else {
				e.loglevel, e.flags = n, e.flags|osfLog
			}
		default:
			return nil, unsupportedOption(m.Name, o.Name)
		}
	}
	if !seenGenre {
		return nil, mustSpecify(m.Name, "genre")
	}
	return e, nil
}

func (e *osfMatch) Name() string                          { return "osf" }
func (e *osfMatch) Revision() (string, uint8, bool, bool) { return "osf", 0, false, true }
func (e *osfMatch) Exprs(Context) ([]expr.Any, error) {
	b := newBlob(48)
	b.str(0, osfGenreLen, e.genre)
	b.u32(32, uint32(len(e.genre)))
	b.u32(36, e.flags)
	b.u32(40, e.loglevel)
	b.u32(44, e.ttl)
	return xtMatch("osf", 0, b), nil
}

// Save prints as libxt_osf 1.8.9 does: the genre unquoted.
func (e *osfMatch) Save(Context) string {
	s := "-m osf"
	if e.flags&osfInvert != 0 {
		s += " !"
	}
	s += " --genre " + e.genre
	if e.flags&osfTTL != 0 {
		s += " --ttl " + strconv.FormatUint(uint64(e.ttl), 10)
	}
	if e.flags&osfLog != 0 {
		s += " --log " + strconv.FormatUint(uint64(e.loglevel), 10)
	}
	return s
}

// List is -L's text.
func (e *osfMatch) List(bool) string {
	if e.flags&osfInvert != 0 {
		return " OS fingerprint match ! " + e.genre
	}
	return " OS fingerprint match " + e.genre
}

func decodeOsfBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match osf rev %d is not supported", rev)
	}
	if err := checkSize("osf", rev, data, 48); err != nil {
		return nil, err
	}
	b := blob(data)
	g, ok := b.getStr(0, osfGenreLen)
	e := &osfMatch{genre: g, flags: b.get32(36), loglevel: b.get32(40), ttl: b.get32(44)}
	// Refused: what save would not show (flags it does not print, values
	// without their flag, a length other than the genre's, bytes after it).
	if !ok || !b.zero(len(g), osfGenreLen-len(g)) || b.get32(32) != uint32(len(g)) ||
		e.flags&^(osfTTL|osfLog|osfInvert) != 0 ||
		e.flags&osfTTL == 0 && e.ttl != 0 || e.flags&osfLog == 0 && e.loglevel != 0 {
		return nil, decodeErr("xt match osf: unknown data")
	}
	return e, nil
}
