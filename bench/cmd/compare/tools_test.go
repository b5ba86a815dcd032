package main

import (
	"slices"
	"strings"
	"testing"
)

func mustTool(t *testing.T, name string) tool {
	t.Helper()
	ts, err := selectTools(name)
	if err != nil || len(ts) != 1 {
		t.Fatalf("selectTools(%q): %v, %v", name, ts, err)
	}
	return ts[0]
}

func TestCommand(t *testing.T) {
	const url = "http://127.0.0.1:8080/1G.bin"
	tests := []struct {
		tool string
		n    int
		want string
	}{
		{"rangedl", 8, "/bin/rangedl -q -n 8 -o out.bin " + url},
		{"aria2c", 4, "/bin/aria2c -q -x4 -s4 -k1M --file-allocation=none --allow-overwrite=true -d /run/1 -o out.bin " + url},
		{"aria2c", 16, "/bin/aria2c -q -x16 -s16 -k1M --file-allocation=none --allow-overwrite=true -d /run/1 -o out.bin " + url},
		// aria2c refuses -x above 16.
		{"aria2c", 32, "/bin/aria2c -q -x16 -s16 -k1M --file-allocation=none --allow-overwrite=true -d /run/1 -o out.bin " + url},
		{"axel", 16, "/bin/axel -q -n 16 -o out.bin " + url},
		{"curl", 16, "/bin/curl -s -o out.bin " + url},
		{"wget", 16, "/bin/wget -q -O out.bin " + url},
		{"wget2", 16, "/bin/wget2 -q --max-threads=16 --chunk-size=1M -O out.bin " + url},
	}
	for _, tt := range tests {
		tl := mustTool(t, tt.tool)
		got := strings.Join(tl.command("/bin/"+tt.tool, tt.n, "/run/1", "out.bin", url, ""), " ")
		if got != tt.want {
			t.Errorf("%s -n %d:\ngot  %v\nwant %v", tt.tool, tt.n, got, tt.want)
		}
	}
}

// TestCommandHTTPS checks that every tool is told to trust the CA file,
// with the flags it uses over http, except axel, which has no option for
// that and is told not to check the certificate.
func TestCommandHTTPS(t *testing.T) {
	const url = "https://127.0.0.1:8443/1G.bin"
	tests := []struct {
		tool string
		n    int
		want string
	}{
		{"rangedl", 8, "/bin/rangedl --cacert /run/ca.pem -q -n 8 -o out.bin " + url},
		{"aria2c", 16, "/bin/aria2c --ca-certificate=/run/ca.pem -q -x16 -s16 -k1M --file-allocation=none --allow-overwrite=true -d /run/1 -o out.bin " + url},
		{"axel", 16, "/bin/axel -k -q -n 16 -o out.bin " + url},
		{"curl", 16, "/bin/curl --cacert /run/ca.pem -s -o out.bin " + url},
		{"wget", 16, "/bin/wget --ca-certificate=/run/ca.pem -q -O out.bin " + url},
		{"wget2", 16, "/bin/wget2 --ca-certificate=/run/ca.pem -q --max-threads=16 --chunk-size=1M -O out.bin " + url},
	}
	for _, tt := range tests {
		tl := mustTool(t, tt.tool)
		got := strings.Join(tl.command("/bin/"+tt.tool, tt.n, "/run/1", "out.bin", url, "/run/ca.pem"), " ")
		if got != tt.want {
			t.Errorf("%s -n %d:\ngot  %v\nwant %v", tt.tool, tt.n, got, tt.want)
		}
		if (tl.httpsNote != "") != (tt.tool == "axel") {
			t.Errorf("%s: httpsNote %q; want one for axel only", tt.tool, tl.httpsNote)
		}
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		tool  string
		n     int
		https bool
		want  string
	}{
		{"rangedl", 8, false, "-q -n 8 -o OUT URL"},
		{"aria2c", 16, false, "-q -x16 -s16 -k1M --file-allocation=none --allow-overwrite=true -d DIR -o OUT URL"},
		{"curl", 16, false, "-s -o OUT URL"},
		{"rangedl", 8, true, "--cacert CA -q -n 8 -o OUT URL"},
		{"wget2", 16, true, "--ca-certificate=CA -q --max-threads=16 --chunk-size=1M -O OUT URL"},
		{"axel", 16, true, "-k -q -n 16 -o OUT URL"},
	}
	for _, tt := range tests {
		if got := mustTool(t, tt.tool).flags(tt.n, tt.https); got != tt.want {
			t.Errorf("%s flags: got %q; want %q", tt.tool, got, tt.want)
		}
	}
}

func TestConns(t *testing.T) {
	tests := []struct {
		tool  string
		n     int
		want  int
		wantR int // connsFor in unthrottled-1g
	}{
		{"rangedl", 16, 16, 8},
		{"aria2c", 64, 16, 16},
		{"curl", 16, 1, 16},
		{"wget2", 16, 16, 16},
	}
	sc, _ := findScenario("unthrottled-1g")
	for _, tt := range tests {
		tl := mustTool(t, tt.tool)
		if got := tl.conns(tt.n); got != tt.want {
			t.Errorf("%s conns(%d): got %v; want %v", tt.tool, tt.n, got, tt.want)
		}
		if got := sc.connsFor(tl); got != tt.wantR {
			t.Errorf("%s connsFor(unthrottled-1g): got %v; want %v", tt.tool, got, tt.wantR)
		}
	}
}

func TestSelectTools(t *testing.T) {
	tests := []struct {
		list    string
		want    []string
		wantErr bool
	}{
		{"", []string{"rangedl", "aria2c", "axel", "curl", "wget", "wget2"}, false},
		{"all", []string{"rangedl", "aria2c", "axel", "curl", "wget", "wget2"}, false},
		{"curl,rangedl", []string{"rangedl", "curl"}, false}, // catalogue order
		{" wget2 , curl,", []string{"curl", "wget2"}, false},
		{"curl,lynx", nil, true},
		{",", nil, true},
	}
	for _, tt := range tests {
		ts, err := selectTools(tt.list)
		var got []string
		for _, tl := range ts {
			got = append(got, tl.name)
		}
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("selectTools(%q): got %v, %v; want %v, error %v", tt.list, got, err, tt.want, tt.wantErr)
		}
	}
}
