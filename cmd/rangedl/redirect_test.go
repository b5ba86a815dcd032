package main

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rangedl/rangedl/bench/server"
	"github.com/rangedl/rangedl/loop"
)

// TestRedirectChain follows a relative and then an absolute redirect; every range request goes
// to the final URL.
func TestRedirectChain(t *testing.T) {
	end := startServer(t, server.Config{Seed: 41})
	s2 := startServer(t, server.Config{Seed: 41, Faults: []server.Fault{
		{Kind: server.Redirect, Request: 1, Target: "next/hop"},
		{Kind: server.Redirect, Request: 2, Target: end.URL("/8M.bin")},
	}})
	r := rangedl(t, "-q", "-n", "4", "-o", "f", s2.URL("/dir/8M"))
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(r.out, "f"), 41, 8<<20)
	reqs := s2.Requests()
	if len(reqs) != 2 || reqs[0].Path != "/dir/8M" || reqs[1].Path != "/dir/next/hop" {
		t.Fatalf("first server saw %+v; want /dir/8M then /dir/next/hop (relative to the first)", reqs)
	}
	for _, req := range end.Requests() {
		if req.Path != "/8M.bin" {
			t.Errorf("a request for %s; want every one for the final URL", req.Path)
		}
	}
	if got := end.Stats().BodyBytes; got != 8<<20 {
		t.Errorf("final server sent %d bytes; want %d", got, 8<<20)
	}
}

func TestRedirectLimits(t *testing.T) {
	looping := startServer(t, server.Config{Faults: []server.Fault{{Kind: server.RedirectLoop}}})
	r := rangedl(t, "-o", "f", looping.URL("/1M"))
	if r.code != exitHTTP || !regexp.MustCompile(`^rangedl: redirect loop: http://127\.0\.0\.1:\d+/loop/\S+ redirects back to http://127\.0\.0\.1:\d+/loop/\S+\n$`).MatchString(r.stderr) {
		t.Errorf("loop: exit %d, stderr %q", r.code, r.stderr)
	}
	chain := startServer(t, server.Config{Faults: []server.Fault{
		{Kind: server.Redirect, Request: 1, Target: "/a"},
		{Kind: server.Redirect, Request: 2, Target: "/b"},
		{Kind: server.Redirect, Request: 3, Target: "/1M.bin"},
	}})
	r = rangedl(t, "--max-redirects", "2", "-o", "f", chain.URL("/1M"))
	if r.code != exitHTTP || !regexp.MustCompile(`^rangedl: more than 2 redirects, the last from http://127\.0\.0\.1:\d+/b to http://127\.0\.0\.1:\d+/1M\.bin \(see --max-redirects\)\n$`).MatchString(r.stderr) {
		t.Errorf("--max-redirects 2: exit %d, stderr %q", r.code, r.stderr)
	}
	if ents, _ := os.ReadDir(r.out); len(ents) != 0 {
		t.Errorf("files left after a refused redirect: %d", len(ents))
	}
}

// TestRedirectCredentials: Authorization and cookies go to the URL the user gave, not to
// another host a redirect names; other headers go everywhere.
func TestRedirectCredentials(t *testing.T) {
	end := startServer(t, server.Config{Addr: "[::1]:0", Seed: 42})
	start := startServer(t, server.Config{Faults: []server.Fault{{Kind: server.Redirect, Request: 1, Target: end.URL("/2M")}}})
	r := rangedl(t, "-q", "--user", "alice:secret", "-H", "Cookie: session=1", "-H", "X-Trace: yes",
		"-U", "probe/1.0", "--referer", "http://example.com/", "-o", "f", start.URL("/2M"))
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(r.out, "f"), 42, 2<<20)
	first := start.Requests()[0].Header
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:secret"))
	if first.Get("Authorization") != auth || first.Get("Cookie") != "session=1" {
		t.Errorf("first host got Authorization %q, Cookie %q; want %q, %q", first.Get("Authorization"), first.Get("Cookie"), auth, "session=1")
	}
	for _, req := range end.Requests() {
		h := req.Header
		if h.Get("Authorization") != "" || h.Get("Cookie") != "" {
			t.Errorf("the other host got Authorization %q, Cookie %q; want neither", h.Get("Authorization"), h.Get("Cookie"))
		}
		if h.Get("X-Trace") != "yes" || h.Get("User-Agent") != "probe/1.0" || h.Get("Referer") != "http://example.com/" {
			t.Errorf("the other host got X-Trace %q, User-Agent %q, Referer %q", h.Get("X-Trace"), h.Get("User-Agent"), h.Get("Referer"))
		}
	}
}

// TestSameOrigin: credentials follow a redirect to the same scheme, host and port however it
// is spelled (a host in capitals, the default port written out); compared as written, they
// were dropped, and the server's 401 failed the download (a hunt).
func TestSameOrigin(t *testing.T) {
	t.Setenv("http_proxy", "")
	origin, err := parseURL("http://foo.test/f")
	if err != nil {
		t.Fatal(err)
	}
	for raw, want := range map[string]bool{
		"http://FOO.TEST:80/g": true, "http://foo.test:080/g": true, "http://Foo.Test/g": true,
		"http://foo.test:8080/g": false, "http://foo.test:443/g": false, "http://bar.test/g": false,
	} {
		u, err := parseURL(raw)
		if err != nil {
			t.Fatal(err)
		}
		var job loop.Job
		if err := retarget(&job, u, origin, options{user: "a:b", headers: []string{"Cookie: c=1"}}); err != nil {
			t.Fatal(err)
		}
		auth := slices.Contains(job.Header, "Authorization: Basic "+base64.StdEncoding.EncodeToString([]byte("a:b")))
		if cookie := slices.Contains(job.Header, "Cookie: c=1"); auth != want || cookie != want {
			t.Errorf("%s after %s: Authorization %v, Cookie %v; want %v", raw, origin, auth, cookie, want)
		}
	}
}

// TestRedactRaw: a message hides a URL's password, and only that: a ':' and an '@' in the
// query were taken for one (http://127.0.0.1:xxxxx@b.c, a hunt).
func TestRedactRaw(t *testing.T) {
	for raw, want := range map[string]string{
		"http://u:secret@h/x":            "http://u:xxxxx@h/x",
		"http://h:8080/x?t=10:00&to=a@b": "http://h:8080/x?t=10:00&to=a@b",
		"http://u:s@h/x?t=10:00&to=a@b":  "http://u:xxxxx@h/x?t=10:00&to=a@b",
		"http://u:se/cret@h/x":           "http://u:xxxxx@h/x", // does not parse: all up to the last '@'
		"http://u:se#cret@h/x":           "http://u:xxxxx@h/x",
		"http://h/x@y":                   "http://h/x@y",
	} {
		if got := redactRaw(raw); got != want {
			t.Errorf("redactRaw(%q) = %q; want %q", raw, got, want)
		}
	}
}

// TestRedirectDowngrade: https to plain http is refused unless --allow-downgrade.
func TestRedirectDowngrade(t *testing.T) {
	ca, caFile := testCA(t)
	plain := startServer(t, server.Config{Seed: 43})
	secure := startTLSServer(t, ca, server.Config{Faults: []server.Fault{{Kind: server.Redirect, Target: plain.URL("/1M")}}})
	r := rangedl(t, "--cacert", caFile, "-o", "f", secure.URL("/1M"))
	want := "rangedl: " + secure.URL("/1M") + " redirects to " + plain.URL("/1M") + ", from https to plain http: refused (use --allow-downgrade to follow it)\n"
	if r.code != exitHTTP || r.stderr != want {
		t.Fatalf("exit %d, stderr %q; want %d, %q", r.code, r.stderr, exitHTTP, want)
	}
	if plain.Stats().Requests != 0 {
		t.Error("the plain http server was contacted")
	}
	r = rangedl(t, "-q", "--cacert", caFile, "--allow-downgrade", "-o", "f", secure.URL("/1M"))
	if r.code != 0 {
		t.Fatalf("--allow-downgrade: exit %d\n%s", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(r.out, "f"), 43, 1<<20)
}

// TestExpiredRedirect: the URL a redirect led to answers 403 in the middle of the download (a
// signed URL expired); rangedl resolves the original URL again, once, and continues from what
// is saved.
func TestExpiredRedirect(t *testing.T) {
	s := startServer(t, server.Config{Seed: 44, Faults: []server.Fault{
		{Kind: server.Redirect, Request: 1, Target: "/16M.bin"},
		{Kind: server.Forbidden, Request: 5},
	}})
	r := rangedl(t, "-p", "-n", "2", "-o", "f", s.URL("/16M"))
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(r.out, "f"), 44, 16<<20)
	if !regexp.MustCompile(`^rangedl: HTTP 403 Forbidden from http://127\.0\.0\.1:\d+/16M\.bin: the redirected URL stopped working; starting again from http://127\.0\.0\.1:\d+/16M\n` +
		`rangedl: saved f: 16\.0 MiB in .*, continued from .*\n$`).MatchString(r.stderr) {
		t.Errorf("stderr %q", r.stderr)
	}
	reqs := s.Requests()
	if last := reqs[len(reqs)-1]; last.Path != "/16M" {
		t.Errorf("last request for %s; want the original /16M after the 403", last.Path)
	}
}

func TestHeaderChecks(t *testing.T) {
	for _, tc := range []struct{ h, want string }{
		{"Range: bytes=0-", `rangedl: -H "Range: bytes=0-": rangedl sets Range itself`},
		{"User-Agent: x", `rangedl: -H "User-Agent: x": use -U to set the user agent`},
		{"NoColon", `rangedl: -H "NoColon": want "Name: value"`},
		{"Bad Name: x", `rangedl: -H "Bad…": want "Name: value"`},
		{"X-A\r\nCookie: secret=1", `rangedl: -H "X-A…": want "Name: value"`},
		{"Authorization Bearer secret", `rangedl: -H "Authorization…": want "Name: value"`},
		// A secret is not printed (a hunt): a value read from a file with its line break, a
		// credential's name mistyped.
		{"X-A: 1\r\nCookie: secret=1", `rangedl: -H "X-A: …": a header value cannot hold control characters`},
		{"Authorization: Bearer secret\r", `rangedl: -H "Authorization: …": a header value cannot hold control characters`},
		{"Cookie : secret=1", `rangedl: -H "Cookie…": want "Name: value"`},
		{"Proxy-Authorization: Basic eA==", `rangedl: -H "Proxy-Authorization: xxxxx": give the proxy's user and password in --proxy http://USER:PASS@HOST:PORT`},
	} {
		r := rangedl(t, "-H", tc.h, "http://127.0.0.1:1/x")
		if r.code != exitUsage || !strings.HasPrefix(r.stderr, tc.want+"\n") {
			t.Errorf("-H %q: exit %d, stderr %q; want %d, %q", tc.h, r.code, r.stderr, exitUsage, tc.want)
		}
	}
}

// TestHeaderReplaces: -H Accept and -H Authorization replace rangedl's own field instead of
// adding a second one (two Authorization fields are invalid; before, --user added its own).
func TestHeaderReplaces(t *testing.T) {
	for _, tc := range []struct {
		args         []string
		accept, auth []string
	}{
		{nil, []string{"*/*"}, nil},
		{[]string{"--user", "u:p"}, []string{"*/*"}, []string{"Basic dTpw"}},
		{[]string{"--user", "u:p", "-H", "Authorization: Bearer tok", "-H", "accept: text/html"}, []string{"text/html"}, []string{"Bearer tok"}},
	} {
		s := startServer(t, server.Config{Seed: 47})
		r := rangedl(t, append(tc.args, "-q", "-o", "f", s.URL("/2M"))...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d\n%s", tc.args, r.code, r.stderr)
		}
		for _, req := range s.Requests() {
			if a, b := req.Header.Values("Accept"), req.Header.Values("Authorization"); !slices.Equal(a, tc.accept) || !slices.Equal(b, tc.auth) {
				t.Errorf("%v: Accept %q, Authorization %q; want %q, %q", tc.args, a, b, tc.accept, tc.auth)
			}
		}
	}
}

func TestNetrc(t *testing.T) {
	s := startServer(t, server.Config{Seed: 45})
	netrc := filepath.Join(t.TempDir(), "netrc")
	os.WriteFile(netrc, []byte("machine example.com login x password y\n\nmacdef init\nmachine 127.0.0.1 login no\n\n"+
		"machine 127.0.0.1\n  login bob\n  password hunter2\ndefault login anon password anon\n"), 0o600)
	t.Setenv("NETRC", netrc)
	r := rangedl(t, "-q", "--netrc", "-o", "f", s.URL("/1M"))
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("bob:hunter2"))
	for _, req := range s.Requests() {
		if got := req.Header.Get("Authorization"); got != want {
			t.Errorf("Authorization %q; want %q", got, want)
		}
	}
	n, err := readNetrc(netrc)
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := n.lookup("other.example"); !ok || l != (netrcLogin{"anon", "anon"}) {
		t.Errorf("default entry: %+v %v; want anon anon true", l, ok)
	}
}

// TestNetrcTokens: comments (a token that starts with '#', to the end of its line) and quoted
// tokens, as curl reads them. Before, the words of a commented-out entry were read, and sent
// one host's password to another.
func TestNetrcTokens(t *testing.T) {
	for _, tc := range []struct {
		text, host string
		want       netrcLogin
	}{
		{"machine a login alice password apw\n#machine b login bob password bpw\nmachine b login carol password cpw\n", "a", netrcLogin{"alice", "apw"}},
		{"machine a login alice password apw # login mallory password mpw\n", "a", netrcLogin{"alice", "apw"}},
		{"machine a login alice password \"two words\"\n", "a", netrcLogin{"alice", "two words"}},
		{`machine a login "q\"uote" password "back\\slash#\t"` + "\n", "a", netrcLogin{`q"uote`, "back\\slash#\t"}},
		{"machine a login alice password pw#notacomment\r\n", "a", netrcLogin{"alice", "pw#notacomment"}},
		{"machine a login first password 1\nmachine a login second password 2\n", "a", netrcLogin{"first", "1"}},
		{"macdef init\nmachine a login no password no\n\nmachine a login yes password yes\n", "a", netrcLogin{"yes", "yes"}},
		// Keywords and host names in any case, as curl reads them: the first was ignored, the
		// second's host took the default entry's login.
		{"MACHINE a LOGIN up PASSWORD pw\n", "a", netrcLogin{"up", "pw"}},
		{"machine x.test login bob password b\ndefault login def password d\n", "X.Test", netrcLogin{"bob", "b"}},
		{"MacDef init\nmachine a login no password no\n\nmachine a login yes password yes\n", "a", netrcLogin{"yes", "yes"}},
	} {
		path := filepath.Join(t.TempDir(), "netrc")
		os.WriteFile(path, []byte(tc.text), 0o600)
		n, err := readNetrc(path)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := n.lookup(tc.host); !ok || got != tc.want {
			t.Errorf("%q: %s has %+v, %v; want %+v", tc.text, tc.host, got, ok, tc.want)
		}
	}
	// An entry without login or password gives none: it sent "Authorization: Basic Og==".
	path := filepath.Join(t.TempDir(), "netrc")
	// The same for a bare default entry (a hunt: curl sends nothing there either).
	for text, host := range map[string]string{"machine a\ndefault login d password d\n": "a", "machine a login x password y\ndefault\n": "b"} {
		os.WriteFile(path, []byte(text), 0o600)
		if n, err := readNetrc(path); err != nil {
			t.Fatal(err)
		} else if got, ok := n.lookup(host); ok {
			t.Errorf("%q: an empty entry gives %s %+v; want no credentials", text, host, got)
		}
	}
	// A URL's user without a password takes the entry's password for that user, as curl's
	// does; an empty one was sent. Another user's entry gives none, and a password in the URL
	// stays.
	os.WriteFile(path, []byte("machine a.test login bob password secret\n"), 0o600)
	n, err := readNetrc(path)
	if err != nil {
		t.Fatal(err)
	}
	for raw, want := range map[string][2]string{"http://bob@a.test/": {"bob", "secret"}, "http://eve@a.test/": {"eve", ""}, "http://bob:pw@a.test/": {"bob", "pw"}} {
		u, _ := url.Parse(raw)
		if user, pass, _ := credentials(u, options{netrc: n}); [2]string{user, pass} != want {
			t.Errorf("%s: %s:%s; want %s:%s", raw, user, pass, want[0], want[1])
		}
	}
	t.Setenv("NETRC", filepath.Join(t.TempDir(), "missing"))
	r := rangedl(t, "--netrc", "http://127.0.0.1:1/x")
	if want := "rangedl: --netrc: open " + os.Getenv("NETRC") + ": no such file or directory\n"; r.code != exitUsage || !strings.HasPrefix(r.stderr, want) {
		t.Errorf("a missing netrc: exit %d, stderr %q; want %d, %q", r.code, r.stderr, exitUsage, want)
	}
}

func TestAddressFamily(t *testing.T) {
	s := startServer(t, server.Config{Addr: "[::1]:0", Seed: 46})
	r := rangedl(t, "-4", "-o", "f", s.URL("/1M"))
	if r.code != exitNetwork || r.stderr != "rangedl: ::1 has no IPv4 address\n" {
		t.Errorf("-4 with an IPv6 literal: exit %d, stderr %q", r.code, r.stderr)
	}
	r = rangedl(t, "-q", "-6", "-o", "f", s.URL("/1M"))
	if r.code != 0 {
		t.Fatalf("-6: exit %d\n%s", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(r.out, "f"), 46, 1<<20)
}

func TestRequestTarget(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"http://h", "/"},
		{"http://h/a%20b/c?x=1&y=%41", "/a%20b/c?x=1&y=%41"},
		{"http://h/p?a b&c=\u00e4", "/p?a%20b&c=%C3%A4"},
		{"http://h/p?q=\"<>`{|}", "/p?q=%22%3C%3E%60%7B%7C%7D"},
		{"http://h/d\u00e9j\u00e0", "/d%C3%A9j%C3%A0"},
		// An encoded reserved character stays encoded beside a byte to encode: it was decoded,
		// and another resource asked for (/api/group/proj/file%20name.bin).
		{"http://h/api/group%2Fproj/file name.bin", "/api/group%2Fproj/file%20name.bin"},
		{"http://h/k/a%2Fb/%C3%BC|x%3By?q=%2F \u00fc", "/k/a%2Fb/%C3%BC%7Cx%3By?q=%2F%20%C3%BC"},
	} {
		u, err := parseURL(tc.url)
		if err != nil {
			t.Fatalf("%q: %v", tc.url, err)
		}
		if got := requestTarget(u); got != tc.want {
			t.Errorf("requestTarget(%q) = %q; want %q", tc.url, got, tc.want)
		}
	}
}

// TestRedirectKeepsConnection: a list of files that all redirect to another server keeps its
// connections to both: the redirect's page is read, and the connection serves the next file.
func TestRedirectKeepsConnection(t *testing.T) {
	end := startServer(t, server.Config{Seed: 42})
	start := startServer(t, server.Config{Faults: []server.Fault{{Kind: server.Redirect, Target: end.URL("/5000")}}})
	var list strings.Builder
	for i := range 20 {
		fmt.Fprintf(&list, "%s\n  out=f%d\n", start.URL(fmt.Sprintf("/%d", i)), i)
	}
	dir := t.TempDir()
	writeList(t, dir, list.String())
	r := runIn(t, dir, plainBinary, "-q", "-j", "4", "-i", "list")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for i := range 20 {
		checkFile(t, filepath.Join(dir, fmt.Sprintf("f%d", i)), 42, 5000)
	}
	if st := start.Stats(); st.Requests != 20 || st.Conns > 4 {
		t.Errorf("the redirecting server had %d requests on %d connections; want 20 on at most 4 (-j 4)", st.Requests, st.Conns)
	}
	if st := end.Stats(); st.Requests != 20 || st.Conns > 4 {
		t.Errorf("the final server had %d requests on %d connections; want 20 on at most 4 (-j 4)", st.Requests, st.Conns)
	}
}

// TestRedirectKeepsEncoding: a Location with a byte to encode keeps what it encodes, as a URL
// given on the command line does (TestRequestTarget): its %2F was decoded into a '/'.
func TestRedirectKeepsEncoding(t *testing.T) {
	cur, err := parseURL("http://h/r")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ location, want string }{
		{"/s3/key%2Fwith/\u00fc.bin", "/s3/key%2Fwith/%C3%BC.bin"},
		{"//other/a%2Fb c", "/a%2Fb%20c"},
		{"http://other/x%3By z", "/x%3By%20z"},
		{"rel%2Fx y", "/rel%2Fx%20y"},
	} {
		next, err := nextURL(cur, tc.location, options{maxRedirects: 10}, map[string]bool{})
		if err != nil {
			t.Fatalf("%q: %v", tc.location, err)
		}
		if got := requestTarget(next); got != tc.want {
			t.Errorf("redirect to %q: target %q; want %q", tc.location, got, tc.want)
		}
	}
}

// TestNetrcPathNoHome: without $HOME, --netrc reads .netrc in the home directory of the
// password database, or fails; it read ./.netrc, from whatever directory rangedl ran in.
func TestNetrcPathNoHome(t *testing.T) {
	t.Setenv("NETRC", "")
	t.Setenv("HOME", "")
	if p, err := netrcPath(); err == nil && (!filepath.IsAbs(p) || filepath.Base(p) != ".netrc") {
		t.Errorf("netrcPath() = %q; want .netrc in an absolute home directory, or an error", p)
	}
}
