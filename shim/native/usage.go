package native

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"

	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// The help texts are iptables-nft 1.8.9's, recorded from the real binary
// by helpdata/gen.sh: facts about its behaviour, kept as data. Each file
// holds records headed "==== main", "==== match NAME" or "==== target
// NAME"; a record's text is what iptables prints for it, byte for byte.

//go:embed helpdata/ipv4.txt
var help4 string

//go:embed helpdata/ipv6.txt
var help6 string

// helpBook is one family's help texts.
type helpBook struct {
	main    string
	matches map[string]string
	targets map[string]string
}

var (
	helpOnce    sync.Once
	helpByFam   map[syntax.Family]*helpBook
	helpRecords = map[syntax.Family]*string{syntax.IPv4: &help4, syntax.IPv6: &help6}
)

func parseHelp(data string) *helpBook {
	b := &helpBook{matches: map[string]string{}, targets: map[string]string{}}
	for _, rec := range strings.Split(data, "==== ")[1:] {
		head, text, _ := strings.Cut(rec, "\n")
		kind, name, _ := strings.Cut(head, " ")
		switch kind {
		case "main":
			b.main = text
		case "match":
			b.matches[name] = text
		case "target":
			b.targets[name] = text
		}
	}
	return b
}

func helpFor(fam syntax.Family) *helpBook {
	helpOnce.Do(func() {
		helpByFam = map[syntax.Family]*helpBook{}
		for f, d := range helpRecords {
			helpByFam[f] = parseHelp(*d)
		}
	})
	return helpByFam[fam]
}

// helpMatchName is xtables_find_match's name: the ICMPv6 aliases load
// icmp6.
func helpMatchName(name string) string {
	switch name {
	case "icmpv6", "ipv6-icmp", "icmp6":
		return "icmp6"
	}
	return name
}

// usage is iptables -h: its own help, then the help of the target met
// before -h, then of each match met before it (or, without a match, of
// the -p protocol's match when there is one). A match iptables does not
// have fails as loading it does.
func usage(prog string, fam syntax.Family, h *syntax.HelpRequest) (string, error) {
	b := helpFor(fam)
	var out strings.Builder
	out.WriteString(b.main)
	if h == nil {
		return out.String(), nil
	}
	if text, ok := b.targets[h.Target]; ok {
		out.WriteString(text)
	}
	matches := h.Matches
	if len(matches) == 0 && h.Protocol != "" {
		if _, ok := b.matches[helpMatchName(strings.ToLower(h.Protocol))]; ok {
			matches = []string{strings.ToLower(h.Protocol)}
		}
	}
	for _, m := range matches {
		text, ok := b.matches[helpMatchName(m)]
		if !ok {
			msg := fmt.Sprintf("Couldn't load match `%s':No such file or directory\n", m)
			return "", versioned(&ipterr.Error{Class: ipterr.Parameter, Msg: msg})
		}
		out.WriteString(text)
	}
	return out.String(), nil
}

// restoreUsage is iptables-nft-restore 1.8.9's -h text.
func restoreUsage(prog string) string {
	return "Usage: " + prog + ` [-c] [-v] [-V] [-t] [-h] [-n] [-T table] [-M command] [-4] [-6] [file]
	   [ --counters ]
	   [ --verbose ]
	   [ --version]
	   [ --test ]
	   [ --help ]
	   [ --noflush ]
	   [ --table=<TABLE> ]
	   [ --modprobe=<command> ]
	   [ --ipv4 ]
	   [ --ipv6 ]
`
}
