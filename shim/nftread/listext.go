package nftread

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/iptables-shim/iptables-shim/shim/xt"
)

// -L prints each match and target with the extension's own print
// function, whose wording differs from its save form ("tcp dpt:80" for
// "-m tcp --dport 80"). shim/xt renders the save form only, so the listing
// is derived from it here, extension by extension, following libxtables
// 1.8.9's print functions. An extension without a known listing is
// refused (unsupported) rather than listed wrongly.

// listOpts is what the print functions depend on.
type listOpts struct {
	numeric bool
	// proto is the rule's -p as decoded (the name multiport's ports
	// are looked up with).
	proto string
	names *names
}

// saveItem is one option of a save form: "! --dport 80" is {true,
// "dport", ["80"]}.
type saveItem struct {
	inv  bool
	name string
	args []string
}

// splitSave splits "-m NAME opts..." or "-j NAME opts..." into the name
// and its options; quoted words are unquoted.
func splitSave(s string) (name string, items []saveItem, err error) {
	words, err := SaveWords(s)
	if err != nil {
		return "", nil, err
	}
	if len(words) < 2 || (words[0] != "-m" && words[0] != "-j") {
		return "", nil, fmt.Errorf("unexpected save form %q", s)
	}
	inv := false
	for _, w := range words[2:] {
		switch {
		case w == "!":
			inv = true
		case strings.HasPrefix(w, "--"):
			items = append(items, saveItem{inv: inv, name: w[2:]})
			inv = false
		case len(items) > 0:
			last := &items[len(items)-1]
			last.args = append(last.args, w)
		default:
			return "", nil, fmt.Errorf("unexpected word %q in save form %q", w, s)
		}
	}
	return words[1], items, nil
}

// SaveWords splits a save form into words, undoing xtables_save_string's
// double quotes and backslash escapes.
func SaveWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case c == '"':
			quoted, inWord = !quoted, true
		case c == ' ' && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// listExt renders an extension's save form as iptables -L prints it,
// with its leading space.
func listExt(save string, o listOpts) (string, error) {
	name, items, err := splitSave(save)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	switch name {
	case "tcp", "udp", "sctp":
		listPorts(&b, name, items, o)
	case "dccp":
		listDCCP(&b, items, o)
	case "ipvs":
		listIPVS(&b, items, o)
	case "comment":
		fmt.Fprintf(&b, " /* %s */", firstArg(items, "comment"))
	case "mark":
		b.WriteString(" mark match")
		for _, it := range items {
			if it.inv {
				b.WriteString(" !")
			}
			b.WriteString(" " + strings.Join(it.args, " "))
		}
	case "multiport":
		for _, it := range items {
			b.WriteString(" multiport " + it.name + " ")
			if it.inv {
				b.WriteString(" !")
			}
			b.WriteString(listPortList(firstArgOf(it), o.proto, o))
		}
	case "addrtype":
		b.WriteString(" ADDRTYPE match")
		for _, it := range items {
			switch it.name {
			case "limit-iface-in":
				b.WriteString(" limit-in")
			case "limit-iface-out":
				b.WriteString(" limit-out")
			default:
				fmt.Fprintf(&b, " %s %s%s", it.name, bang(it.inv), firstArgOf(it))
			}
		}
	case "conntrack", "state", "set", "statistic", "REJECT", "DNAT", "SNAT":
		if name == "statistic" {
			b.WriteString(" statistic")
		}
		for _, it := range items {
			if it.inv {
				b.WriteString(" !")
			}
			args := it.args
			if !o.numeric && isCtAddr(it.name) && len(args) == 1 {
				args = []string{listCtAddr(args[0], o)}
			}
			switch {
			case name == "DNAT" && it.name == "to-destination", name == "SNAT" && it.name == "to-source":
				b.WriteString(" to:" + strings.Join(args, " "))
			default:
				b.WriteString(" " + strings.Join(append([]string{it.name}, args...), " "))
			}
		}
	case "physdev":
		b.WriteString(" PHYSDEV match")
		for _, it := range items {
			if it.inv {
				b.WriteString(" !")
			}
			b.WriteString(" " + strings.Join(append([]string{"--" + it.name}, it.args...), " "))
		}
	case "recent":
		listRecent(&b, items)
	case "limit":
		burst := "5"
		if v := firstArg(items, "limit-burst"); v != "" {
			burst = v
		}
		fmt.Fprintf(&b, " limit: avg %s burst %s", firstArg(items, "limit"), burst)
	case "MASQUERADE", "REDIRECT":
		for _, it := range items {
			if it.name == "to-ports" {
				if name == "MASQUERADE" {
					b.WriteString(" masq ports: " + firstArgOf(it))
				} else {
					b.WriteString(" redir ports " + firstArgOf(it))
				}
				continue
			}
			b.WriteString(" " + it.name)
		}
	case "MARK":
		v, m, err := xmark(firstArg(items, "set-xmark"))
		if err != nil || len(items) != 1 {
			return "", Unsupportedf("listing %q", save)
		}
		b.WriteString(" MARK " + markAction(v, m))
	case "CONNMARK":
		s, ok := listConnmark(items)
		if !ok {
			return "", Unsupportedf("listing %q", save)
		}
		b.WriteString(s)
	case "LOG":
		listLog(&b, items, o)
	case "connmark":
		b.WriteString(" connmark match ")
		for _, it := range items {
			b.WriteString(bang(it.inv) + " " + firstArgOf(it))
		}
	case "NFLOG":
		b.WriteString(xt.NFLOGListing(save))
	case "TRACE":
	case "NFQUEUE":
		b.WriteString(xt.NFQueueListing(save))
	case "TCPMSS":
		if firstArg(items, "set-mss") != "" {
			b.WriteString(" TCPMSS set " + firstArg(items, "set-mss"))
		} else {
			b.WriteString(" TCPMSS clamp to PMTU")
		}
	case "CHECKSUM":
		b.WriteString(" CHECKSUM fill")
	case "TEE":
		// libxt_TEE names the gateway without -n.
		gw := firstArg(items, "gateway")
		if ip, err := netip.ParseAddr(gw); err == nil && !o.numeric {
			// A name when there is one; else the save text's address,
			// printed as inet_ntop prints it.
			if n := o.names.addr(ip); n != ip.String() {
				gw = n
			}
		}
		b.WriteString(" TEE gw:" + gw)
		if oif := firstArg(items, "oif"); oif != "" {
			b.WriteString(" oif=" + oif)
		}
	case "CLASSIFY":
		var maj, min uint64
		if a, c, ok := strings.Cut(firstArg(items, "set-class"), ":"); ok {
			maj, _ = strconv.ParseUint(a, 16, 16)
			min, _ = strconv.ParseUint(c, 16, 16)
		}
		fmt.Fprintf(&b, " CLASSIFY set %x:%x", maj, min)
	case "tcpmss", "length":
		b.WriteString(xt.RangeMatchListing(name, save))
	case "pkttype":
		b.WriteString(xt.PkttypeListing(save))
	case "mac":
		b.WriteString(xt.MacListing(save))
	case "helper":
		if len(items) == 1 {
			b.WriteString(xt.HelperListing(firstArgOf(items[0]), items[0].inv))
		}
	case "iprange":
		b.WriteString(xt.IPRangeListing(save))
	case "nfacct":
		// libxt_nfacct prints the name exactly as its save does.
		return " " + strings.TrimPrefix(save, "-m nfacct --"), nil
	default:
		return "", Unsupportedf("listing extension %s", name)
	}
	return b.String(), nil
}

func bang(inv bool) string {
	if inv {
		return "!"
	}
	return ""
}

func firstArgOf(it saveItem) string {
	if len(it.args) == 0 {
		return ""
	}
	return it.args[0]
}

// firstArg is the first argument of option name, "" when absent.
func firstArg(items []saveItem, name string) string {
	for _, it := range items {
		if it.name == name {
			return firstArgOf(it)
		}
	}
	return ""
}

// listIPVS is libxt_ipvs's print: its save form without the dashes, the
// virtual address by name unless -n ("anywhere" for the zero address).
func listIPVS(b *strings.Builder, items []saveItem, o listOpts) {
	for _, it := range items {
		if it.inv {
			b.WriteString(" !")
		}
		b.WriteString(" " + it.name)
		for _, a := range it.args {
			if it.name == "vaddr" && !o.numeric {
				host, _, _ := strings.Cut(a, "/")
				if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
					a = "anywhere"
				} else {
					a = listCtAddr(a, o)
				}
			}
			b.WriteString(" " + a)
		}
	}
}

// listDCCP is libxt_dccp's print: "dccp spts:1:2 dpt:X ! REQUEST,INVALID
// option=!4"; a port range of every port is not printed.
func listDCCP(b *strings.Builder, items []saveItem, o listOpts) {
	b.WriteString(" dccp")
	for _, want := range []string{"sport", "dport", "dccp-types", "dccp-option"} {
		for _, it := range items {
			if it.name != want {
				continue
			}
			switch want {
			case "sport", "dport":
				lo, hi, isRange := strings.Cut(firstArgOf(it), ":")
				if isRange && lo == "0" && hi == "65535" && !it.inv {
					continue
				}
				short := want[:1] + "pt"
				if isRange {
					fmt.Fprintf(b, " %ss:%s%s:%s", short, bang(it.inv), listPort(lo, "dccp", o), listPort(hi, "dccp", o))
				} else {
					fmt.Fprintf(b, " %s:%s%s", short, bang(it.inv), listPort(lo, "dccp", o))
				}
			case "dccp-types":
				b.WriteString(xt.DCCPTypesListing(firstArgOf(it), it.inv, o.numeric))
			case "dccp-option":
				if v := firstArgOf(it); v != "0" || it.inv {
					fmt.Fprintf(b, " option=%s%s", bang(it.inv), v)
				}
			}
		}
	}
}

// listPorts is the tcp/udp/sctp print: "tcp spt:X dpts:A:B option=N
// flags:M/C", "sctp dpt:X ! any DATA:I", names from /etc/services unless
// -n.
func listPorts(b *strings.Builder, proto string, items []saveItem, o listOpts) {
	b.WriteString(" " + proto)
	for _, want := range []string{"sport", "dport", "tcp-option", "tcp-flags", "chunk-types"} {
		for _, it := range items {
			if it.name != want {
				continue
			}
			switch want {
			case "sport", "dport":
				lo, hi, isRange := strings.Cut(firstArgOf(it), ":")
				short := want[:1] + "pt"
				if isRange {
					fmt.Fprintf(b, " %ss:%s%s:%s", short, bang(it.inv), listPort(lo, proto, o), listPort(hi, proto, o))
				} else {
					fmt.Fprintf(b, " %s:%s%s", short, bang(it.inv), listPort(lo, proto, o))
				}
			case "tcp-option":
				fmt.Fprintf(b, " option=%s%s", bang(it.inv), firstArgOf(it))
			case "chunk-types":
				// libxt_sctp prints "!" apart from the match type.
				if it.inv {
					b.WriteString(" !")
				}
				if len(it.args) == 2 {
					b.WriteString(xt.SCTPChunkListing(it.args[0], it.args[1], o.numeric))
				}
			case "tcp-flags":
				if len(it.args) != 2 {
					continue
				}
				mask, cmp := tcpFlagBits(it.args[0]), tcpFlagBits(it.args[1])
				if o.numeric {
					fmt.Fprintf(b, " flags:%s0x%02X/0x%02X", bang(it.inv), mask, cmp)
				} else {
					fmt.Fprintf(b, " flags:%s%s/%s", bang(it.inv), tcpFlagNames(mask), tcpFlagNames(cmp))
				}
			}
		}
	}
}

var tcpFlags = []struct {
	name string
	bit  uint8
}{{"FIN", 0x01}, {"SYN", 0x02}, {"RST", 0x04}, {"PSH", 0x08}, {"ACK", 0x10}, {"URG", 0x20}}

func tcpFlagBits(list string) uint8 {
	var v uint8
	for _, n := range strings.Split(list, ",") {
		switch n {
		case "ALL":
			v |= 0x3f
		case "NONE":
		default:
			for _, f := range tcpFlags {
				if f.name == n {
					v |= f.bit
				}
			}
		}
	}
	return v
}

func tcpFlagNames(v uint8) string {
	var out []string
	for _, f := range tcpFlags {
		if v&f.bit != 0 {
			out = append(out, f.name)
		}
	}
	if len(out) == 0 {
		return "NONE"
	}
	return strings.Join(out, ",")
}

func listPort(port, proto string, o listOpts) string {
	if o.numeric || port == "" {
		return port
	}
	return o.names.port(port, proto)
}

// listPortList names every port of a multiport list ("80,1000:2000").
func listPortList(list, proto string, o listOpts) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		lo, hi, isRange := strings.Cut(p, ":")
		parts[i] = listPort(lo, proto, o)
		if isRange {
			parts[i] += ":" + listPort(hi, proto, o)
		}
	}
	return strings.Join(parts, ",")
}

func isCtAddr(opt string) bool {
	switch opt {
	case "ctorigsrc", "ctorigdst", "ctreplsrc", "ctrepldst":
		return true
	}
	return false
}

// listCtAddr names the address of a conntrack address option unless -n.
func listCtAddr(v string, o listOpts) string {
	a, m, hasMask := strings.Cut(v, "/")
	ip, err := netip.ParseAddr(a)
	if err != nil {
		return v
	}
	s := o.names.addr(ip)
	if hasMask {
		s += "/" + m
	}
	return s
}

// listRecent is the recent print: "recent: CHECK seconds: 10 reap
// hit_count: 3 TTL-Match name: X side: source mask: M".
func listRecent(b *strings.Builder, items []saveItem) {
	inv := false
	var action string
	opts := map[string]string{}
	have := map[string]bool{}
	for _, it := range items {
		switch it.name {
		case "set", "rcheck", "update", "remove":
			action, inv = map[string]string{"set": "SET", "rcheck": "CHECK", "update": "UPDATE", "remove": "REMOVE"}[it.name], it.inv
		default:
			opts[it.name] = firstArgOf(it)
			have[it.name] = true
		}
	}
	if inv {
		b.WriteString(" !")
	}
	b.WriteString(" recent:")
	if action != "" {
		b.WriteString(" " + action)
	}
	if have["seconds"] {
		b.WriteString(" seconds: " + opts["seconds"])
	}
	if have["reap"] {
		b.WriteString(" reap")
	}
	if have["hitcount"] {
		b.WriteString(" hit_count: " + opts["hitcount"])
	}
	if have["rttl"] {
		b.WriteString(" TTL-Match")
	}
	b.WriteString(" name: " + opts["name"])
	if have["rdest"] {
		b.WriteString(" side: dest")
	} else {
		b.WriteString(" side: source")
	}
	if have["mask"] {
		b.WriteString(" mask: " + opts["mask"])
	}
}

// xmark parses "VALUE[/MASK]" (mask all ones when absent).
func xmark(s string) (v, m uint32, err error) {
	vs, ms, hasMask := strings.Cut(s, "/")
	vv, err := strconv.ParseUint(vs, 0, 32)
	if err != nil {
		return 0, 0, err
	}
	mm := uint64(0xffffffff)
	if hasMask {
		if mm, err = strconv.ParseUint(ms, 0, 32); err != nil {
			return 0, 0, err
		}
	}
	return uint32(vv), uint32(mm), nil
}

// markAction words a set-xmark as MARK and CONNMARK print it.
func markAction(v, m uint32) string {
	switch {
	case v == 0:
		return fmt.Sprintf("and 0x%x", ^m)
	case v == m:
		return fmt.Sprintf("or 0x%x", v)
	case m == 0:
		return fmt.Sprintf("xor 0x%x", v)
	case m == 0xffffffff:
		return fmt.Sprintf("set 0x%x", v)
	}
	return fmt.Sprintf("xset 0x%x/0x%x", v, m)
}

func listConnmark(items []saveItem) (string, bool) {
	if len(items) == 0 {
		return "", false
	}
	switch items[0].name {
	case "set-xmark":
		v, m, err := xmark(firstArgOf(items[0]))
		if err != nil || len(items) != 1 {
			return "", false
		}
		return " CONNMARK " + markAction(v, m), true
	case "save-mark", "restore-mark":
		nf, ct := uint64(0xffffffff), uint64(0xffffffff)
		for _, it := range items[1:] {
			v, err := strconv.ParseUint(firstArgOf(it), 0, 32)
			if err != nil {
				return "", false
			}
			switch it.name {
			case "nfmask":
				nf = v
			case "ctmask":
				ct = v
			default:
				return "", false
			}
		}
		verb := strings.TrimSuffix(items[0].name, "-mark")
		switch {
		case nf == 0xffffffff && ct == 0xffffffff:
			return " CONNMARK " + verb, true
		case nf == ct:
			return fmt.Sprintf(" CONNMARK %s mask 0x%x", verb, nf), true
		case verb == "save":
			return fmt.Sprintf(" CONNMARK save nfmask 0x%x ctmask ~0x%x", nf, ct), true
		}
		return fmt.Sprintf(" CONNMARK restore ctmask 0x%x nfmask ~0x%x", ct, nf), true
	}
	return "", false
}

var logLevels = []string{"emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"}

var logFlags = []struct {
	opt, word string
	bit       int
}{
	{"log-tcp-sequence", "tcp-sequence", 0x01},
	{"log-tcp-options", "tcp-options", 0x02},
	{"log-ip-options", "ip-options", 0x04},
	{"log-uid", "uid", 0x08},
	{"log-macdecode", "macdecode", 0x20},
}

// listLog is the LOG print: "LOG flags N level L" with -n, else the level
// and flags by name; then the prefix.
func listLog(b *strings.Builder, items []saveItem, o listOpts) {
	level, flags := 4, 0
	prefix := ""
	for _, it := range items {
		switch it.name {
		case "log-level":
			if n, err := strconv.Atoi(firstArgOf(it)); err == nil {
				level = n
			} else {
				for i, l := range logLevels {
					if l == firstArgOf(it) {
						level = i
					}
				}
			}
		case "log-prefix":
			prefix = firstArgOf(it)
		default:
			for _, f := range logFlags {
				if f.opt == it.name {
					flags |= f.bit
				}
			}
		}
	}
	b.WriteString(" LOG")
	if o.numeric {
		fmt.Fprintf(b, " flags %d level %d", flags, level)
	} else {
		if level >= 0 && level < len(logLevels) {
			b.WriteString(" level " + logLevels[level])
		} else {
			fmt.Fprintf(b, " level UNKNOWN level %d", level)
		}
		for _, f := range logFlags {
			if flags&f.bit != 0 {
				b.WriteString(" " + f.word)
			}
		}
	}
	if prefix != "" {
		fmt.Fprintf(b, " prefix \"%s\"", prefix)
	}
}
