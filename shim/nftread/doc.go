// Package nftread is the reading side of the native nf_tables backend: it
// reads what the kernel holds (tables, chains and their rules, at one
// ruleset generation), decodes rules written by iptables-nft (any of its
// dialects) back into iptables' terms, and renders them as iptables-nft
// 1.8.9 prints them: iptables-save text, -S, and -L with each extension's
// own print form. It also compares rules semantically for -C and -D's
// lookup, and holds the pieces both sides share: the built-in table and
// chain catalog, the expression codec, the protocol names, and the errors
// in iptables-nft's words (Unsupportedf for what native refuses).
//
// Nothing here writes to the kernel; shim/native plans and commits writes
// and calls in here to read.
//
// Listings without -n name addresses and ports from /etc/hosts,
// /etc/networks and /etc/services only, never DNS (see names.go).
package nftread
