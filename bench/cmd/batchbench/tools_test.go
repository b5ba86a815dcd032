package main

import (
	"slices"
	"testing"
)

func TestToolArgs(t *testing.T) {
	in := runInput{jobs: 16, list: "/w/urls.txt", config: "/w/urls.curl", dir: "/w/round1-x"}
	want := map[string][]string{
		"rangedl": {"-q", "-j", "16", "-i", "/w/urls.txt", "-d", "/w/round1-x"},
		"wget2": {"-q", "--max-threads=16", "--robots=off", "--no-local-db", "--no-xattr",
			"-i", "/w/urls.txt", "-P", "/w/round1-x"},
		"curl": {"-s", "--no-progress-meter", "--parallel", "--parallel-max", "16",
			"--output-dir", "/w/round1-x", "--remote-name-all", "-K", "/w/urls.curl"},
		"aria2c": {"-q", "-j", "16", "-i", "/w/urls.txt", "-d", "/w/round1-x",
			"--allow-overwrite=false", "--auto-file-renaming=false", "--file-allocation=none", "--auto-save-interval=0"},
	}
	if len(tools) != len(want) {
		t.Fatalf("got %d tools; want %d", len(tools), len(want))
	}
	for _, tl := range tools {
		if got := tl.args(in); !slices.Equal(got, want[tl.name]) {
			t.Errorf("%s: got %q; want %q", tl.name, got, want[tl.name])
		}
	}
	inst := installed{tool: tools[0], path: "/bin/rangedl"}
	if got := inst.command(in); got[0] != "/bin/rangedl" || !slices.Equal(got[1:], want["rangedl"]) {
		t.Errorf("command: got %q", got)
	}
	if got, want := tools[2].placeholders(4), "curl -s --no-progress-meter --parallel --parallel-max 4 --output-dir DIR --remote-name-all -K CONFIG"; got != want {
		t.Errorf("placeholders: got %q; want %q", got, want)
	}
}

func TestSelectTools(t *testing.T) {
	tests := []struct {
		list    string
		want    []string
		wantErr bool
	}{
		{"", []string{"rangedl", "wget2", "curl", "aria2c"}, false},
		{"all", []string{"rangedl", "wget2", "curl", "aria2c"}, false},
		{"aria2c, rangedl", []string{"rangedl", "aria2c"}, false}, // catalogue order
		{"curl,curl", []string{"curl"}, false},
		{"wget", nil, true},
		{",", nil, true},
	}
	for _, tt := range tests {
		got, err := selectTools(tt.list)
		if tt.wantErr {
			if err == nil {
				t.Errorf("selectTools(%q): got no error; want one", tt.list)
			}
			continue
		}
		var names []string
		for _, tl := range got {
			names = append(names, tl.name)
		}
		if err != nil || !slices.Equal(names, tt.want) {
			t.Errorf("selectTools(%q): got %q, %v; want %q", tt.list, names, err, tt.want)
		}
	}
}

func TestRotate(t *testing.T) {
	xs := []string{"a", "b", "c", "d"}
	tests := []struct {
		k    int
		want []string
	}{
		{0, []string{"a", "b", "c", "d"}},
		{1, []string{"b", "c", "d", "a"}},
		{3, []string{"d", "a", "b", "c"}},
		{4, []string{"a", "b", "c", "d"}},
		{6, []string{"c", "d", "a", "b"}},
	}
	for _, tt := range tests {
		if got := rotate(xs, tt.k); !slices.Equal(got, tt.want) {
			t.Errorf("rotate(%q, %d): got %q; want %q", xs, tt.k, got, tt.want)
		}
	}
	if xs[0] != "a" {
		t.Errorf("rotate modified its input: %q", xs)
	}
	if got := rotate([]string(nil), 2); got != nil {
		t.Errorf("rotate(nil): got %q; want nil", got)
	}
	// Over len(xs) rounds every tool goes first exactly once.
	first := map[string]int{}
	for r := range len(xs) {
		first[rotate(xs, r)[0]]++
	}
	for _, x := range xs {
		if first[x] != 1 {
			t.Errorf("%s went first %d times in %d rounds; want 1", x, first[x], len(xs))
		}
	}
}

func TestCurlConfig(t *testing.T) {
	got := curlConfig([]string{"http://127.0.0.1:8080/f00000", `http://h/a"b\c`})
	want := "url = \"http://127.0.0.1:8080/f00000\"\nurl = \"http://h/a\\\"b\\\\c\"\n"
	if got != want {
		t.Errorf("got %q; want %q", got, want)
	}
	if got, want := urlList([]string{"u1", "u2"}), "u1\nu2\n"; got != want {
		t.Errorf("urlList: got %q; want %q", got, want)
	}
}
