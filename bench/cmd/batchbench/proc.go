package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// toolPID returns the pid of the tool spawn started, from the children
// lists of spawn's threads (Linux /proc/PID/task/TID/children; the tool is
// listed under whichever thread forked it), or 0 if it is not (yet) there.
func toolPID(spawnPID int) int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", spawnPID))
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) > 0 {
			if pid, err := strconv.Atoi(f[0]); err == nil {
				return pid
			}
		}
	}
	return 0
}

// procMemory returns VmRSS and VmHWM of pid in bytes from
// /proc/PID/status; ok is false once the process is gone (or off Linux).
func procMemory(pid int) (rss, hwm int64, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, false
	}
	return parseProcStatus(string(b))
}

// parseProcStatus reads the "VmRSS:  1234 kB" and "VmHWM:" lines of a
// /proc/PID/status text. A zombie has neither: ok is false.
func parseProcStatus(s string) (rss, hwm int64, ok bool) {
	var haveRSS, haveHWM bool
	for line := range strings.Lines(s) {
		k, v, found := strings.Cut(line, ":")
		if !found || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		if k == "VmRSS" {
			rss, haveRSS = n<<10, true
		} else {
			hwm, haveHWM = n<<10, true
		}
	}
	return rss, hwm, haveRSS && haveHWM
}
