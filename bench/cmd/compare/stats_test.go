package main

import (
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	r := row{runs: []sample{
		{wall: 3 * time.Second, cpu: time.Second, maxRSS: 30},
		{wall: time.Second, fail: "exit status 3"}, // fast but wrong: no time
		{wall: 5 * time.Second, cpu: 3 * time.Second, maxRSS: 10},
		{wall: 4 * time.Second, cpu: 2 * time.Second, maxRSS: 20},
		{fail: "exit status 3"},
		{fail: "SHA-256 mismatch"},
	}}
	s := r.summarize()
	if s.ok != 3 || s.total != 6 {
		t.Errorf("ok/total: got %v/%v; want %v/%v", s.ok, s.total, 3, 6)
	}
	if s.minWall != 3*time.Second || s.maxWall != 5*time.Second {
		t.Errorf("min/max wall: got %v/%v; want %v/%v", s.minWall, s.maxWall, 3*time.Second, 5*time.Second)
	}
	if s.wall != 4*time.Second || s.cpu != 2*time.Second || s.rss != 20 {
		t.Errorf("medians: got %v, %v, %v; want %v, %v, %v", s.wall, s.cpu, s.rss, 4*time.Second, 2*time.Second, 20)
	}
	if got, want := s.result(), "FAIL 3/6: exit status 3; SHA-256 mismatch"; got != want {
		t.Errorf("result: got %q; want %q", got, want)
	}

	ok := row{runs: []sample{{wall: time.Second}}}.summarize()
	if got := ok.result(); got != "ok" {
		t.Errorf("result: got %q; want %q", got, "ok")
	}
}

func TestAnyFail(t *testing.T) {
	good := row{runs: []sample{{wall: time.Second}}}
	bad := row{runs: []sample{{wall: time.Second}, {fail: "timeout after 30s"}}}
	absent := row{absent: "not found"}
	tests := []struct {
		rows []row
		want bool
	}{
		{nil, false},
		{[]row{good, absent}, false},
		{[]row{good, bad}, true},
	}
	for _, tt := range tests {
		if got := anyFail(tt.rows); got != tt.want {
			t.Errorf("anyFail(%d rows): got %v; want %v", len(tt.rows), got, tt.want)
		}
	}
}
