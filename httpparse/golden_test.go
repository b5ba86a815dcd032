package httpparse

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the want sections of testdata/golden/*.txt (review the diff!)")

// A golden file holds cases like this one:
//
//	=== name of the case
//	Free text describing it; "option: nobody" sets Parser.NoBody.
//	--- input
//	"HTTP/1.1 200 OK\r\n"  # Go string literals, concatenated
//	8183*"a"              # a literal repeated N times
//	--- want
//	head HTTP/1.1 200 "OK" body=length cl=0 keep=true len=38
//	done len=0
//	eof <nil>
//
// The input section holds Go-quoted strings so that every CR, LF and odd
// byte is visible; the want section is the transcript outcome.String()
// renders, checked for every way of feeding the input (checkFeeds).
type goldenCase struct {
	name   string
	header []string // lines from "=== " up to "--- want", kept for -update
	input  []byte
	noBody bool
	want   string
	line   int
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			preamble, cases, err := readGolden(file)
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			out.WriteString(preamble)
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					o := checkFeeds(t, c.input, c.noBody)
					got := o.String()
					if *update {
						c.want = got
					} else if got != c.want {
						t.Errorf("%s:%d:\ngot\n%v\nwant\n%v", file, c.line, got, c.want)
					}
				})
				for _, l := range c.header {
					out.WriteString(l + "\n")
				}
				out.WriteString("--- want\n" + c.want + "\n")
			}
			if *update {
				if err := os.WriteFile(file, []byte(strings.TrimRight(out.String(), "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func readGolden(file string) (preamble string, cases []*goldenCase, err error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", nil, err
	}
	var (
		c       *goldenCase
		section string
		pre     strings.Builder
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "=== "):
			c = &goldenCase{name: strings.TrimPrefix(line, "=== "), line: n}
			cases = append(cases, c)
			section = "text"
		case c == nil:
			pre.WriteString(line + "\n")
			continue
		case line == "--- input":
			section = "input"
		case line == "--- want":
			section = "want"
			continue
		case section == "text":
			if strings.TrimSpace(line) == "option: nobody" {
				c.noBody = true
			}
		case section == "input":
			b, err := parseInputLine(line)
			if err != nil {
				return "", nil, fmt.Errorf("%s:%d: %v", file, n, err)
			}
			c.input = append(c.input, b...)
		case section == "want":
			if line != "" {
				c.want += line + "\n"
			}
			continue
		}
		c.header = append(c.header, line)
	}
	return pre.String(), cases, sc.Err()
}

// parseInputLine decodes one input line: Go string literals, each
// optionally prefixed by N* to repeat it, and an optional # comment.
func parseInputLine(line string) ([]byte, error) {
	var out []byte
	for {
		line = strings.TrimLeft(line, " \t")
		if line == "" || line[0] == '#' {
			return out, nil
		}
		count := 1
		digits := 0
		for digits < len(line) && '0' <= line[digits] && line[digits] <= '9' {
			digits++
		}
		if digits > 0 {
			if digits == len(line) || line[digits] != '*' {
				return nil, fmt.Errorf("want N*\"literal\" at %q", line)
			}
			n, err := strconv.Atoi(line[:digits])
			if err != nil {
				return nil, fmt.Errorf("bad repeat count %q", line[:digits])
			}
			count, line = n, line[digits+1:]
		}
		lit, err := strconv.QuotedPrefix(line)
		if err != nil {
			return nil, fmt.Errorf("want a Go string literal at %q", line)
		}
		s, _ := strconv.Unquote(lit)
		out = append(out, strings.Repeat(s, count)...)
		line = line[len(lit):]
	}
}
