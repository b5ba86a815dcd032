// Package proxy is a small HTTP proxy for tests, on loopback only: absolute-form requests
// (RFC 9112 §3.2.2) are forwarded, CONNECT (RFC 9110 §9.3.6) opens a tunnel, and every request
// is logged so a test can check what went through. It refuses targets that are not loopback
// addresses.
package proxy

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// Config describes the proxy. The zero value accepts anyone on 127.0.0.1 and a random port.
type Config struct {
	Addr       string // default "127.0.0.1:0"; must be a loopback address
	User, Pass string // when User is set, requests need Proxy-Authorization Basic with these
	// ConnectFraming adds conflicting framing fields to the 2xx answer to CONNECT, which a
	// server must not send and a client must ignore (RFC 9110 §9.3.6).
	ConnectFraming bool
	// MaxTunnels, when positive, is how many tunnels may be open at once: a CONNECT beyond
	// them is answered 503 with Retry-After: 1, as a proxy that limits each client does.
	MaxTunnels int
}

// Request is one entry of the log.
type Request struct {
	Method string
	Target string // the request-target as received: absolute URL, or host:port for CONNECT
	Auth   string // Proxy-Authorization as received
}

// Proxy is a running proxy.
type Proxy struct {
	cfg  Config
	ln   net.Listener
	srv  *http.Server
	mu   sync.Mutex
	log  []Request
	done chan struct{}
	tr   *http.Transport
	// tunnels is how many tunnels are open; refused counts the CONNECTs refused for MaxTunnels.
	tunnels, refused int
}

// Start listens and serves until Close.
func Start(cfg Config) (*Proxy, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	ap, err := netip.ParseAddrPort(cfg.Addr)
	if err != nil || !ap.Addr().IsLoopback() {
		return nil, fmt.Errorf("proxy: %q is not a loopback address", cfg.Addr)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	p := &Proxy{cfg: cfg, ln: ln, done: make(chan struct{}),
		tr: &http.Transport{DisableCompression: true, ForceAttemptHTTP2: false, Proxy: nil}}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { p.srv.Serve(ln); close(p.done) }()
	return p, nil
}

// URL is the proxy's URL, with credentials when given (for --proxy).
func (p *Proxy) URL(user, pass string) string {
	if user != "" {
		return "http://" + user + ":" + pass + "@" + p.ln.Addr().String()
	}
	return "http://" + p.ln.Addr().String()
}

// Requests returns a copy of the log.
func (p *Proxy) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.log...)
}

// Refused reports how many CONNECTs were refused because MaxTunnels were open.
func (p *Proxy) Refused() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused
}

// Close stops the proxy and its connections.
func (p *Proxy) Close() error {
	err := p.srv.Close()
	<-p.done
	p.tr.CloseIdleConnections()
	return err
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.RequestURI
	p.mu.Lock()
	p.log = append(p.log, Request{Method: r.Method, Target: target, Auth: r.Header.Get("Proxy-Authorization")})
	p.mu.Unlock()
	if p.cfg.User != "" {
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte(p.cfg.User+":"+p.cfg.Pass))
		if r.Header.Get("Proxy-Authorization") != want {
			w.Header().Set("Proxy-Authenticate", `Basic realm="test proxy"`)
			http.Error(w, "proxy authentication required", http.StatusProxyAuthRequired)
			return
		}
	}
	host := r.Host
	if r.Method != http.MethodConnect {
		host = r.URL.Host
	}
	if err := loopbackOnly(host); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	if r.Method == http.MethodConnect {
		p.tunnel(w, r)
		return
	}
	if !r.URL.IsAbs() {
		http.Error(w, "not a proxy request (origin-form target)", http.StatusBadRequest)
		return
	}
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.Header.Del("Proxy-Authorization")
	out.Header.Del("Proxy-Connection")
	resp, err := p.tr.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// tunnel answers a CONNECT: 200, then bytes both ways until either side closes.
func (p *Proxy) tunnel(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	full := p.cfg.MaxTunnels > 0 && p.tunnels >= p.cfg.MaxTunnels
	if full {
		p.refused++
	} else {
		p.tunnels++
	}
	p.mu.Unlock()
	if full {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many tunnels", http.StatusServiceUnavailable)
		return
	}
	defer func() {
		p.mu.Lock()
		p.tunnels--
		p.mu.Unlock()
	}()
	up, err := net.DialTimeout("tcp", r.Host, 10*time.Second)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		up.Close()
		http.Error(w, "cannot hijack", http.StatusInternalServerError)
		return
	}
	down, rw, err := hj.Hijack()
	if err != nil {
		up.Close()
		return
	}
	answer := "HTTP/1.1 200 Connection established\r\n\r\n"
	if p.cfg.ConnectFraming {
		answer = "HTTP/1.1 200 Connection established\r\nContent-Length: 7\r\nContent-Length: 9\r\nTransfer-Encoding: chunked\r\n\r\n"
	}
	_, err = rw.WriteString(answer)
	if err == nil {
		err = rw.Flush()
	}
	if err != nil {
		down.Close()
		up.Close()
		return
	}
	// Bytes the client sent after its CONNECT head (none, for a TLS client) are in rw.Reader.
	go func() {
		io.Copy(up, rw.Reader)
		up.(*net.TCPConn).CloseWrite()
	}()
	io.Copy(down, up)
	down.Close()
	up.Close()
}

func loopbackOnly(hostport string) error {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return errors.New("proxy: only loopback targets are allowed")
	}
	return nil
}
