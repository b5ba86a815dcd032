package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rangedl/rangedl/bench/internal/measure"
	"github.com/rangedl/rangedl/bench/internal/shell"
	"github.com/rangedl/rangedl/bench/nginx"
	"github.com/rangedl/rangedl/bench/server"
)

// seed is the content seed of every served file (bench/server's default).
const seed = 1

// origin is the server of one scenario.
type origin interface {
	// serve readies the server for one run and returns the URL to
	// download and a function to call once the run is over.
	serve(ctx context.Context) (url string, done func(), err error)
	// sum is the SHA-256 of the served file.
	sum() [32]byte
	// describe says which server, for the report.
	describe() string
	// caFile is the file (PEM) of the CA that issued the server's
	// certificate, for the tools to trust; "" when the server speaks
	// plain http.
	caFile() string
	close() error
}

// startOrigin readies sc's server: nginx starts now, with its files in a new
// directory under work; the test server starts with each run (see testOrigin).
func startOrigin(sc scenario, work string, bins binaries) (origin, error) {
	if sc.kind == nginxServer {
		return startNginx(sc, work)
	}
	return &testOrigin{bin: bins.testserver, flags: sc.serverFlags, path: sc.urlPath(), want: server.Sum(seed, sc.size)}, nil
}

// nginxOrigin is one nginx for every run of a scenario: nginx keeps no
// per-connection state across downloads, so starting it once is both
// faster and closer to a real server that has been up for a while.
type nginxOrigin struct {
	srv     *nginx.Server
	dir     string // holds the served directory (and the CA file); removed by close
	url     string
	ca      string // the CA file for https; "" for http
	want    [32]byte
	version string
	limit   string
}

func startNginx(sc scenario, work string) (*nginxOrigin, error) {
	dir, err := os.MkdirTemp(work, "nginx-")
	if err != nil {
		return nil, err
	}
	o, err := startNginxIn(sc, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return o, nil
}

// startNginxIn serves sc's file from dir/www, over https with a
// certificate from a new CA (its certificate in dir/ca.pem) if sc.tls.
func startNginxIn(sc scenario, dir string) (*nginxOrigin, error) {
	www := filepath.Join(dir, "www")
	if err := os.Mkdir(www, 0o755); err != nil {
		return nil, err
	}
	want, err := writeContent(filepath.Join(www, fileName(sc.size)), sc.size)
	if err != nil {
		return nil, err
	}
	cfg := nginx.Config{Root: www, Locations: []nginx.Location{{Prefix: "/"}}}
	if sc.limitRate != "" {
		cfg.Locations = append(cfg.Locations, nginx.Location{Prefix: "/slow/", LimitRate: sc.limitRate})
	}
	var ca string
	if sc.tls {
		ca = filepath.Join(dir, "ca.pem")
		if cfg.TLS, err = newCert(ca); err != nil {
			return nil, err
		}
	}
	srv, err := nginx.Start(cfg)
	if err != nil {
		return nil, err
	}
	return &nginxOrigin{srv: srv, dir: dir, url: srv.URL(sc.urlPath()), ca: ca, want: want, version: nginxVersion(), limit: sc.limitRate}, nil
}

// newCert makes a new test CA, writes its certificate to caPath and
// returns a certificate it issued for 127.0.0.1, valid from an hour ago for
// 23 hours (within the CA's own day: some TLS libraries check that the
// chain's validity periods nest).
func newCert(caPath string) (*nginx.TLS, error) {
	ca, err := server.NewTestCA()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(caPath, ca.PEM, 0o644); err != nil {
		return nil, err
	}
	now := time.Now()
	certPEM, keyPEM, err := ca.Issue([]string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(23*time.Hour))
	if err != nil {
		return nil, err
	}
	return &nginx.TLS{CertPEM: certPEM, KeyPEM: keyPEM}, nil
}

func (o *nginxOrigin) serve(context.Context) (string, func(), error) {
	return o.url, func() {}, nil
}

func (o *nginxOrigin) sum() [32]byte { return o.want }

func (o *nginxOrigin) caFile() string { return o.ca }

func (o *nginxOrigin) describe() string {
	d := o.version + ", sendfile on, keepalive_requests 10000"
	if o.ca != "" {
		// nginx does not sendfile into a TLS connection without kernel
		// TLS, which the config does not enable.
		d = o.version + " over TLS (TLSv1.2 and TLSv1.3, HTTP/1.1 only, no kernel TLS so no sendfile; " +
			"certificate for 127.0.0.1 from a CA made on the spot, whose certificate every tool is given), keepalive_requests 10000"
	}
	if o.limit != "" {
		d += ", limit_rate " + o.limit
	}
	return d
}

func (o *nginxOrigin) close() error {
	err := o.srv.Close()
	return errors.Join(err, os.RemoveAll(o.dir))
}

// writeContent writes size bytes of bench/server's content (seed 1) to
// path and returns their SHA-256. It syncs the file, so that writing it
// back to disk does not compete with the first runs.
func writeContent(path string, size int64) (sum [32]byte, err error) {
	f, err := os.Create(path)
	if err != nil {
		return sum, err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	h := sha256.New()
	w := io.MultiWriter(f, h)
	buf := make([]byte, 4<<20)
	for off := int64(0); off < size; {
		p := buf[:min(int64(len(buf)), size-off)]
		server.Fill(seed, off, p)
		if _, err := w.Write(p); err != nil {
			return sum, err
		}
		off += int64(len(p))
	}
	if err := f.Sync(); err != nil {
		return sum, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

// nginxVersion returns e.g. "nginx/1.22.1", or "nginx" if unknown.
func nginxVersion() string {
	bin, err := nginx.Binary()
	if err != nil {
		return "nginx"
	}
	out, _ := exec.Command(bin, "-v").CombinedOutput() // prints to stderr
	if _, v, ok := strings.Cut(strings.TrimSpace(string(out)), "version: "); ok {
		return v
	}
	return "nginx"
}

// testOrigin starts a fresh testserver process for every run: its
// straggler is picked by accept order since the server started, so a
// server shared between runs would slow down only the first run's second
// connection. A separate process (rather than bench/server in this one)
// keeps the server's CPU out of the harness's own timing.
type testOrigin struct {
	bin   string
	flags []string
	path  string
	want  [32]byte
}

func (o *testOrigin) serve(ctx context.Context) (string, func(), error) {
	p, base, err := startTestserver(ctx, o.bin, o.flags)
	if err != nil {
		return "", nil, err
	}
	return base + o.path, p.stop, nil
}

func (o *testOrigin) sum() [32]byte { return o.want }

func (o *testOrigin) caFile() string { return "" }

func (o *testOrigin) describe() string {
	return strings.TrimSpace("testserver " + shell.Join(o.flags))
}

func (o *testOrigin) close() error { return nil }

// testserverProc is a running testserver.
type testserverProc struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// startTestserver runs bin with flags and returns once it has printed
// "listening on http://127.0.0.1:PORT", with that base URL.
func startTestserver(ctx context.Context, bin string, flags []string) (*testserverProc, string, error) {
	cmd := exec.Command(bin, flags...)
	cmd.Env = measure.CleanEnv(os.TempDir())
	var errOut measure.TailWriter
	cmd.Stderr = &errOut
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("testserver: %w", err)
	}
	p := &testserverProc{cmd: cmd, exited: make(chan struct{})}

	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- s
		// The server prints nothing else to stdout; drain it anyway so
		// it can never block on a full pipe.
		io.Copy(io.Discard, stdout)
		cmd.Wait()
		close(p.exited)
	}()
	const prefix = "listening on "
	select {
	case s := <-line:
		if url, ok := strings.CutPrefix(strings.TrimSpace(s), prefix); ok && strings.HasPrefix(url, "http://127.0.0.1:") {
			return p, url, nil
		}
		p.stop()
		return nil, "", fmt.Errorf("testserver: unexpected first line %q %s", s, clip(errOut.LastLine(), 200))
	case <-time.After(10 * time.Second):
		p.stop()
		return nil, "", errors.New("testserver: no \"listening on\" line within 10s")
	case <-ctx.Done():
		p.stop()
		return nil, "", ctx.Err()
	}
}

// stop sends SIGTERM (testserver closes its connections and exits) and
// kills the server if it has not exited within 5 s.
func (p *testserverProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}
