package server

import (
	"syscall"
	"unsafe"
)

// rawWrites: the flushers write taken-over streams with writev themselves.
const rawWrites = true

type iovec = syscall.Iovec

// writevFD is one writev(2) of iov on fd, on a non-blocking socket.
func writevFD(fd uintptr, iov []iovec) (int, syscall.Errno) {
	n, _, e := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
	return int(n), e
}
