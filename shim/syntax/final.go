package syntax

import (
	"strconv"
	"strings"
)

// exclusive lists, per extension, groups of options that cannot be
// combined with each other; the message names them in the extension's
// table order, as iptables does.
var (
	multiportExclusive = [][]string{{"sports", "dports", "ports"}}
	recentExclusive    = [][]string{{"set", "rcheck", "update", "remove"}}
	statisticExclusive = [][]string{{"probability", "every"}, {"probability", "packet"}}
)

func exclusiveGroups(ext string) [][]string {
	switch ext {
	case "multiport":
		return multiportExclusive
	case "recent":
		return recentExclusive
	case "statistic":
		return statisticExclusive
	}
	return nil
}

// checkExclusive runs when option canon of instance in is given.
func (p *parser) checkExclusive(k int, canon string) error {
	in := &p.insts[k]
	for _, group := range exclusiveGroups(in.ext.Name()) {
		idx := indexOf(group, canon)
		if idx < 0 {
			continue
		}
		for _, o := range p.optionsOf(k) {
			j := indexOf(group, o.Name)
			if j < 0 || j == idx {
				continue
			}
			a, b := group[j], canon
			if idx < j {
				a, b = canon, group[j]
			}
			return paramErr("%s: option \"--%s\" cannot be used together with \"--%s\".\n", in.ext.Name(), x6Name(in.ext.Name(), a), x6Name(in.ext.Name(), b))
		}
	}
	return nil
}

// x6Name is the name iptables' option table lists first for an option
// whose saved form is an alias.
func x6Name(ext, canon string) string {
	if ext == "multiport" {
		return multiportX6Name(canon)
	}
	return canon
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// optionsOf lists the options given so far for instance k, in order. The
// list is scratch: it is valid until the next call.
func (p *parser) optionsOf(k int) []Option {
	p.view = p.view[:0]
	for _, po := range p.pending {
		if po.inst == k {
			p.view = append(p.view, po.opt)
		}
	}
	return p.view
}

func hasOpt(opts []Option, names ...string) bool {
	for _, o := range opts {
		if indexOf(names, o.Name) >= 0 {
			return true
		}
	}
	return false
}

// finalChecks are the extensions' final checks (x6_fcheck/final_check):
// required options and combinations, run after the whole line is read.
func (p *parser) finalChecks() error {
	for k, in := range p.insts {
		if in.ext == nil {
			continue
		}
		opts := p.optionsOf(k)
		var msg string
		switch in.ext.Name() {
		case "comment", "mark", "connmark":
			name := in.ext.Name()
			if name == "connmark" {
				name = "mark"
			}
			if !hasOpt(opts, name) {
				msg = in.ext.Name() + ": option \"--" + name + "\" must be specified\n"
			}
		case "statistic":
			msg = statisticCheck(opts)
		case "conntrack":
			if len(opts) == 0 {
				msg = "conntrack: At least one option is required"
			}
		case "addrtype":
			if !hasOpt(opts, "src-type", "dst-type") {
				msg = "addrtype: you must specify --src-type or --dst-type"
			}
		case "multiport":
			if len(opts) == 0 {
				msg = "multiport expection an option"
			}
		case "MARK":
			if len(opts) == 0 {
				msg = "MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required"
			}
		case "CONNMARK":
			if !hasOpt(opts, "set-xmark", "save-mark", "restore-mark", "set-mark", "and-mark", "or-mark", "xor-mark") {
				msg = "CONNMARK target: No operation specified"
			}
		case "DNAT":
			if !hasOpt(opts, "to-destination") {
				msg = "DNAT: option \"--to-destination\" must be specified\n"
			}
		case "SNAT":
			if !hasOpt(opts, "to-source") {
				msg = "SNAT: option \"--to-source\" must be specified\n"
			}
		case "HMARK":
			// libxt_HMARK's own check; its tuple and exclusion rules
			// are shim/xt's.
			switch {
			case !hasOpt(opts, "hmark-mod"):
				msg = "--hmark-mod is mandatory"
			case !hasOpt(opts, "hmark-rnd"):
				msg = "--hmark-rnd is mandatory"
			}
		default:
			msg = mandatoryCheck(in.ext.Name(), opts)
		}
		if msg != "" {
			return paramErr("%s", msg)
		}
	}
	return nil
}

// mandatoryOptions lists, per extension, the options libxtables requires
// (XTOPT_MAND), in its option table's order: the first one missing is
// reported.
func mandatoryOptions(ext string) []string {
	switch ext {
	case "NETMAP":
		return []string{"to"}
	case "DNPT", "SNPT":
		return []string{"src-pfx", "dst-pfx"}
	case "AUDIT":
		return []string{"type"}
	case "IDLETIMER":
		return []string{"timeout", "label"}
	case "TEE":
		return []string{"gateway"}
	case "TPROXY":
		return []string{"on-port"}
	}
	return nil
}

// mandatoryCheck is libxtables' check of the XTOPT_MAND options.
func mandatoryCheck(ext string, opts []Option) string {
	for _, name := range mandatoryOptions(ext) {
		if !hasOpt(opts, name) {
			return ext + ": option \"--" + name + "\" must be specified\n"
		}
	}
	return ""
}

func statisticCheck(opts []Option) string {
	mode := ""
	var every, packet uint64
	for _, o := range opts {
		switch o.Name {
		case "mode":
			mode = o.Args[0]
		case "every":
			every, _ = strtoul(o.Args[0], 32)
		case "packet":
			packet, _ = strtoul(o.Args[0], 32)
		}
	}
	// libxt_statistic's own check runs first, with its default mode
	// (random); xtopt's check of the mandatory --mode after it.
	given := mode
	if mode == "" {
		mode = "random"
	}
	switch {
	case mode == "random" && !hasOpt(opts, "probability"):
		return "--probability must be specified when using random mode"
	case mode == "nth" && hasOpt(opts, "packet") && (every == 0 || packet > every-1):
		return "the --packet p must be 0 <= p <= n-1"
	case mode == "nth" && !hasOpt(opts, "every"):
		return "--every and --packet must be specified when using nth mode"
	case given == "":
		return "statistic: option \"--mode\" must be specified\n"
	}
	return ""
}

// checkLogLevel is LOG's --log-level: 0-7 or one of syslog's names.
func checkLogLevel(v string) error {
	if n, err := strconv.ParseUint(v, 10, 8); err == nil && n <= 7 {
		return nil
	}
	switch v {
	case "emerg", "panic", "alert", "crit", "err", "error", "warning", "warn", "notice", "info", "debug":
		return nil
	}
	return paramErr("log level \"%s\" unknown\n", v)
}

// checkRate is the limit match's rate: N[/unit], unit a prefix of second,
// minute, hour or day.
func checkRate(v string) error {
	num, unit, hasUnit := strings.Cut(v, "/")
	n, err := strconv.ParseUint(num, 10, 32)
	ok := err == nil && n > 0
	if hasUnit {
		ok = ok && unit != "" && (strings.HasPrefix("second", unit) || strings.HasPrefix("minute", unit) ||
			strings.HasPrefix("hour", unit) || strings.HasPrefix("day", unit))
	}
	if !ok {
		return paramErr("bad rate \"%s\"'", v)
	}
	return nil
}

// checkSetFlags is the set match's direction list: up to six of src/dst.
func checkSetFlags(v string) error {
	parts := 0
	for f := range strings.SplitSeq(v, ",") {
		if f != "src" && f != "dst" {
			return paramErr("You must spefify (the comma separated list of) 'src' or 'dst'.")
		}
		parts++
	}
	if parts > 6 {
		return paramErr("Can't be more src/dst options than 6.")
	}
	return nil
}
