package main

import (
	"flag"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestOutputName(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes
	for _, tc := range []struct{ url, want string }{
		{"http://h/a/b.iso", "b.iso"},
		{"http://h/a/b%20c.iso?x=1#f", "b c.iso"},
		{"http://h/", "index.html"},
		{"http://h", "index.html"},
		{"http://h/dir/", "index.html"},
		{"http://h/..%2f..%2fetc%2fpasswd", ".._.._etc_passwd"}, // one segment, as sent (was "passwd")
		{"http://h/dir/a%2Fb", "a_b"},
		{"http://h/dir/a%2F", "a_"},
		{"http://h/dl/a b%2F", "a b_"}, // a byte to encode besides: the %2F stays one (was index.html)
		{"http://h/a/..", "index.html"},
		{"http://h/%2e%2e", "index.html"},
		{"http://h/x%0Ay", "x_y"},
		{"http://h/x%C2%9By", "x_y"}, // U+009B, a C1 control (CSI)
		{"http://h/x%FFy", "x_y"},    // not UTF-8
		{"http://h/a%5Cb", "a_b"},
		{"http://h/-", "_"},
		{"http://h/_", "_"}, // underscores of its own: kept (was index.html)
		{"http://h/__", "__"},
		{"http://h/%0A%2F", "index.html"},                              // nothing but replaced characters
		{"http://h/" + strings.Repeat("%00", 300) + "x", "index.html"}, // nothing but replaced ones within the cut (was 239 '_')
		{"http://h/" + url.PathEscape(long), strings.Repeat("é", 119)}, // 238 bytes: FILE.rangedl.reserve fits in 255
		{"http://h/%E2%80%AEgpj.exe", "_gpj.exe"},                      // U+202E, right-to-left override
		{"http://h/x%E2%80%8By", "x_y"},                                // U+200B, zero width space
		{"http://h/f.rangedl", "f.rangedl_"},                           // the record of a download of f
		{"http://h/f.rangedl.tmp", "f.rangedl.tmp_"},
		{"http://h/f.rangedl.reserve", "f.rangedl.reserve_"},
		{"http://h/f.rangedl.txt", "f.rangedl.txt"},
		{"http://h/" + strings.Repeat("a", 231) + ".rangedl", strings.Repeat("a", 231) + ".ranged_"}, // 239 bytes with the '_'
		{"http://h/" + strings.Repeat("a", 230) + ".rangedl", strings.Repeat("a", 230) + ".rangedl_"},
	} {
		u, err := parseURL(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := outputName(u); got != tc.want {
			t.Errorf("outputName(%q) = %q; want %q", tc.url, got, tc.want)
		}
	}
}

// TestNames: a list's failure line gets the entry's URL unless its reason holds that URL whole,
// not only as the start of another (a redirect's target).
func TestNames(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want bool
	}{
		{"HTTP 404 Not Found from http://h/f", true},
		{"HTTP 404 Not Found from http://h/file.iso", false},
		{`bad URL "http://h/f": no host`, true},
		{"http://h/f.iso redirects to http://h/f, from https to plain http: refused", true},
		{"cannot connect to h: connect: connection refused", false},
		{"out/f has 9 bytes and no record that says they are the start of http://h/f: in a list, ...", true},
	} {
		if got := names(tc.msg, "http://h/f"); got != tc.want {
			t.Errorf("names(%q) = %v; want %v", tc.msg, got, tc.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want int64
		ok   bool
	}{
		{"1", 1, true}, {"512K", 512 << 10, true}, {"4m", 4 << 20, true}, {"1G", 1 << 30, true},
		{"0", 0, false}, {"-1M", 0, false}, {"M", 0, false}, {"", 0, false}, {"1.5M", 0, false}, {"9999999999G", 0, false},
	} {
		got, err := parseSize(tc.s)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok %v", tc.s, got, err, tc.want, tc.ok)
		}
	}
}

// TestEveryFlagDocumented: each flag appears in -h and in README.md's flag table.
func TestEveryFlagDocumented(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	flagSet(new(options)).VisitAll(func(f *flag.Flag) {
		name := "--" + f.Name
		if len(f.Name) == 1 {
			name = "-" + f.Name
		}
		if !strings.Contains(usage, name) {
			t.Errorf("%s is not in the usage text", name)
		}
		if !strings.Contains(string(readme), "`"+name) && !strings.Contains(string(readme), ", "+name+"`") {
			t.Errorf("%s is not in README.md's flag table", name)
		}
	})
}

// TestArgsAfterDoubleDash: after "--" every argument is a URL, as POSIX utilities read it; the
// flags after it were parsed (-- URL -o x saved to x).
func TestArgsAfterDoubleDash(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		urls   []string
		output string
	}{
		{[]string{"--", "http://h/a", "-o", "x"}, []string{"http://h/a", "-o", "x"}, ""},
		{[]string{"-d", "d", "http://h/a", "--", "-d"}, []string{"http://h/a", "-d"}, ""},
		{[]string{"-o", "y", "http://h/a"}, []string{"http://h/a"}, "y"},
		{[]string{"-U", "--", "http://h/a", "-o", "y"}, []string{"http://h/a"}, "y"}, // a flag's value "--" ends nothing
		{[]string{"-o", "-U", "--", "http://h/a"}, []string{"http://h/a"}, "-U"},
	} {
		opt, urls, err := parseArgs(tc.args)
		if err != nil || !slices.Equal(urls, tc.urls) || opt.output != tc.output {
			t.Errorf("%q: URLs %q, -o %q, %v; want %q, %q", tc.args, urls, opt.output, err, tc.urls, tc.output)
		}
	}
}

// TestEmptyPort: a URL whose port is empty has no port (RFC 3986 §3.2.3): "x.test:" went into
// the Host field and the proxy's request as it was.
func TestEmptyPort(t *testing.T) {
	u, err := parseURL("http://x.test:/f")
	if err != nil || u.Host != "x.test" || u.String() != "http://x.test/f" {
		t.Errorf("parsed %v, %v; want host x.test", u, err)
	}
}

// TestURLChecks: URLs and flags refused before any request (exit 2), which failed later or
// never mattered: a link-local address without its zone (connect: invalid argument, exit 3),
// and a --resolve whose port is no port (it never matched, and DNS was asked).
func TestURLChecks(t *testing.T) {
	if _, err := parseURL("http://[fe80::1]:8080/f"); err == nil || !strings.Contains(err.Error(), "a link-local address takes a zone") {
		t.Errorf("link-local without a zone: %v; want refused", err)
	}
	if _, err := parseURL("http://[::ffff:169.254.1.1]/f"); err != nil {
		t.Errorf("an IPv4 link-local address in IPv6 form: %v; want it taken (it is dialled as IPv4)", err)
	}
	if _, err := parseURL("http://h/a% b"); err == nil || !strings.Contains(err.Error(), `"% b"`) {
		t.Errorf("a bad escape: %v; want the text as given quoted", err)
	}
	var b strings.Builder
	if writeEntry(&b, entry{urls: []string{"http://a/x", "#m"}}, "r"); b.String() != "# r\nhttp://a/x\t#m\n" {
		t.Errorf("a mirror starting with '#': %q; want it listed (only a line's first URL may not)", b.String())
	}
	for _, port := range []string{"abc", "0", "65536", ""} {
		if _, _, err := parseArgs([]string{"--resolve", "x.test:" + port + ":127.0.0.1", "http://x.test/f"}); err == nil {
			t.Errorf("--resolve with port %q: accepted", port)
		}
	}
	// A link-local address without its zone, where the URL's rule was not applied.
	for _, args := range [][]string{{"--proxy", "http://[fe80::1]:3128"}, {"--resolve", "x.test:80:fe80::1"}} {
		if _, _, err := parseArgs(append(args, "http://x.test/f")); err == nil || !strings.Contains(err.Error(), "a link-local address takes a zone") {
			t.Errorf("%q: %v; want refused", args, err)
		}
	}
	// A port is a number, however it is spelled: --resolve's matched only as written.
	for _, tc := range []struct{ entry, port string }{{"x.test:030111:127.0.0.1", "30111"}, {"x.test:30111:127.0.0.1", "030111"}, {"x.test:+30111:127.0.0.1", "30111"}} {
		if ips, err := pinned([]string{tc.entry}, "x.test", tc.port); err != nil || len(ips) != 1 {
			t.Errorf("--resolve %s for port %s: %v, %v; want it to match", tc.entry, tc.port, ips, err)
		}
	}
	// -o or out= that ends in a slash names a directory: the slash was dropped under -d, and
	// without it the open failed as "is a directory" of a directory that did not exist.
	if _, _, err := parseArgs([]string{"-o", "sub/", "http://x.test/f"}); err == nil || err.Error() != "-o sub/ names a directory: give a file name, or -d sub/ to save in it" {
		t.Errorf("-o sub/: %v; want refused", err)
	}
	if err := new(entry).set("out=sub/"); err == nil || err.Error() != "out=sub/ names a directory: give a file name, or dir=sub/" {
		t.Errorf("out=sub/: %v; want refused", err)
	}
}

// TestOneLine: every message is one line, with what a terminal would obey escaped: a name or
// URL as the user gave it, the flag package's own errors too.
func TestOneLine(t *testing.T) {
	var b strings.Builder
	printf(&b, "saved %s, %s", "a\nb\x1b[31m\u202e\xff", "bücher")
	if want := `rangedl: saved a\nb\x1b[31m\u202e\xff, bücher` + "\n"; b.String() != want {
		t.Errorf("%q; want %q", b.String(), want)
	}
	b.Reset()
	if code := run([]string{"-x\ny"}, &b); code != exitUsage || b.String() != `rangedl: flag provided but not defined: -x\ny; see rangedl -h`+"\n" {
		t.Errorf("exit %d, %q; want one line", code, b.String())
	}
}

// TestFormatSize: sizes go up to exbibytes, and are cut to a tenth, not rounded. They stopped
// at TiB: a file of 2^63-2 bytes was "8388608.0 TiB"; and 4.96 GiB saved of 5 GiB was "5.0 GiB
// were written", as if complete (a review).
func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 3 << 29: "1.5 GiB",
		1 << 40: "1.0 TiB", 1 << 50: "1.0 PiB", 1 << 62: "4.0 EiB", 5325759693: "4.9 GiB",
		1<<20 - 1: "1023.9 KiB", 1331: "1.2 KiB", 1434: "1.4 KiB"} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q; want %q", n, got, want)
		}
	}
}
