package main

import (
	"io"
	"path/filepath"
	"testing"
)

func TestParseFlags(t *testing.T) {
	defaultOut := filepath.Join("bench", "results")
	tests := []struct {
		args      []string
		wantSet   string
		wantOut   string
		wantRound int
		wantScen  int
		wantTools int
		wantErr   bool
	}{
		{nil, "all", defaultOut, 3, 7, 6, false},
		{[]string{"-scenarios", "straggler,noranges", "-rounds", "5"}, "straggler+noranges", defaultOut, 5, 2, 6, false},
		{[]string{"-scenarios", "noranges", "-size-scale", "0.25", "-tools", "curl"}, "noranges-x0.25", defaultOut, 3, 1, 1, false},
		// -smoke fixes scenario, rounds and tools; the report goes to a
		// temp dir unless -out is given.
		{[]string{"-smoke", "-rounds", "7", "-tools", "wget"}, "smoke", "", 1, 2, 2, false},
		{[]string{"-smoke", "-out", "x"}, "smoke", "x", 1, 2, 2, false},
		{[]string{"-rounds", "0"}, "", "", 0, 0, 0, true},
		{[]string{"-size-scale", "-1"}, "", "", 0, 0, 0, true},
		{[]string{"-scenarios", "nope"}, "", "", 0, 0, 0, true},
		{[]string{"extra"}, "", "", 0, 0, 0, true},
	}
	for _, tt := range tests {
		o, err := parseFlags(tt.args, io.Discard)
		if tt.wantErr {
			if err == nil {
				t.Errorf("parseFlags(%q): got no error; want one", tt.args)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseFlags(%q): %v", tt.args, err)
			continue
		}
		if o.set != tt.wantSet || o.out != tt.wantOut || o.rounds != tt.wantRound || len(o.scenarios) != tt.wantScen || len(o.tools) != tt.wantTools {
			t.Errorf("parseFlags(%q): got set %q, out %q, %d rounds, %d scenarios, %d tools; want %q, %q, %d, %d, %d",
				tt.args, o.set, o.out, o.rounds, len(o.scenarios), len(o.tools), tt.wantSet, tt.wantOut, tt.wantRound, tt.wantScen, tt.wantTools)
		}
	}
	o, _ := parseFlags([]string{"-smoke"}, io.Discard)
	if got := o.scenarios[0]; got.name != "unthrottled" || got.size != 16*mib || got.tls {
		t.Errorf("smoke scenario: got %s %d tls=%v; want unthrottled %d over http", got.name, got.size, got.tls, 16*mib)
	}
	if got := o.scenarios[1]; got.name != "https" || got.size != 16*mib || !got.tls || got.kind != nginxServer {
		t.Errorf("smoke https scenario: got %s %d tls=%v %v; want https %d over TLS from nginx", got.name, got.size, got.tls, got.kind, 16*mib)
	}
}
