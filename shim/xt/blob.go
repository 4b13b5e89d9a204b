package xt

import (
	"encoding/binary"

	nfxt "github.com/google/nftables/xt"
	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// Info blobs are the kernel's C structs, so they use the host's byte order.
var hostOrder = binary.NativeEndian

// blob builds an xt info struct of a fixed size. Fields are written at
// their C offsets; the size is padded to 8 bytes as XT_ALIGN does.
type blob []byte

func newBlob(size int) blob { return make(blob, (size+7)&^7) }

func (b blob) u8(off int, v uint8)   { b[off] = v }
func (b blob) u16(off int, v uint16) { hostOrder.PutUint16(b[off:], v) }
func (b blob) u32(off int, v uint32) { hostOrder.PutUint32(b[off:], v) }
func (b blob) u64(off int, v uint64) { hostOrder.PutUint64(b[off:], v) }

// be16 writes a network-order 16-bit value (ports in nf_nat_range).
func (b blob) be16(off int, v uint16) { binary.BigEndian.PutUint16(b[off:], v) }

// str writes s at off, NUL-padded, into a field of n bytes.
func (b blob) str(off, n int, s string) { copy(b[off:off+n], s) }

func (b blob) get8(off int) uint8   { return b[off] }
func (b blob) get16(off int) uint16 { return hostOrder.Uint16(b[off:]) }
func (b blob) get32(off int) uint32 { return hostOrder.Uint32(b[off:]) }
func (b blob) get64(off int) uint64 { return hostOrder.Uint64(b[off:]) }
func (b blob) getBE16(off int) uint16 {
	return binary.BigEndian.Uint16(b[off:])
}

// getStr reads a NUL-terminated string from a field of n bytes; ok is false
// when the field has no NUL.
func (b blob) getStr(off, n int) (string, bool) {
	f := b[off : off+n]
	for i, c := range f {
		if c == 0 {
			return string(f[:i]), true
		}
	}
	return "", false
}

// zero reports whether b[off:off+n] is all zero bytes.
func (b blob) zero(off, n int) bool {
	for _, c := range b[off : off+n] {
		if c != 0 {
			return false
		}
	}
	return true
}

// checkSize refuses a blob whose length is not the padded size of the
// struct the decoder expects.
func checkSize(what string, rev uint32, b []byte, size int) error {
	if want := (size + 7) &^ 7; len(b) != want {
		return decodeErr("xt %s rev %d: info is %d bytes, want %d", what, rev, len(b), want)
	}
	return nil
}

// nfproto is the netfilter family of a syntax family, as the expression
// marshallers want it.
func nfproto(f syntax.Family) byte {
	if f == syntax.IPv6 {
		return unix.NFPROTO_IPV6
	}
	return unix.NFPROTO_IPV4
}

// infoBytes returns the raw info blob of a dumped match or target.
func infoBytes(ctx Context, rev uint32, info nfxt.InfoAny) ([]byte, error) {
	switch i := info.(type) {
	case *nfxt.Unknown:
		return []byte(*i), nil
	case nil:
		return nil, nil
	default:
		b, err := nfxt.Marshal(nfxt.TableFamily(nfproto(ctx.Family)), rev, info)
		if err != nil {
			return nil, decodeErr("re-marshalling xt info %T: %v", info, err)
		}
		return b, nil
	}
}

// rawInfo wraps blob bytes as the info of a match or target expression.
func rawInfo(b []byte) *nfxt.Unknown {
	u := nfxt.Unknown(b)
	return &u
}
