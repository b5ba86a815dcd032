package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rangedl/rangedl/loop"
)

// This file turns a URL into the parts of a loop.Job that depend on it (host, request
// target, TLS, headers, addresses), and follows redirects from one URL to the next.

// parseURL checks a URL given on the command line.
func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(escapeRaw(raw))
	if err != nil {
		if _, rerr := url.Parse(raw); rerr != nil {
			err = rerr // about the text as given
		}
		return nil, fmt.Errorf("bad URL %q: %v", redactRaw(raw), parseError(raw, err))
	}
	u.Host = strings.TrimSuffix(u.Host, ":") // RFC 3986 §3.2.3: an empty port is no port
	if err := checkURL(u); err != nil {
		return nil, fmt.Errorf("bad URL %q: %v", redactRaw(raw), err)
	}
	return u, nil
}

// mustEscape are the printable ASCII bytes that a URL's path or query may not hold as they are.
const mustEscape = "\"<>\\^`{|}"

// escapeRaw percent-encodes the bytes of raw, after its scheme and host, that a URL may not
// hold as they are (a space, the bytes of a non-ASCII character, mustEscape), as browsers and
// curl send them. Done before url.Parse, it keeps what raw encodes as it was: given a byte it
// must encode, url.URL.EscapedPath encodes the decoded path afresh, and "a%2Fb c" was asked
// for as "a/b%20c", another resource (RFC 3986 §2.2: a reserved character encoded is data,
// not a delimiter).
func escapeRaw(raw string) string {
	from := 0 // where the path starts: after "scheme://host", or "//host", if there
	if i := strings.Index(raw, "//"); i >= 0 && (i == 0 || raw[i-1] == ':') && !strings.ContainsAny(raw[:i], "/?#") {
		from = i + 2
		if j := strings.IndexAny(raw[from:], "/?#"); j >= 0 {
			from += j
		} else {
			from = len(raw)
		}
	}
	var b strings.Builder
	for i := from; i < len(raw); i++ {
		if c := raw[i]; c == ' ' || c >= 0x80 || strings.IndexByte(mustEscape, c) >= 0 {
			if b.Len() == 0 {
				b.WriteString(raw[:i])
			}
			fmt.Fprintf(&b, "%%%02X", c)
		} else if b.Len() > 0 {
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 {
		return raw
	}
	return b.String()
}

func checkURL(u *url.URL) error {
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("only http:// and https:// URLs are supported")
	case u.Hostname() == "":
		return errors.New("no host")
	case !isASCII(u.Hostname()):
		// An internationalised name goes to DNS, TLS and the Host field in its ASCII form
		// (RFC 5891), which takes IDNA tables this program does not carry.
		return fmt.Errorf("host %q: a host name must be ASCII; give its xn-- form", u.Hostname())
	case strings.Contains(u.Hostname(), "%"):
		if err := checkZone(u.Hostname()); err != nil {
			return fmt.Errorf("host %q: %v", u.Hostname(), err)
		}
	case linkLocal(u.Hostname()):
		return fmt.Errorf("host %q: %v", u.Hostname(), errNoZone)
	}
	return checkPort(u.Port())
}

// linkLocal reports whether host is a link-local IPv6 address (fe80::/10; not an IPv4 one in
// IPv6 form, ::ffff:169.254.0.0/112, which is dialled as IPv4 and needs no zone).
func linkLocal(host string) bool {
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Is6() && !ip.Is4In6() && ip.IsLinkLocalUnicast()
}

// checkZone checks a host with a '%' in it, which only a link-local IPv6 address with a zone
// may have (RFC 6874: http://[fe80::1%25eth0]/): the zone names an interface of this machine,
// by name or by index.
func checkZone(host string) error {
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return errZoneOnly
	}
	_, err = zoneIndexed(ip)
	return err
}

// errNoZone refuses a link-local address without a zone: no socket reaches one without its
// interface (connect: invalid argument).
var errNoZone = errors.New("a link-local address takes a zone that names the interface, as in http://[fe80::1%25eth0]/")

var errZoneOnly = errors.New("a % in a host is only for an IPv6 zone, as in [fe80::1%25eth0]")

// zoneIndexed checks ip's zone as checkZone does, and returns ip with the zone as the
// interface's index, which the loop connects with as it is: the interface is looked up here,
// once, rather than at each connect, in the loop.
func zoneIndexed(ip netip.Addr) (netip.Addr, error) {
	switch {
	case !ip.Is6() || ip.Is4In6():
		return ip, errZoneOnly
	case !ip.IsLinkLocalUnicast():
		return ip, errors.New("a zone is only for a link-local address (fe80::/10)")
	}
	i, err := loop.ZoneIndex(ip.Zone())
	if err != nil {
		return ip, err
	}
	return ip.WithZone(strconv.Itoa(i)), nil
}

// checkPort checks a URL's port: none, or 1..65535.
func checkPort(p string) error {
	if p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("bad port %q", p)
		}
	}
	return nil
}

// samePort reports whether two spellings of a port are one port (030111 and 30111).
func samePort(a, b string) bool {
	x, err := strconv.Atoi(a)
	y, err2 := strconv.Atoi(b)
	return err == nil && err2 == nil && x == y
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// redactRaw hides the password of a URL, for a message, and leaves the rest as it was written.
// In a URL that parses, the password is between the first ':' and the last '@' of the
// authority, which ends at the first '/', '?' or '#' (as url.Parse reads it): a URL whose
// query holds "t=10:00&to=a@b" has none. In one that does not parse, everything between the
// first ':' after the scheme and the last '@' goes, which may hide more than the password
// (never less: a password written raw may hold '/', '?' or '#').
func redactRaw(raw string) string {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		rest = raw
	}
	end := len(rest)
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		if _, err := url.Parse(escapeRaw(raw)); err == nil {
			end = i
		}
	}
	at := strings.LastIndexByte(rest[:end], '@')
	colon := strings.IndexByte(rest[:max(at, 0)], ':')
	if at < 0 || colon < 0 {
		return raw
	}
	off := len(raw) - len(rest)
	return raw[:off+colon+1] + "xxxxx" + raw[off+at:]
}

// parseError describes why raw did not parse, without quoting a password (url.Parse's errors
// quote the part they could not read).
func parseError(raw string, err error) error {
	if redactRaw(raw) != raw {
		return errors.New("cannot be parsed")
	}
	return errors.Unwrap(err)
}

// retarget points job at u, which origin (the URL the user gave) led to. Credentials go only
// to origin's scheme, host and port: a redirect elsewhere does not get them.
func retarget(job *loop.Job, u, origin *url.URL, opt options) error {
	job.URL = u.Redacted()
	job.Origin = ""
	if u != origin {
		job.Origin = origin.Redacted()
	}
	job.Host = u.Host
	job.Target = requestTarget(u)
	job.TLS = nil
	if u.Scheme == "https" {
		var err error
		name, _, _ := strings.Cut(u.Hostname(), "%") // a zone is not part of the certificate's name
		if job.TLS, err = opt.shared.tlsConfig(name, opt); err != nil {
			return err
		}
	}
	job.Proxy, job.Tunnel, job.ProxyAuth = "", "", ""
	proxy, err := proxyFor(u, opt)
	if err != nil {
		return err
	}
	if proxy != nil {
		port := proxy.Port()
		if port == "" {
			port = "1080"
		}
		job.Proxy = net.JoinHostPort(proxy.Hostname(), port)
		if proxy.User != nil {
			pass, _ := proxy.User.Password()
			job.ProxyAuth = "Basic " + base64.StdEncoding.EncodeToString([]byte(proxy.User.Username()+":"+pass))
		}
		if u.Scheme == "https" {
			job.Tunnel = u.Host
			if u.Port() == "" {
				job.Tunnel = net.JoinHostPort(u.Hostname(), "443")
			}
		} else {
			// absolute-form (RFC 9112 §3.2.2): the proxy needs the whole URL
			job.Target = u.Scheme + "://" + u.Host + job.Target
		}
	}
	same := sameOrigin(u, origin)
	job.Header = job.Header[:0:0]
	accept, auth := true, same // ours, unless -H gives its own
	for _, h := range opt.headers {
		name, _, _ := strings.Cut(h, ":")
		if !same && isCredential(name) {
			continue
		}
		switch {
		case strings.EqualFold(name, "accept"):
			accept = false
		case strings.EqualFold(name, "authorization"):
			auth = false
		}
		job.Header = append(job.Header, h)
	}
	if accept {
		job.Header = append(job.Header, "Accept: */*")
	}
	if opt.referer != "" {
		job.Header = append(job.Header, "Referer: "+opt.referer)
	}
	if auth {
		if user, pass, ok := credentials(origin, opt); ok {
			job.Header = append(job.Header, "Authorization: Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
		}
	}
	if job.ProxyAuth != "" && job.Tunnel == "" {
		job.Header = append(job.Header, "Proxy-Authorization: "+job.ProxyAuth)
	}
	return nil
}

// proxyFor returns the HTTP proxy for u, or nil: --proxy (--proxy "" for none), else
// http_proxy or https_proxy (lower case first, as curl reads them), unless no_proxy lists u's
// host. A loopback host is never sent to a proxy from the environment (a proxy elsewhere
// cannot reach our loopback), and an address with a zone, which names a link of this machine,
// to none at all.
func proxyFor(u *url.URL, opt options) (*url.URL, error) {
	switch {
	case strings.Contains(u.Hostname(), "%"): // checkURL let only a zone through
		return nil, nil
	case opt.proxyURL != nil:
		return opt.proxyURL, nil // parsed once, at start (parseValues)
	case opt.noEnvProxy:
		return nil, nil
	}
	name := u.Scheme + "_proxy"
	raw := os.Getenv(name)
	if raw == "" && (u.Scheme != "http" || os.Getenv("REQUEST_METHOD") == "") {
		// Upper case too, except HTTP_PROXY under CGI, where a request's "Proxy:" header
		// arrives as HTTP_PROXY ("httpoxy").
		name = strings.ToUpper(name)
		raw = os.Getenv(name)
	}
	if raw == "" || noProxy(u) || isLoopback(u.Hostname()) {
		return nil, nil
	}
	return parseProxy(raw, name)
}

// parseProxy parses the proxy URL raw, which from (a flag or a variable) gave.
func parseProxy(raw, from string) (*url.URL, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw // the usual shorthand, host:port
	}
	p, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s %q: %v", from, redactRaw(raw), parseError(raw, err))
	case p.Scheme != "http":
		return nil, fmt.Errorf("%s %q: only http:// proxies are supported", from, p.Redacted())
	case p.Hostname() == "":
		return nil, fmt.Errorf("%s %q: no host", from, p.Redacted())
	case strings.Contains(p.Hostname(), "%"):
		if err := checkZone(p.Hostname()); err != nil {
			return nil, fmt.Errorf("%s %q: host %q: %v", from, p.Redacted(), p.Hostname(), err)
		}
	case linkLocal(p.Hostname()):
		return nil, fmt.Errorf("%s %q: host %q: %v", from, p.Redacted(), p.Hostname(), errNoZone)
	}
	if err := checkPort(p.Port()); err != nil {
		return nil, fmt.Errorf("%s %q: %v", from, p.Redacted(), err)
	}
	return p, nil
}

// noProxy reports whether no_proxy (or NO_PROXY) exempts u: "*", a host name (which also
// covers its subdomains; a leading dot is optional), an IP address, or a CIDR prefix, each
// optionally with ":port".
func noProxy(u *url.URL) bool {
	list := os.Getenv("no_proxy")
	if list == "" {
		list = os.Getenv("NO_PROXY")
	}
	host, port := strings.TrimSuffix(strings.ToLower(u.Hostname()), "."), u.Port() // a final dot names the same host
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	ip, ipErr := netip.ParseAddr(host)
	ip = ip.Unmap() // [::ffff:10.1.2.3] is dialled as 10.1.2.3, and matches as it
	for _, e := range strings.Split(list, ",") {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "" {
			continue
		}
		if e == "*" {
			return true
		}
		if h, p, err := net.SplitHostPort(e); err == nil {
			if !samePort(p, port) {
				continue
			}
			e = h
		}
		e = strings.Trim(e, "[]")
		pfx, err := netip.ParsePrefix(e)
		if a, aerr := netip.ParseAddr(e); aerr == nil {
			pfx, err = netip.PrefixFrom(a, a.BitLen()), nil // an address is a prefix of itself
		}
		if a := pfx.Addr(); err == nil && a.Is4In6() && pfx.Bits() >= 96 {
			pfx = netip.PrefixFrom(a.Unmap(), pfx.Bits()-96) // as the addresses it covers are dialled
		}
		if err == nil {
			if ipErr == nil && pfx.Contains(ip) {
				return true
			}
			continue
		}
		if ipErr == nil {
			continue // an address matches addresses only: 2.3 is no suffix of 10.1.2.3
		}
		e = strings.TrimSuffix(strings.TrimPrefix(e, "."), ".")
		if host == e || strings.HasSuffix(host, "."+e) {
			return true
		}
	}
	return false
}

func isLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// sameOrigin reports whether a and b have one scheme, host and port (RFC 6454 §5), however
// they spell them: a host in any case, a port given or left to the scheme's default. Compared
// as written, http://h/ and a redirect to http://H:80/ were two servers, and the second did not
// get the credentials (curl and wget send them).
func sameOrigin(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && strings.EqualFold(a.Hostname(), b.Hostname()) && samePort(portOf(a), portOf(b))
}

// portOf is u's port, or its scheme's default.
func portOf(u *url.URL) string {
	switch {
	case u.Port() != "":
		return u.Port()
	case u.Scheme == "https":
		return "443"
	}
	return "80"
}

// isCredential reports whether a request header field carries credentials.
func isCredential(name string) bool {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "authorization", "cookie", "proxy-authorization":
		return true
	}
	return false
}

// credentials returns the user and password for u: --user, else the URL's user:password@,
// else (with --netrc) the netrc entry for its host. A URL's user without a password takes
// the password of the netrc entry for its host when that entry is for the same user, as curl
// does: an empty one was sent.
func credentials(u *url.URL, opt options) (user, pass string, ok bool) {
	switch {
	case opt.user != "":
		user, pass, _ = strings.Cut(opt.user, ":")
		return user, pass, true
	case u.User != nil:
		pass, set := u.User.Password()
		if l, ok := opt.netrc.lookup(u.Hostname()); !set && ok && l.user == u.User.Username() {
			pass = l.pass
		}
		return u.User.Username(), pass, true
	case opt.netrc != nil:
		l, ok := opt.netrc.lookup(u.Hostname())
		return l.user, l.pass, ok
	}
	return "", "", false
}

// netrcPath is $NETRC, else .netrc in the home directory: $HOME, else the user's entry in the
// password database, as curl finds it. Without either there is no file to read (it was
// ./.netrc, whatever the current directory holds).
func netrcPath() (string, error) {
	if p := os.Getenv("NETRC"); p != "" {
		return p, nil
	}
	home := os.Getenv("HOME")
	if home == "" {
		u, err := user.Current()
		if err != nil || u.HomeDir == "" {
			return "", errors.New("no home directory to find .netrc in ($HOME is not set); set NETRC to the file")
		}
		home = u.HomeDir
	}
	return filepath.Join(home, ".netrc"), nil
}

// A netrc holds the logins of a netrc file, read once: "machine HOST login L password P"
// entries, and a "default" entry for every other host. Keywords and host names are matched in
// any case, as curl matches them.
type netrc struct {
	machines map[string]*netrcLogin // the first entry of each host
	def      *netrcLogin
}

type netrcLogin struct{ user, pass string }

func (n *netrc) lookup(host string) (netrcLogin, bool) {
	if n == nil { // no --netrc
		return netrcLogin{}, false
	}
	l := n.machines[strings.ToLower(host)]
	if l == nil {
		l = n.def
	}
	if l == nil {
		return netrcLogin{}, false
	}
	return *l, *l != netrcLogin{} // an entry without login or password gives none (not "Basic Og==")
}

// readNetrc reads a netrc file (see netrcTokens).
func readNetrc(path string) (*netrc, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	n := &netrc{machines: map[string]*netrcLogin{}}
	var cur *netrcLogin // the entry being read; nil before the first, or in a repeated one
	tokens := netrcTokens(string(data))
	for i := 0; i < len(tokens); i++ {
		next := func() string {
			if i+1 < len(tokens) {
				i++
				return tokens[i]
			}
			return ""
		}
		switch strings.ToLower(tokens[i]) {
		case "machine":
			cur = nil
			if host := strings.ToLower(next()); n.machines[host] == nil {
				cur = new(netrcLogin)
				n.machines[host] = cur
			}
		case "default":
			cur = nil
			if n.def == nil {
				cur = new(netrcLogin)
				n.def = cur
			}
		case "login":
			if v := next(); cur != nil {
				cur.user = v
			}
		case "password":
			if v := next(); cur != nil {
				cur.pass = v
			}
		case "account":
			next()
		}
	}
	return n, nil
}

// netrcTokens splits a netrc file into its tokens, as curl reads them: tokens are separated by
// white space; one that starts with '#' starts a comment, to the end of its line; one in
// double quotes may hold white space and the escapes \" \\ \n \r \t. "macdef NAME" and the
// macro's body, up to a blank line, are skipped.
func netrcTokens(text string) []string {
	var tokens []string
	inMacro := false
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if inMacro {
			inMacro = strings.TrimSpace(line) != ""
			continue
		}
		for rest := line; ; {
			rest = strings.TrimLeft(rest, " \t\f\v")
			if rest == "" || rest[0] == '#' {
				break
			}
			if rest[0] == '"' {
				var tok string
				tok, rest = unquoteNetrc(rest[1:])
				tokens = append(tokens, tok)
				continue
			}
			end := strings.IndexAny(rest, " \t\f\v")
			if end < 0 {
				end = len(rest)
			}
			if strings.EqualFold(rest[:end], "macdef") {
				inMacro = true
				break
			}
			tokens = append(tokens, rest[:end])
			rest = rest[end:]
		}
	}
	return tokens
}

// unquoteNetrc reads a quoted token from s, which follows its opening quote, up to its closing
// quote (or the end of the line), and returns it and what follows.
func unquoteNetrc(s string) (string, string) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return b.String(), s[i+1:]
		case c == '\\' && i+1 < len(s):
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), ""
}

// checkHeader validates one -H value: "Name: value", with a token name and no line break. The
// fields rangedl manages itself (ranges, framing, the connection) cannot be set.
func checkHeader(h string) error {
	name, value, ok := strings.Cut(h, ":")
	shown := h
	if isCredential(name) {
		shown = name + ": xxxxx" // a secret mistyped is not printed, as a URL's password is not
	}
	if !ok || !isToken(name) {
		// Only the name, as far as it goes: "Authorization Bearer TOKEN" has no ':'.
		first := strings.IndexFunc(h, func(r rune) bool { return r > 0x7e || !isToken(string(r)) })
		if first >= 0 {
			shown = h[:first] + "…"
		}
		return fmt.Errorf("-H %q: want \"Name: value\"", shown)
	}
	if hasControl(value) {
		// Whatever follows a line break in it (another field, say) is not printed either.
		return fmt.Errorf("-H %q: a header value cannot hold control characters", name+": …")
	}
	switch strings.ToLower(name) {
	case "host", "range", "if-range", "accept-encoding", "connection", "keep-alive", "te",
		"transfer-encoding", "content-length", "upgrade":
		return fmt.Errorf("-H %q: rangedl sets %s itself", h, name)
	case "user-agent":
		return fmt.Errorf("-H %q: use -U to set the user agent", h)
	case "proxy-authorization":
		return fmt.Errorf("-H %q: give the proxy's user and password in --proxy http://USER:PASS@HOST:PORT", shown)
	}
	return nil
}

// isToken reports whether s is an RFC 9110 §5.6.2 token, as a field name must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// hasControl reports whether s holds a control character other than tab (RFC 9110 §5.5: a
// field value may not; CR and LF would end the field).
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

// requestTarget is u's path and query as a request-target (RFC 9112 §3.2), with every byte a
// request line cannot carry (spaces, controls, non-ASCII, and "<>\^`{|} ) percent-encoded: a
// URL on the command line or in a Location may hold them raw.
func requestTarget(u *url.URL) string {
	t := u.EscapedPath()
	if t == "" {
		t = "/"
	}
	if u.RawQuery != "" || u.ForceQuery {
		t += "?" + u.RawQuery
	}
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(mustEscape, c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// newTLSConfig is the client side of https: the system's roots plus --cacert, verification on
// unless -k, only HTTP/1.1 offered by ALPN (HTTP/2 would put every range on one TCP
// connection), and one session cache so that connections after the first resume the session.
func newTLSConfig(host string, opt options) (*tls.Config, error) {
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if opt.cacert != "" {
		pem, err := os.ReadFile(opt.cacert)
		if err != nil {
			return nil, fmt.Errorf("--cacert: %v", err)
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--cacert %s: no PEM certificate in it", opt.cacert)
		}
	}
	return &tls.Config{
		ServerName:         host,
		RootCAs:            roots,
		InsecureSkipVerify: opt.insecure,
		NextProtos:         []string{"http/1.1"},
		ClientSessionCache: tls.NewLRUClientSessionCache(0),
		MinVersion:         tls.VersionTLS12,
	}, nil
}

// resolve looks up the host before the loop starts (DNS runs off the loop). -4 and -6 keep one
// family.
func resolve(job *loop.Job, opt options) error {
	dial := job.Host
	if job.Proxy != "" {
		dial = job.Proxy
	}
	// dial is a URL's host as url.URL.Host holds it (percent-decoded: an IPv6 zone or a '%'
	// in a name would not parse as a URL again): "name", "name:port", "[v6]" or "[v6]:port".
	host, port, err := net.SplitHostPort(dial)
	if err != nil {
		host, port = strings.TrimSuffix(strings.TrimPrefix(dial, "["), "]"), ""
	}
	if port == "" {
		port = "80"
		if job.TLS != nil && job.Proxy == "" {
			port = "443"
		}
	}
	pn, _ := strconv.Atoi(port)
	ips, err := pinned(opt.resolve, host, port)
	if err != nil {
		return err
	}
	if ips != nil {
		// --resolve: the addresses given, in their order
	} else if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			if ip, err = zoneIndexed(ip); err != nil {
				return fmt.Errorf("%s: %v", host, err)
			}
		}
		ips = []netip.Addr{ip}
	} else if ips, err = opt.shared.lookup(host, opt.connectTimeout); err != nil {
		return err
	}
	job.Addrs = job.Addrs[:0:0]
	for _, ip := range ips {
		ip = ip.Unmap()
		if (opt.ipv4 && !ip.Is4()) || (opt.ipv6 && !ip.Is6()) {
			continue
		}
		job.Addrs = append(job.Addrs, netip.AddrPortFrom(ip, uint16(pn)))
	}
	if len(job.Addrs) == 0 {
		family := "IPv4"
		if opt.ipv6 {
			family = "IPv6"
		}
		return fmt.Errorf("%s has no %s address", host, family)
	}
	return nil
}

// lookup asks DNS for host's addresses, within timeout (--connect-timeout, as in curl: it was
// always the default 15 s).
func lookup(host string, timeout time.Duration) ([]netip.Addr, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil && ctx.Err() == context.DeadlineExceeded {
		return nil, fmt.Errorf("cannot resolve %s: no answer within %v (--connect-timeout)", host, timeout)
	}
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) {
			return nil, fmt.Errorf("cannot resolve %s: %s", host, dnsErr.Err)
		}
		return nil, fmt.Errorf("cannot resolve %s: %v", host, err)
	}
	return ips, nil
}

// checkResolve checks the syntax of every --resolve entry.
func checkResolve(entries []string) error {
	for _, e := range entries {
		h, rest, _ := strings.Cut(e, ":")
		p, _, _ := strings.Cut(rest, ":")
		if _, err := pinned([]string{e}, h, p); err != nil {
			return err
		}
		if p == "" || checkPort(p) != nil {
			return fmt.Errorf("--resolve %q: port %q: want 1..65535", e, p) // it would never match
		}
	}
	return nil
}

// pinned returns the --resolve addresses for host and port, or nil when none is given. An
// entry is HOST:PORT:ADDR[,ADDR...], as curl's --resolve.
func pinned(entries []string, host, port string) ([]netip.Addr, error) {
	for _, e := range entries {
		h, rest, ok1 := strings.Cut(e, ":")
		p, list, ok2 := strings.Cut(rest, ":")
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("--resolve %q: want HOST:PORT:ADDRESS[,ADDRESS...]", e)
		}
		if !strings.EqualFold(h, host) || !samePort(p, port) {
			continue
		}
		var ips []netip.Addr
		for _, a := range strings.Split(list, ",") {
			ip, err := netip.ParseAddr(strings.Trim(a, "[]"))
			if err != nil {
				return nil, fmt.Errorf("--resolve %q: %q is not an IP address", e, a)
			}
			if ip.Zone() != "" {
				if ip, err = zoneIndexed(ip); err != nil {
					return nil, fmt.Errorf("--resolve %q: %q: %v", e, a, err)
				}
			} else if linkLocal(ip.String()) {
				return nil, fmt.Errorf("--resolve %q: %q: %v", e, a, errNoZone)
			}
			ips = append(ips, ip)
		}
		return ips, nil
	}
	return nil, nil
}

// needsFlag is a redirect refused unless a flag, which the message names, says otherwise: the
// same command would be refused again.
type needsFlag struct{ error }

// nextURL checks a redirect from cur to location (RFC 9110 §10.2.2: relative to cur) and
// returns where to go. seen holds every URL of the chain so far.
func nextURL(cur *url.URL, location string, opt options, seen map[string]bool) (*url.URL, error) {
	next, err := cur.Parse(escapeRaw(location))
	if err != nil {
		return nil, fmt.Errorf("%s redirects to a bad URL %q", cur.Redacted(), redactRaw(location))
	}
	next.Host = strings.TrimSuffix(next.Host, ":")
	next.Fragment, next.RawFragment = "", ""
	if err := checkURL(next); err != nil {
		return nil, fmt.Errorf("%s redirects to %s: %v", cur.Redacted(), next.Redacted(), err)
	}
	if cur.Scheme == "https" && next.Scheme == "http" && !opt.allowDowngrade {
		return nil, needsFlag{fmt.Errorf("%s redirects to %s, from https to plain http: refused (use --allow-downgrade to follow it)", cur.Redacted(), next.Redacted())}
	}
	if seen[next.String()] {
		return nil, fmt.Errorf("redirect loop: %s redirects back to %s", cur.Redacted(), next.Redacted())
	}
	if len(seen) > opt.maxRedirects {
		return nil, needsFlag{fmt.Errorf("more than %d redirects, the last from %s to %s (see --max-redirects)", opt.maxRedirects, cur.Redacted(), next.Redacted())}
	}
	seen[next.String()] = true
	return next, nil
}
