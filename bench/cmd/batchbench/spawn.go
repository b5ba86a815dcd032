package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// spawnPkg is the compare harness's exec-and-measure helper, which every
// tool is started through (its doc.go gives the protocol). Measuring a tool
// with os/exec directly would be wrong: Go starts children with vfork, and
// exec records the address space it replaces — the harness's — in the
// child's ru_maxrss (Linux fs/exec.c, exec_mmap), so /bin/true started
// from a harness holding 200 MiB reports a peak RSS of 200 MiB. This
// harness holds a test server and, in the million scenario, its request
// log; spawn is tiny and adds a floor of about 2 MiB.
const spawnPkg = "github.com/rangedl/rangedl/bench/cmd/compare/internal/spawn"

// usage is what spawn measured of one process.
type usage struct {
	wall   time.Duration // from fork to exit
	cpu    time.Duration // user + system
	maxRSS int64         // peak resident set in bytes
	status int           // exit code, or minus the signal number
}

// spec is one process to run and measure.
type spec struct {
	argv   []string // the program (an absolute path) and its arguments
	dir    string   // working directory
	home   string   // HOME: an empty directory, so no rc file applies
	stdin  *os.File // nil: /dev/null
	stdout io.Writer
	stderr io.Writer
}

// measured is a process started through spawn.
type measured struct {
	cmd    *exec.Cmd
	report *os.File // the read end of spawn's descriptor 3
}

// startMeasured starts s.argv through the spawn binary. The tool and spawn
// get a process group of their own, so that cancelling ctx kills both:
// killing spawn alone would leave the tool running into the next run.
func startMeasured(ctx context.Context, spawn string, s spec) (*measured, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, spawn, s.argv...)
	cmd.Dir = s.dir
	cmd.Env = cleanEnv(s.home)
	if s.stdin != nil {
		cmd.Stdin = s.stdin
	}
	cmd.Stdout, cmd.Stderr = s.stdout, s.stderr
	cmd.ExtraFiles = []*os.File{pw}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// If a killed tool left a child holding its output pipe, do not wait
	// for that child forever.
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Start()
	pw.Close() // spawn has its own copy
	if err != nil {
		pr.Close()
		return nil, fmt.Errorf("spawn: %w", err)
	}
	return &measured{cmd: cmd, report: pr}, nil
}

// spawnPID is the pid of spawn (not of the tool: see toolPID).
func (m *measured) spawnPID() int { return m.cmd.Process.Pid }

// wait waits for the tool and returns spawn's measurement. The error says
// why there is none.
func (m *measured) wait() (usage, error) {
	werr := m.cmd.Wait()
	line, _ := io.ReadAll(m.report) // spawn has exited: its end is closed
	m.report.Close()
	u, err := parseSpawnReport(string(line))
	if err != nil && werr != nil {
		err = fmt.Errorf("spawn: %v: %w", werr, err)
	}
	return u, err
}

// parseSpawnReport parses spawn's line "WALL_NS UTIME_NS STIME_NS MAXRSS
// STATUS" or its "exec-error: ..." line.
func parseSpawnReport(line string) (usage, error) {
	line = strings.TrimSpace(line)
	if msg, ok := strings.CutPrefix(line, "exec-error:"); ok {
		return usage{}, errors.New(strings.TrimSpace(msg))
	}
	f := strings.Fields(line)
	if len(f) != 5 {
		return usage{}, fmt.Errorf("no measurement from spawn (got %q)", line)
	}
	var n [5]int64
	for i, s := range f {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return usage{}, fmt.Errorf("no measurement from spawn (got %q)", line)
		}
		n[i] = v
	}
	return usage{
		wall:   time.Duration(n[0]),
		cpu:    time.Duration(n[1] + n[2]),
		maxRSS: rssBytes(n[3]),
		status: int(n[4]),
	}, nil
}

// rssBytes converts ru_maxrss to bytes: KiB on Linux and the BSDs, bytes on
// macOS (getrusage(2) on each).
func rssBytes(maxrss int64) int64 {
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return maxrss
	}
	return maxrss << 10
}

// statusString describes an exit status as spawn reports it.
func statusString(status int) string {
	if status < 0 {
		return fmt.Sprintf("killed by signal %d", -status)
	}
	return fmt.Sprintf("exit status %d", status)
}

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

// cleanEnv is the environment every tool runs in, built from scratch so
// that the measurement does not depend on who runs it: no proxy variables,
// and HOME an empty directory so that ~/.curlrc, ~/.wget2rc and
// ~/.aria2/aria2.conf cannot add options (and wget2's databases, were they
// on, would land there and not in the output directory).
func cleanEnv(home string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"LC_ALL=C", // messages in English
	}
	if tmp := os.Getenv("TMPDIR"); tmp != "" {
		env = append(env, "TMPDIR="+tmp)
	}
	return env
}

// tailSize bounds the output kept from a tool, for a failure reason.
const tailSize = 4 << 10

// tailWriter keeps the last tailSize bytes written to it. exec.Cmd writes
// from its copying goroutine and we read after Wait, which waits for it,
// so it needs no lock.
type tailWriter struct{ b []byte }

func (t *tailWriter) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > tailSize {
		t.b = append(t.b[:0], t.b[len(t.b)-tailSize:]...)
	}
	return len(p), nil
}

// lastLine returns the last non-empty line written, trimmed to 200 bytes.
func (t *tailWriter) lastLine() string {
	lines := strings.Split(strings.TrimSpace(string(t.b)), "\n")
	return clip(strings.TrimSpace(lines[len(lines)-1]), 200)
}
