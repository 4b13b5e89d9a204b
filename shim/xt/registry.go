package xt

// The tables below are the allowlist: an extension missing here is
// unsupported (see IsUnsupported). They are never changed after package
// initialisation.

// matchParsers maps a match name (as given to -m, or implied by -p) to its
// parser.
var matchParsers = map[string]matchParser{
	"tcp":       parseTCPUDP,
	"udp":       parseTCPUDP,
	"sctp":      parseSCTP,
	"comment":   parseComment,
	"mark":      parseMarkMatch,
	"multiport": parseMultiport,
	"set":       parseSetMatch,
	"addrtype":  parseAddrType,
	"conntrack": parseConntrack,
	"state":     parseConntrack,
	"statistic": parseStatistic,
	"recent":    parseRecent,
	"physdev":   parsePhysdev,
	"limit":     parseLimit,
	"icmp":      parseICMP,
	"icmp6":     parseICMP,
	"connmark":  parseConnmarkMatch,
	"tcpmss":    parseRangeMatch("mss"),
	"length":    parseRangeMatch("length"),
	"pkttype":   parsePkttype,
	"mac":       parseMac,
	"helper":    parseHelper,
	"iprange":   parseIPRange,
	"owner":     parseOwner,
	"ttl":       parseTTLMatch,
	"hl":        parseTTLMatch,
	"dscp":      parseDSCPMatch,
	"nfacct":    parseNFAcct,
}

// targetParsers maps a target extension name to its parser.
var targetParsers = map[string]targetParser{
	"MARK":       parseMarkTarget,
	"CONNMARK":   parseConnmark,
	"REJECT":     parseReject,
	"LOG":        parseLog,
	"DNAT":       parseNAT,
	"SNAT":       parseNAT,
	"MASQUERADE": parseNAT,
	"REDIRECT":   parseNAT,
	"NFLOG":      parseNFLOG,
	"TRACE":      parseTrace,
	"TCPMSS":     parseTCPMSSTarget,
	"CHECKSUM":   parseChecksum,
	"CLASSIFY":   parseClassify,
	"NFQUEUE":    parseNFQueue,
	"CT":         parseCT,
	"NOTRACK":    parseNotrack,
	"TTL":        parseTTLTarget,
	"HL":         parseTTLTarget,
	"DSCP":       parseDSCPTarget,
	"SET":        parseSetTarget,
}

// compatMatchDecoders maps an xt match name to the decoder of its info blob.
var compatMatchDecoders = map[string]blobDecoder{
	"tcp":       decodeTCPUDPBlob("tcp"),
	"udp":       decodeTCPUDPBlob("udp"),
	"sctp":      decodeSCTPBlob,
	"comment":   decodeComment,
	"mark":      decodeMarkBlob,
	"multiport": decodeMultiportBlob,
	"set":       decodeSetBlob,
	"addrtype":  decodeAddrTypeBlob,
	"conntrack": decodeConntrackBlob,
	"statistic": decodeStatisticBlob,
	"recent":    decodeRecentBlob,
	"physdev":   decodePhysdevBlob,
	"limit":     decodeLimitBlob,
	"icmp":      decodeICMPBlob("icmp"),
	"icmp6":     decodeICMPBlob("icmp6"),
	"connmark":  decodeConnmarkMatchBlob,
	"tcpmss":    decodeRangeMatchBlob("tcpmss", "mss"),
	"length":    decodeRangeMatchBlob("length", "length"),
	"pkttype":   decodePkttypeBlob,
	"mac":       decodeMacBlob,
	"helper":    decodeHelperBlob,
	"iprange":   decodeIPRangeBlob,
	"owner":     decodeOwnerBlob,
	"ttl":       decodeTTLMatchBlob("ttl"),
	"hl":        decodeTTLMatchBlob("hl"),
	"dscp":      decodeDSCPMatchBlob,
	"nfacct":    decodeNFAcct,
}

// targetDecoders maps an xt target name to the decoder of its info blob.
var targetDecoders = map[string]blobDecoder{
	"MARK":       decodeMarkTargetBlob,
	"CONNMARK":   decodeConnmarkBlob,
	"REJECT":     decodeRejectBlob,
	"LOG":        decodeLogBlob,
	"DNAT":       decodeNATBlob("DNAT"),
	"SNAT":       decodeNATBlob("SNAT"),
	"MASQUERADE": decodeNATBlob("MASQUERADE"),
	"REDIRECT":   decodeNATBlob("REDIRECT"),
	"TCPMSS":     decodeTCPMSSTargetBlob,
	"CHECKSUM":   decodeChecksumBlob,
	"CLASSIFY":   decodeClassifyBlob,
	"NFQUEUE":    decodeNFQueueBlob,
	"CT":         decodeCTBlob,
	"TTL":        decodeTTLTargetBlob("TTL"),
	"HL":         decodeTTLTargetBlob("HL"),
	"DSCP":       decodeDSCPTargetBlob,
	"SET":        decodeSetTargetBlob,
}
