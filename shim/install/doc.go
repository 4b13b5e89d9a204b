// Package install points the six iptables names in a directory at the shim
// binary, the way `iptables-shim install` does it inside an image build or on
// a host.
//
// It needs nothing but system calls (no shell, no coreutils), so it runs as
// the exec-form `RUN ["/usr/sbin/iptables-shim","install"]` in a shell-less
// image. Links are relative, so the result stays right when the directory is
// mounted elsewhere or copied into another root.
//
// Rules it keeps:
//   - it never replaces a regular file (that may be a backend binary) and never
//     points a name at a backend (xtables-*-multi, *-legacy*, *-nft*);
//   - where an alternatives system manages a name (the name is a link into
//     /etc/alternatives), it registers the shim with that group instead of
//     overwriting the link that the next package update would restore;
//   - every change is checked afterwards by resolving the name and comparing
//     file identity with the shim, because alternatives tools exit 0 on some
//     failures.
//
// The package imports only the standard library: it is linked into the shim.
package install
