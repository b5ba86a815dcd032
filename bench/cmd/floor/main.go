//go:build linux

// Command floor fetches a list of small files with the least work a client can do, to show how
// far rangedl's per-file path is above that floor (README, *Lists of small files*).
//
//	go run ./bench/cmd/floor -i LIST -d DIR [-c 16] [-k 1]
//
// One epoll loop keeps -c keep-alive connections to one host busy, with -k requests in flight
// on each (-k 1 is what rangedl and the other tools do; more is HTTP pipelining). Per file it
// makes the system calls rangedl makes: openat, flock, pwrite and close for the output, and a
// write and a read on the socket (shared by -k files when pipelining). Line i of LIST is saved
// as DIR/i. It has no retries, redirects, names, progress or durability: any answer but a 200
// with a Content-Length, a connection the server closes (it must keep each one for all its
// requests: nginx's keepalive_requests), and any error end it with exit 1.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	list := flag.String("i", "", "list of http:// URLs of one host given by its IP address, one per line")
	dir := flag.String("d", ".", "output directory")
	conns := flag.Int("c", 16, "connections")
	depth := flag.Int("k", 1, "requests in flight per connection")
	flag.Parse()
	start := time.Now()
	n, err := run(*list, *dir, *conns, *depth)
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	fmt.Printf("%d files in %.3f s\n", n, time.Since(start).Seconds())
}

// conn is one keep-alive connection: the files it has asked for, and what it has read of
// their answers.
type conn struct {
	fd      int
	id      int32  // its index in client.conns: the epoll event's data
	writing bool   // EPOLLOUT is watched: requests wait to be written
	asked   []int  // list indexes of the requests sent and not yet answered, oldest first
	pending []byte // requests not yet written
	buf     []byte // read buffer; buf[:n] is unparsed
	n       int
	out     int   // the output of asked[0] while its body arrives, else -1
	left    int64 // body bytes of asked[0] still to come
	off     int64
}

type client struct {
	ep    int
	host  string
	dir   string
	paths []string
	next  int // the next list index to ask for
	done  int
	depth int
	conns []*conn
}

func run(list, dir string, conns, depth int) (int, error) {
	if conns < 1 || depth < 1 {
		return 0, errors.New("-c and -k must be at least 1")
	}
	addr, paths, err := readList(list)
	if err != nil {
		return 0, err
	}
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return 0, err
	}
	defer unix.Close(ep)
	c := &client{ep: ep, host: addr.String(), dir: dir, paths: paths, depth: depth}
	for i := 0; i < conns && i < len(paths); i++ {
		if err := c.dial(addr); err != nil {
			return 0, err
		}
	}
	defer func() {
		for _, cn := range c.conns {
			unix.Close(cn.fd)
		}
	}()
	events := make([]unix.EpollEvent, 64)
	for c.done < len(paths) {
		n, err := unix.EpollWait(ep, events, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return c.done, err
		}
		for _, ev := range events[:n] {
			if err := c.ready(c.conns[ev.Fd], ev.Events); err != nil {
				return c.done, err
			}
		}
	}
	return c.done, nil
}

// readList returns the one address all the URLs in the list name, and their paths.
func readList(name string) (netip.AddrPort, []string, error) {
	var addr netip.AddrPort
	f, err := os.Open(name)
	if err != nil {
		return addr, nil, err
	}
	defer f.Close()
	var paths []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		u, err := url.Parse(sc.Text())
		if err != nil {
			return addr, nil, err
		}
		a, err := netip.ParseAddrPort(u.Host)
		if u.Scheme != "http" || err != nil || len(paths) > 0 && a != addr {
			return addr, nil, fmt.Errorf("%s: want http:// URLs of one IP address and port", u)
		}
		addr = a
		paths = append(paths, u.RequestURI())
	}
	return addr, paths, sc.Err()
}

func (c *client) dial(addr netip.AddrPort) error {
	var sa unix.Sockaddr = &unix.SockaddrInet4{Port: int(addr.Port()), Addr: addr.Addr().As4()}
	family := unix.AF_INET
	if addr.Addr().Is6() {
		sa, family = &unix.SockaddrInet6{Port: int(addr.Port()), Addr: addr.Addr().As16()}, unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	cn := &conn{fd: fd, id: int32(len(c.conns)), writing: true, buf: make([]byte, 64<<10), out: -1}
	c.conns = append(c.conns, cn) // before any error, so that run closes it
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		return err
	}
	if err := unix.Connect(fd, sa); err != nil && err != unix.EINPROGRESS {
		return err
	}
	c.ask(cn)
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT, Fd: cn.id}
	return unix.EpollCtl(c.ep, unix.EPOLL_CTL_ADD, fd, &ev)
}

// ask queues requests on cn until it has depth of them in flight or the list is all asked for.
func (c *client) ask(cn *conn) {
	for len(cn.asked) < c.depth && c.next < len(c.paths) {
		cn.pending = fmt.Appendf(cn.pending, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: floor\r\n\r\n", c.paths[c.next], c.host)
		cn.asked = append(cn.asked, c.next)
		c.next++
	}
}

func (c *client) ready(cn *conn, events uint32) error {
	if events&unix.EPOLLERR != 0 {
		if errno, err := unix.GetsockoptInt(cn.fd, unix.SOL_SOCKET, unix.SO_ERROR); err != nil || errno != 0 {
			return errors.Join(err, unix.Errno(errno))
		}
	}
	if events&unix.EPOLLIN != 0 {
		if err := c.read(cn); err != nil {
			return err
		}
	}
	return c.flush(cn)
}

// flush writes cn's pending requests, and watches for EPOLLOUT only while some remain.
func (c *client) flush(cn *conn) error {
	if len(cn.pending) > 0 {
		n, err := unix.Write(cn.fd, cn.pending)
		if err != nil && err != unix.EAGAIN {
			return err
		}
		cn.pending = cn.pending[:copy(cn.pending, cn.pending[max(n, 0):])]
	}
	if cn.writing == (len(cn.pending) > 0) {
		return nil
	}
	cn.writing = !cn.writing
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: cn.id}
	if cn.writing {
		ev.Events |= unix.EPOLLOUT
	}
	return unix.EpollCtl(c.ep, unix.EPOLL_CTL_MOD, cn.fd, &ev)
}

func (c *client) read(cn *conn) error {
	n, err := unix.Read(cn.fd, cn.buf[cn.n:])
	if err == unix.EAGAIN {
		return nil
	}
	if err != nil {
		return err
	}
	if n == 0 {
		return errors.New("the server closed a connection")
	}
	cn.n += n
	p := cn.buf[:cn.n]
	for len(p) > 0 && len(cn.asked) > 0 {
		if cn.out < 0 {
			end := bytes.Index(p, []byte("\r\n\r\n"))
			if end < 0 {
				break
			}
			if err := c.begin(cn, p[:end+2]); err != nil {
				return err
			}
			p = p[end+4:]
		}
		body := p[:min(int64(len(p)), cn.left)]
		if len(body) > 0 {
			n, err := unix.Pwrite(cn.out, body, cn.off)
			if err == nil && n < len(body) {
				err = fmt.Errorf("pwrite: %d of %d bytes written", n, len(body))
			}
			if err != nil {
				return err
			}
		}
		cn.off += int64(len(body))
		cn.left -= int64(len(body))
		p = p[len(body):]
		if cn.left > 0 {
			break
		}
		if err := unix.Close(cn.out); err != nil {
			return err
		}
		cn.out, cn.asked = -1, cn.asked[1:]
		c.done++
	}
	if len(p) > 0 && len(cn.asked) == 0 {
		return errors.New("bytes after the last answer")
	}
	if len(p) == len(cn.buf) {
		return errors.New("a response head longer than the buffer")
	}
	cn.n = copy(cn.buf, p)
	c.ask(cn)
	return nil
}

// begin checks the head of asked[0]'s answer and opens its output.
func (c *client) begin(cn *conn, head []byte) error {
	status, fields, _ := bytes.Cut(head, []byte("\r\n"))
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 200 ")) {
		return fmt.Errorf("%s: %q", c.paths[cn.asked[0]], status)
	}
	cn.left = -1
	for line := range bytes.Lines(fields) {
		name, value, _ := bytes.Cut(bytes.TrimSpace(line), []byte(":"))
		if bytes.EqualFold(name, []byte("Content-Length")) {
			n, err := strconv.ParseInt(string(bytes.TrimSpace(value)), 10, 64)
			if err != nil {
				return fmt.Errorf("%s: Content-Length %q", c.paths[cn.asked[0]], value)
			}
			cn.left = n
		}
	}
	if cn.left < 0 {
		return fmt.Errorf("%s: no Content-Length", c.paths[cn.asked[0]])
	}
	name := filepath.Join(c.dir, strconv.Itoa(cn.asked[0]+1))
	fd, err := unix.Open(name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		unix.Close(fd)
		return fmt.Errorf("%s: %w", name, err)
	}
	cn.out, cn.off = fd, 0
	return nil
}
