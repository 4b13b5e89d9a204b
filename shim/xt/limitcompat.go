package xt

// decodeLimitBlob reads the xt limit match (struct xt_rateinfo, rev 0),
// which iptables-nft writes instead of the native limit expression when
// asked for compat forms. Only avg and burst are the rule; the rest is
// kernel state.
func decodeLimitBlob(ctx Context, rev uint32, data []byte) (Ext, error) {
	if rev != 0 {
		return nil, decodeErr("xt match limit rev %d is not supported", rev)
	}
	// avg, burst, prev (unsigned long), credit, credit_cap, cost, master.
	if err := checkSize("limit", rev, data, 40); err != nil {
		return nil, err
	}
	b := blob(data)
	avg, burst := b.get32(0), b.get32(4)
	if avg == 0 {
		return nil, decodeErr("xt match limit: zero average")
	}
	// The average period in units of 1/limitScale seconds is what the
	// native form's rate/unit pair stands for; keep it as packets per
	// period so Save prints what iptables prints.
	return &limit{avg: avg, burst: burst}, nil
}
