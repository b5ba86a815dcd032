package measure

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// SpawnPkg is the exec-and-measure helper every tool is started through
// (its doc.go gives the protocol); the harnesses build it with go build.
// An import path, not a directory, so that it resolves from anywhere inside
// the module.
//
// Measuring a tool with os/exec directly would be wrong: Go starts
// children with vfork, and exec records the address space it replaces —
// the harness's — in the child's ru_maxrss (Linux fs/exec.c, exec_mmap),
// so /bin/true started from a harness holding 200 MiB reports a peak RSS
// of 200 MiB. A harness holds test servers and, in batchbench's million
// scenario, a request log; spawn is tiny and adds a floor of about 2 MiB.
const SpawnPkg = "github.com/rangedl/rangedl/bench/cmd/compare/internal/spawn"

// Usage is what spawn measured of one process.
type Usage struct {
	Wall   time.Duration // from fork to exit
	CPU    time.Duration // user + system
	MaxRSS int64         // peak resident set in bytes
	Status int           // exit code, or minus the signal number
}

// StatusString describes an exit status as spawn reports it: "exit status
// 3", "killed by signal 9".
func StatusString(status int) string {
	if status < 0 {
		return fmt.Sprintf("killed by signal %d", -status)
	}
	return fmt.Sprintf("exit status %d", status)
}

// Spec is one process to run and measure.
type Spec struct {
	Argv   []string // the program (an absolute path) and its arguments
	Dir    string   // working directory
	Home   string   // HOME: an empty directory, so no rc file applies (see CleanEnv)
	Stdin  *os.File // nil: /dev/null
	Stdout io.Writer
	Stderr io.Writer
}

// Process is a process started through spawn.
type Process struct {
	cmd    *exec.Cmd
	report *os.File // the read end of spawn's descriptor 3
}

// Start starts s.Argv through the spawn binary at spawn. The tool and
// spawn get a process group of their own, so that cancelling ctx kills
// both: killing spawn alone would leave the tool running into the next
// run.
func Start(ctx context.Context, spawn string, s Spec) (*Process, error) {
	// spawn writes its report into this pipe, on its descriptor 3.
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, spawn, s.Argv...)
	cmd.Dir = s.Dir
	cmd.Env = CleanEnv(s.Home)
	if s.Stdin != nil {
		cmd.Stdin = s.Stdin
	}
	cmd.Stdout, cmd.Stderr = s.Stdout, s.Stderr
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
	return &Process{cmd: cmd, report: pr}, nil
}

// SpawnPID is the pid of spawn, not of the tool: the tool is spawn's
// child.
func (p *Process) SpawnPID() int { return p.cmd.Process.Pid }

// Wait waits for the tool and returns spawn's measurement. The error says
// why there is none: the tool could not be started, or spawn was killed
// (as it is when ctx ends) before it could report.
func (p *Process) Wait() (Usage, error) {
	werr := p.cmd.Wait()
	line, _ := io.ReadAll(p.report) // spawn has exited: its end is closed
	p.report.Close()
	u, err := parseReport(string(line))
	if err != nil && werr != nil {
		err = fmt.Errorf("spawn: %v: %w", werr, err)
	}
	return u, err
}

// parseReport parses spawn's line "WALL_NS UTIME_NS STIME_NS MAXRSS
// STATUS" or its "exec-error: ..." line.
func parseReport(line string) (Usage, error) {
	line = strings.TrimSpace(line)
	if msg, ok := strings.CutPrefix(line, "exec-error:"); ok {
		return Usage{}, errors.New(strings.TrimSpace(msg))
	}
	f := strings.Fields(line)
	if len(f) != 5 {
		return Usage{}, fmt.Errorf("no measurement from spawn (got %q)", line)
	}
	var n [5]int64
	for i, s := range f {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return Usage{}, fmt.Errorf("no measurement from spawn (got %q)", line)
		}
		n[i] = v
	}
	return Usage{
		Wall:   time.Duration(n[0]),
		CPU:    time.Duration(n[1] + n[2]),
		MaxRSS: rssBytes(n[3]),
		Status: int(n[4]),
	}, nil
}

// rssBytes converts ru_maxrss to bytes: it is in KiB on Linux and the BSDs
// but in bytes on macOS (getrusage(2) on each system).
func rssBytes(maxrss int64) int64 {
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return maxrss
	}
	return maxrss << 10
}
