package loop

import (
	"net"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"
)

// dial starts a nonblocking TCP connect to addr and returns the socket. A nil error means the
// connect is in progress (EINPROGRESS) or, rarely, already done; either way the socket becomes
// writable when it is settled, and connectResult tells the outcome. A writable socket alone is
// not success.
func dial(addr netip.AddrPort) (int, error) {
	family := unix.AF_INET
	if addr.Addr().Is6() && !addr.Addr().Is4In6() {
		family = unix.AF_INET6
	}
	fd, err := socket(family)
	if err != nil {
		return -1, err
	}
	// TCP_NODELAY: a request is one small write; Nagle plus the server's delayed ACK would
	// hold the next request back by up to ~40-200 ms.
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("setsockopt TCP_NODELAY", err)
	}
	// SO_RCVBUF is deliberately left alone: setting it disables the kernel's receive autotuning.
	err = unix.Connect(fd, sockaddr(addr))
	if err != nil && err != unix.EINPROGRESS && err != unix.EINTR {
		unix.Close(fd)
		return -1, os.NewSyscallError("connect", err)
	}
	return fd, nil
}

// connectResult reads SO_ERROR of a socket that became writable after a nonblocking connect.
func connectResult(fd int) error {
	soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return os.NewSyscallError("getsockopt SO_ERROR", err)
	}
	if soerr != 0 {
		return os.NewSyscallError("connect", unix.Errno(soerr))
	}
	return nil
}

func sockaddr(addr netip.AddrPort) unix.Sockaddr {
	ip := addr.Addr()
	if ip.Is4() || ip.Is4In6() {
		return &unix.SockaddrInet4{Port: int(addr.Port()), Addr: ip.As4()}
	}
	sa := &unix.SockaddrInet6{Port: int(addr.Port()), Addr: ip.As16()}
	if z := ip.Zone(); z != "" {
		if ifi, err := net.InterfaceByName(z); err == nil {
			sa.ZoneId = uint32(ifi.Index)
		}
	}
	return sa
}
