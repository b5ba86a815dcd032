package nginx

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Sentinel errors. Errors returned by this package wrap one of these, so
// callers can branch with errors.Is (a benchmark reports ErrNotFound as
// "absent" rather than failing).
var (
	ErrNotFound = errors.New("nginx: binary not found")
	ErrConfig   = errors.New("nginx: invalid config")
	ErrStart    = errors.New("nginx: did not start")
)

// Timeouts for the child process.
const (
	startTimeout = 10 * time.Second // from exec to the first HTTP answer
	stopTimeout  = 5 * time.Second  // from SIGTERM to exit, before SIGKILL
)

// fallbackPath is where Debian and most Linux packages install nginx; it is
// not on an unprivileged user's PATH there.
const fallbackPath = "/usr/sbin/nginx"

// Location is one location block: Root served under Prefix.
type Location struct {
	Prefix    string // e.g. "/slow/" (an alias of Root), "/" for the root
	LimitRate string // nginx limit_rate value, e.g. "10m"; "" = unlimited
}

// Config describes what nginx serves.
type Config struct {
	Root      string     // directory served
	Locations []Location // default: just "/" unlimited
	// TLS, when not nil, makes nginx serve https (HTTP/1.1 only) instead of
	// http on its port.
	TLS *TLS
}

// TLS is the certificate nginx serves https with. Start writes both into
// its private temporary directory (the key readable by the owner only), so
// the caller keeps no files.
type TLS struct {
	CertPEM []byte // the server certificate, then any intermediates, in PEM
	KeyPEM  []byte // its private key, in PEM
}

// Server is a running nginx. Close it to stop nginx and remove its files.
type Server struct {
	cmd  *exec.Cmd
	dir  string
	addr string // "127.0.0.1:PORT"
	// leaf is the DER of the certificate served over TLS; nil for plain
	// http.
	leaf []byte

	exited  chan struct{} // closed when cmd.Wait returns
	waitErr error         // cmd.Wait's result, valid once exited is closed

	closeOnce sync.Once
	closeErr  error
}

// Binary returns the path of the nginx executable: the one on PATH, else
// /usr/sbin/nginx. The error wraps ErrNotFound and says how to install it.
func Binary() (string, error) {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, nil
	}
	if fi, err := os.Stat(fallbackPath); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return fallbackPath, nil
	}
	return "", fmt.Errorf("%w on PATH or at %s; install it (Debian: apt-get install nginx-light)", ErrNotFound, fallbackPath)
}

// Start writes a configuration for cfg into a new temporary directory, runs
// nginx on a free port of 127.0.0.1 and returns once it answers HTTP.
func Start(cfg Config) (*Server, error) {
	root, err := checkRoot(cfg.Root)
	if err != nil {
		return nil, err
	}
	locs, err := validateLocations(cfg.Locations)
	if err != nil {
		return nil, err
	}
	var leaf []byte
	if cfg.TLS != nil {
		if leaf, err = checkTLS(cfg.TLS); err != nil {
			return nil, err
		}
	}
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	// The build's configure arguments, to leave out directives of modules
	// it lacks. "nginx -V" prints to stderr.
	v, err := exec.Command(bin, "-V").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%w: %s -V: %v", ErrStart, bin, err)
	}

	dir, err := os.MkdirTemp("", "rangedl-nginx-")
	if err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	// TMPDIR may be relative (nginx would resolve it against -p) or hold
	// characters a quoted nginx.conf string cannot.
	if dir, err = filepath.Abs(dir); err == nil {
		err = validatePath("temp dir", dir)
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p := confParams{Root: root, Locations: locs, Dir: dir, Without: withoutModules(string(v))}
	if cfg.TLS != nil {
		p.CertFile, p.KeyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		err = os.WriteFile(p.CertFile, cfg.TLS.CertPEM, 0o600)
		if err == nil {
			err = os.WriteFile(p.KeyFile, cfg.TLS.KeyPEM, 0o600)
		}
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("nginx: %w", err)
		}
	}
	s, err := start(bin, p, leaf)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// checkTLS checks that t holds a certificate and its key, so that a
// mistake is reported as ErrConfig here rather than as nginx failing to
// start, and returns the DER of the certificate.
func checkTLS(t *TLS) ([]byte, error) {
	if len(t.CertPEM) == 0 || len(t.KeyPEM) == 0 {
		return nil, fmt.Errorf("%w: TLS needs both CertPEM and KeyPEM", ErrConfig)
	}
	pair, err := tls.X509KeyPair(t.CertPEM, t.KeyPEM)
	if err != nil {
		return nil, fmt.Errorf("%w: TLS: %v", ErrConfig, err)
	}
	return pair.Certificate[0], nil
}

// checkRoot returns cfg.Root as a clean absolute path to a directory.
func checkRoot(root string) (string, error) {
	if root == "" {
		return "", fmt.Errorf("%w: empty Root", ErrConfig)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("%w: Root %q: %v", ErrConfig, root, err)
	}
	if err := validatePath("Root", abs); err != nil {
		return "", err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("%w: Root: %v", ErrConfig, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%w: Root %q is not a directory", ErrConfig, abs)
	}
	return abs, nil
}

// bindAttempts bounds the retries when another process takes the port
// between freePort and nginx's bind.
const bindAttempts = 5

// start runs nginx in dir on a free port, retrying with another port if
// the chosen one was taken before nginx could bind it. On error the caller
// removes dir.
func start(bin string, p confParams, leaf []byte) (*Server, error) {
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		p.Port = port
		s, err := startOn(bin, p, leaf)
		if err == nil || !errors.Is(err, errAddrInUse) || attempt == bindAttempts {
			return s, err
		}
	}
}

// errAddrInUse marks a start that failed only because the port was taken.
var errAddrInUse = errors.New("address already in use")

// freePort asks the kernel for a port of 127.0.0.1 that is free right now.
// (Handing nginx the bound socket itself, through the NGINX environment
// variable it uses for binary upgrades, would close the window in which
// another process can take the port, but nginx 1.22 crashes on inherited
// sockets with master_process off; start retries instead.)
func freePort() (int, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("nginx: find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startOn writes the config for p (and its port) and runs nginx,
// returning once it serves. The error wraps errAddrInUse if nginx could
// not bind the port.
func startOn(bin string, p confParams, leaf []byte) (*Server, error) {
	dir := p.Dir
	conf := filepath.Join(dir, "nginx.conf")
	errLog := filepath.Join(dir, "error.log")
	pidFile := filepath.Join(dir, "nginx.pid")
	// A previous attempt's log would be read as this one's.
	os.Remove(errLog)
	text := render(p)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}

	// -p makes the prefix ours; -e moves the log nginx writes before it
	// has read the config (by default /var/log/nginx/error.log, or stderr
	// on Debian).
	cmd := exec.Command(bin, "-p", dir+"/", "-c", conf, "-e", errLog)
	cmd.Dir = dir
	var out tail
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStart, err)
	}

	s := &Server{
		cmd:    cmd,
		dir:    dir,
		addr:   fmt.Sprintf("127.0.0.1:%d", p.Port),
		leaf:   leaf,
		exited: make(chan struct{}),
	}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()

	if err := s.waitReady(pidFile); err != nil {
		s.stop()
		diag := s.diagnostics(&out)
		if strings.Contains(diag, "Address already in use") {
			err = fmt.Errorf("%w: %w", errAddrInUse, err)
		}
		return nil, fmt.Errorf("%w: %w%s", ErrStart, err, diag)
	}
	return s, nil
}

// waitReady returns nil once nginx serves HTTP, or an error if it exits or
// startTimeout passes first.
//
// nginx writes its pid file only after it has bound every listen address,
// so a pid file holding our child's pid proves that the port is ours: a
// probe cannot be answered by some other process that took the port.
// The HTTP probe then shows that nginx has entered its event loop.
func (s *Server) waitReady(pidFile string) error {
	deadline := time.Now().Add(startTimeout)
	want := strconv.Itoa(s.cmd.Process.Pid)
	var err error
	for {
		if b, rerr := os.ReadFile(pidFile); rerr != nil {
			err = fmt.Errorf("no pid file yet: %w", rerr)
		} else if got := strings.TrimSpace(string(b)); got != want {
			err = fmt.Errorf("pid file holds %q, want %s", got, want)
		} else if err = probe(s.addr, s.leaf, deadline); err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("exited: %v", s.waitErr)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not serving within %v: %v", startTimeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// probe sends one HEAD request and reads the status line. Any status will
// do: an answer means nginx is serving. With leaf (the DER of the
// certificate nginx was given) the request goes over TLS, and the
// handshake must present exactly that certificate: the probe checks that
// nginx serves what it was configured with, not that a CA vouches for it.
func probe(addr string, leaf []byte, deadline time.Time) error {
	raw, err := net.DialTimeout("tcp", addr, time.Until(deadline))
	if err != nil {
		return err
	}
	c := raw
	if leaf != nil {
		c = tls.Client(raw, &tls.Config{
			// Chain and name are not the point here; VerifyConnection
			// compares the certificate itself instead.
			InsecureSkipVerify: true,
			NextProtos:         []string{"http/1.1"},
			VerifyConnection: func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, leaf) {
					return errors.New("nginx serves another certificate than the one it was given")
				}
				return nil
			},
		})
	}
	defer c.Close()
	c.SetDeadline(deadline)
	if _, err := c.Write([]byte("HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "HTTP/1.") {
		return fmt.Errorf("not an HTTP answer: %q", line)
	}
	return nil
}

// diagnostics returns the tail of nginx's output and error log, for an
// error message.
func (s *Server) diagnostics(out *tail) string {
	var b strings.Builder
	if t := strings.TrimSpace(out.String()); t != "" {
		b.WriteString("\nnginx output:\n" + t)
	}
	if log, err := os.ReadFile(filepath.Join(s.dir, "error.log")); err == nil && len(log) > 0 {
		if len(log) > tailSize {
			log = log[len(log)-tailSize:]
		}
		b.WriteString("\nnginx error.log:\n" + strings.TrimSpace(string(log)))
	}
	return b.String()
}

// URL returns "http://127.0.0.1:PORT" + path, or "https://…" when nginx
// serves TLS.
func (s *Server) URL(path string) string { return s.Scheme() + "://" + s.addr + path }

// Scheme returns "https" when nginx serves TLS, else "http".
func (s *Server) Scheme() string {
	if s.leaf != nil {
		return "https"
	}
	return "http"
}

// Addr returns "127.0.0.1:PORT", the address nginx listens on.
func (s *Server) Addr() string { return s.addr }

// Close stops nginx and removes its temporary directory. It is safe to call
// more than once; later calls return the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		err := s.stop()
		if rerr := os.RemoveAll(s.dir); rerr != nil && err == nil {
			err = fmt.Errorf("nginx: %w", rerr)
		}
		s.closeErr = err
	})
	return s.closeErr
}

// stop asks nginx to exit (SIGTERM is its "fast shutdown") and kills it if
// it has not within stopTimeout. It reports an exit nginx did not choose.
func (s *Server) stop() error {
	select {
	case <-s.exited:
		return fmt.Errorf("nginx: exited before Close: %v", s.waitErr)
	default:
	}
	// An error here means the process is already gone; Wait says how.
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		if s.waitErr != nil {
			return fmt.Errorf("nginx: exit: %w", s.waitErr)
		}
		return nil
	case <-time.After(stopTimeout):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("nginx: did not exit within %v of SIGTERM; killed", stopTimeout)
	}
}

// tailSize bounds the diagnostics kept from nginx.
const tailSize = 4 << 10

// tail is an io.Writer that keeps the last tailSize bytes written to it.
// exec.Cmd writes to it from one goroutine and we read it only after the
// process has exited, so it needs no lock.
type tail struct{ b []byte }

func (t *tail) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > tailSize {
		t.b = append(t.b[:0], t.b[len(t.b)-tailSize:]...)
	}
	return len(p), nil
}

func (t *tail) String() string { return string(t.b) }
