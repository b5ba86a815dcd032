package main

import "testing"

func TestParseProcStatus(t *testing.T) {
	status := "Name:\trangedl\nVmPeak:\t 1300000 kB\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\nThreads:\t5\n"
	rss, hwm, ok := parseProcStatus(status)
	if !ok || rss != 10<<20 || hwm != 20<<20 {
		t.Errorf("got %d, %d, %v; want %d, %d, true", rss, hwm, ok, 10<<20, 20<<20)
	}
	// A zombie's status has no Vm lines.
	if _, _, ok := parseProcStatus("Name:\trangedl\nState:\tZ (zombie)\n"); ok {
		t.Errorf("zombie: got ok; want not ok")
	}
}
