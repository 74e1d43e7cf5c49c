//go:build !linux

package server

import "syscall"

// rawWrites: elsewhere every taken-over stream writes through net.Conn,
// from a goroutine of its own while it has something to write.
const rawWrites = false

type iovec struct {
	Base *byte
	Len  uint64
}

func (v *iovec) SetLen(n int) { v.Len = uint64(n) }

func writevFD(uintptr, []iovec) (int, syscall.Errno) { return 0, syscall.EINVAL }
