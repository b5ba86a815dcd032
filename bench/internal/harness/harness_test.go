package harness

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type toyTool struct{ name string }

func toyName(t toyTool) string { return t.name }

var toys = []toyTool{{"rangedl"}, {"wget2"}, {"curl"}, {"aria2c"}}

func TestSelectTools(t *testing.T) {
	tests := []struct {
		list    string
		want    []string
		wantErr string
	}{
		{"", []string{"rangedl", "wget2", "curl", "aria2c"}, ""},
		{"all", []string{"rangedl", "wget2", "curl", "aria2c"}, ""},
		{"aria2c, rangedl", []string{"rangedl", "aria2c"}, ""}, // catalogue order
		{" wget2 , curl,", []string{"wget2", "curl"}, ""},
		{"curl,curl", []string{"curl"}, ""},
		{"curl,lynx", nil, `unknown tool "lynx" (have rangedl, wget2, curl, aria2c)`},
		{",", nil, "no tool selected (have rangedl, wget2, curl, aria2c)"},
	}
	for _, tt := range tests {
		ts, err := SelectTools(toys, toyName, tt.list)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		var got []string
		for _, tl := range ts {
			got = append(got, tl.name)
		}
		if gotErr != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("SelectTools(%q): got %q, %q; want %q, %q", tt.list, got, gotErr, tt.want, tt.wantErr)
		}
	}
	// "all" is a copy: the caller may change it.
	all, _ := SelectTools(toys, toyName, "all")
	all[0].name = "changed"
	if toys[0].name != "rangedl" {
		t.Errorf("SelectTools(all) shares the catalogue")
	}
}

func TestDetect(t *testing.T) {
	dir := t.TempDir()
	// A "tool" on PATH that prints its version after a blank line, and
	// exits 1 as axel does.
	fake := filepath.Join(dir, "faketool")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho\necho \"  fake 1.2 ($1) with many libraries  \"\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	short := func(s string) string { return s[:min(len(s), 14)] }

	path, version, absent := Detect(t.Context(), "faketool", "", t.TempDir(), []string{"--version"}, short)
	if path != fake || version != "fake 1.2 (--ve" || absent != "" {
		t.Errorf("faketool: got %q, %q, %q; want %q, %q, \"\"", path, version, absent, fake, "fake 1.2 (--ve")
	}
	// rangedl is taken where the harness put it, not from PATH; a binary
	// with no build information gets no commit.
	path, version, absent = Detect(t.Context(), "rangedl", fake, t.TempDir(), []string{"-V"}, short)
	if path != fake || version != "fake 1.2 (-V) " || absent != "" {
		t.Errorf("rangedl: got %q, %q, %q; want %q, %q, \"\"", path, version, absent, fake, "fake 1.2 (-V) ")
	}
	path, version, absent = Detect(t.Context(), "nosuchtool", "", t.TempDir(), []string{"--version"}, short)
	if path != "" || version != "" || !strings.HasPrefix(absent, "not found: ") {
		t.Errorf("nosuchtool: got %q, %q, %q; want it absent", path, version, absent)
	}
	// A tool that prints nothing has an unknown version.
	silent := filepath.Join(dir, "silent")
	if err := os.WriteFile(silent, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, version, _ := Detect(t.Context(), "silent", "", t.TempDir(), nil, short); version != "unknown" {
		t.Errorf("silent: got version %q; want unknown", version)
	}
}

func TestVCSVersion(t *testing.T) {
	if got := VCSVersion("/nonexistent/binary"); got != "" {
		t.Errorf("no file: got %q; want \"\"", got)
	}
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		args   []string
		pkgDir string
		want   string
	}{
		{[]string{"/tmp/go-build123/b001/exe/compare", "-smoke"}, "./bench/cmd/compare", "go run ./bench/cmd/compare -smoke"},
		{[]string{"/tmp/go-build123/b001/exe/compare"}, "./bench/cmd/compare", "go run ./bench/cmd/compare"},
		{[]string{"./compare", "-tools", "curl,wget", "-out", "my dir"}, "./bench/cmd/compare", "./compare -tools curl,wget -out 'my dir'"},
		{[]string{"/tmp/go-build123/b001/exe/batchbench", "-rounds", "1"}, "./bench/cmd/batchbench", "go run ./bench/cmd/batchbench -rounds 1"},
		{[]string{"./batchbench"}, "./bench/cmd/batchbench", "./batchbench"},
		{[]string{"bb", "-out", "a b.md"}, "./bench/cmd/batchbench", "bb -out 'a b.md'"},
	}
	for _, tt := range tests {
		if got := CommandLine(tt.args, tt.pkgDir); got != tt.want {
			t.Errorf("CommandLine(%q, %q): got %q; want %q", tt.args, tt.pkgDir, got, tt.want)
		}
	}
}

func TestCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a|b", `a\|b`},
		{"two\nlines", "two lines"},
		{"a|\nb", `a\| b`},
	}
	for _, tt := range tests {
		if got := Cell(tt.in); got != tt.want {
			t.Errorf("Cell(%q): got %q; want %q", tt.in, got, tt.want)
		}
	}
}
