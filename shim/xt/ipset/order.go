package ipset

import "encoding/binary"

// The request structs are C structs in host byte order.

func put32(b []byte, off int, v uint32) { binary.NativeEndian.PutUint32(b[off:], v) }
func put16(b []byte, off int, v uint16) { binary.NativeEndian.PutUint16(b[off:], v) }
func get32(b []byte, off int) uint32    { return binary.NativeEndian.Uint32(b[off:]) }
func get16(b []byte, off int) uint16    { return binary.NativeEndian.Uint16(b[off:]) }
