package syntax

// oldStyleCheck is what an extension with libxtables' old parse interface
// says about a "!" before one of its options (inv) and about an option
// given again (again), in its own words; nil when it takes the option.
// Only the extensions marked oldStyle in exttable.go reach it.
func oldStyleCheck(ext, canon string, inv, again bool) error {
	switch ext {
	case "rateest":
		return RateestCheck(canon, inv, again)
	}
	return nil
}

// RateestCheck is libxt_rateest 1.8.9's parse: only the comparisons may
// be inverted, and each option is taken once (--rateest and --rateest1
// are one option, as are --rateest-bps and --rateest-bps2). The parser
// asks it while it reads the command line; shim/xt asks it again for
// rules that reach it without this parser.
func RateestCheck(canon string, inv, again bool) error {
	switch canon {
	case "rateest-lt", "rateest-gt", "rateest-eq":
		if again {
			return paramErr("rateest: can't specify lt/gt/eq twice")
		}
		return nil
	}
	if inv {
		what := canon
		switch canon {
		case "rateest1", "rateest2":
			what = "rateest"
		case "rateest-bps1", "rateest-bps2":
			what = "rateest-bps"
		case "rateest-pps1", "rateest-pps2":
			what = "rateest-pps"
		}
		return paramErr("rateest: %s can't be inverted", what)
	}
	if again {
		return paramErr("rateest: can't specify --%s twice", canon)
	}
	return nil
}
