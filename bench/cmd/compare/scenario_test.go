package main

import (
	"slices"
	"testing"
	"time"
)

func TestSelectScenarios(t *testing.T) {
	tests := []struct {
		list    string
		want    []string
		wantErr bool
	}{
		{"all", []string{"unthrottled-1g", "https-1g", "rate10m-256m-n4", "rate10m-256m-n16", "straggler", "noranges", "latency50ms"}, false},
		{"straggler,unthrottled-1g", []string{"straggler", "unthrottled-1g"}, false}, // order given
		{"noranges,noranges", []string{"noranges"}, false},
		{"unthrottled", nil, true}, // the smoke scenario is not selectable
		{"", []string{"unthrottled-1g", "https-1g", "rate10m-256m-n4", "rate10m-256m-n16", "straggler", "noranges", "latency50ms"}, false},
		{",", nil, true},
	}
	for _, tt := range tests {
		scs, err := selectScenarios(tt.list)
		var got []string
		for _, sc := range scs {
			got = append(got, sc.name)
		}
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("selectScenarios(%q): got %v, %v; want %v, error %v", tt.list, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestScaled(t *testing.T) {
	tests := []struct {
		size  int64
		f     float64
		want  int64
		wantP string
	}{
		{gib, 1, gib, "/1G.bin"},
		{gib, 0.25, 256 * mib, "/256M.bin"},
		{256 * mib, 0.1, 26 * mib, "/26M.bin"},
		{256 * mib, 0.0001, mib, "/1M.bin"}, // at least 1 MiB
		{256 * mib, 4, gib, "/1G.bin"},
	}
	for _, tt := range tests {
		got := scenario{size: tt.size}.scaled(tt.f)
		if got.size != tt.want || got.urlPath() != tt.wantP {
			t.Errorf("scaled(%d, %v): got %d %s; want %d %s", tt.size, tt.f, got.size, got.urlPath(), tt.want, tt.wantP)
		}
	}
	if got := (scenario{size: 16 * mib, limitRate: "10m"}).urlPath(); got != "/slow/16M.bin" {
		t.Errorf("urlPath with limit_rate: got %v; want %v", got, "/slow/16M.bin")
	}
}

func TestTimeout(t *testing.T) {
	tests := []struct {
		name  string
		sc    scenario
		conns int
		want  time.Duration
	}{
		// 1 GiB at the 256 MiB/s reference: 4 s ideal, 40 s.
		{"unthrottled", scenario{size: gib}, 8, 40 * time.Second},
		// 16 MiB: 10× ideal is far below the floor.
		{"tiny", scenario{size: 16 * mib}, 8, minTimeout},
		// 256 MiB at 4 × 10 MiB/s: 6.4 s ideal, 64 s.
		{"rate n4", scenario{size: 256 * mib, rate: rate10M}, 4, 64 * time.Second},
		// One connection at 10 MiB/s: 25.6 s ideal, capped.
		{"rate curl", scenario{size: 256 * mib, rate: rate10M}, 1, maxTimeout},
		// Latency adds once.
		{"latency", scenario{size: 2 * gib, latency: time.Second}, 8, 90 * time.Second},
	}
	for _, tt := range tests {
		if got := tt.sc.timeout(tt.conns); got != tt.want {
			t.Errorf("%s: timeout: got %v; want %v", tt.name, got, tt.want)
		}
	}
}

func TestFileName(t *testing.T) {
	tests := []struct {
		size int64
		want string
	}{
		{gib, "1G.bin"},
		{3 * gib, "3G.bin"},
		{1536 * mib, "1536M.bin"},
		{mib + 1, "1048577.bin"},
	}
	for _, tt := range tests {
		if got := fileName(tt.size); got != tt.want {
			t.Errorf("fileName(%d): got %v; want %v", tt.size, got, tt.want)
		}
	}
}
