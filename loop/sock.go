package loop

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// dial starts a nonblocking TCP connect to addr and returns the socket. A nil error means the
// connect is in progress (EINPROGRESS) or, rarely, already done; either way the socket becomes
// writable when it is settled, and connectResult tells the outcome. A writable socket alone is
// not success.
func dial(addr netip.AddrPort) (int, error) {
	sa, err := sockaddr(addr)
	if err != nil {
		return -1, err
	}
	family := unix.AF_INET
	if _, ok := sa.(*unix.SockaddrInet6); ok {
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
	err = unix.Connect(fd, sa)
	if err != nil && err != unix.EINPROGRESS && err != unix.EINTR {
		unix.Close(fd)
		return -1, os.NewSyscallError("connect", err)
	}
	return fd, nil
}

// connectResult reads SO_ERROR of a socket that became writable after a nonblocking connect.
func connectResult(fd int) error { return soError(fd, "connect") }

// soError returns the error pending on a socket (SO_ERROR) as op's, or nil if there is none.
func soError(fd int, op string) error {
	soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return os.NewSyscallError("getsockopt SO_ERROR", err)
	}
	if soerr != 0 {
		return os.NewSyscallError(op, unix.Errno(soerr))
	}
	return nil
}

// sockaddr is addr for connect. An IPv6 zone (fe80::1%2, RFC 4007) names the interface the
// address is on, without which a link-local address cannot be reached: by its index, or by
// its name (eth0), which takes a lookup (see ZoneIndex).
func sockaddr(addr netip.AddrPort) (unix.Sockaddr, error) {
	ip := addr.Addr()
	if ip.Is4() || ip.Is4In6() {
		return &unix.SockaddrInet4{Port: int(addr.Port()), Addr: ip.As4()}, nil
	}
	sa := &unix.SockaddrInet6{Port: int(addr.Port()), Addr: ip.As16()}
	if z := ip.Zone(); z != "" {
		i, err := strconv.ParseUint(z, 10, 32)
		if err != nil {
			n, err := ZoneIndex(z)
			if err != nil {
				return nil, err
			}
			i = uint64(n)
		}
		sa.ZoneId = uint32(i)
	}
	return sa, nil
}

// ZoneIndex returns the index of the network interface that an IPv6 zone names: by name
// ("eth0") or by index ("2"). It asks the kernel for its interfaces: a Job's Addrs should
// have their zones as indexes already, which connect takes as they are.
func ZoneIndex(zone string) (int, error) {
	var ifi *net.Interface
	var err error
	if i, aerr := strconv.Atoi(zone); aerr == nil {
		ifi, err = net.InterfaceByIndex(i)
	} else {
		ifi, err = net.InterfaceByName(zone)
	}
	if err != nil {
		return 0, fmt.Errorf("no network interface %q", zone)
	}
	return ifi.Index, nil
}
