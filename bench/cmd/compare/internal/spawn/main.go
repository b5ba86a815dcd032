package main

import (
	"os"
	"strconv"
	"syscall"
	"time"
)

// reportFD is where the harness reads the result.
const reportFD = 3

func main() {
	// The report pipe was inherited without close-on-exec; without this
	// the tool would inherit it too and could hold it open after we exit.
	syscall.CloseOnExec(reportFD)
	report := os.NewFile(reportFD, "report")
	if len(os.Args) < 2 {
		report.WriteString("exec-error: usage: spawn PROGRAM [ARG...]\n")
		os.Exit(2)
	}
	argv := os.Args[1:]

	start := time.Now()
	pid, err := syscall.ForkExec(argv[0], argv, &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2},
	})
	if err != nil {
		report.WriteString("exec-error: " + argv[0] + ": " + err.Error() + "\n")
		os.Exit(127)
	}
	var ws syscall.WaitStatus
	var ru syscall.Rusage
	for {
		_, err = syscall.Wait4(pid, &ws, 0, &ru)
		if err != syscall.EINTR {
			break
		}
	}
	wall := time.Since(start)
	if err != nil {
		report.WriteString("exec-error: wait4: " + err.Error() + "\n")
		os.Exit(1)
	}

	status := ws.ExitStatus()
	if ws.Signaled() {
		status = -int(ws.Signal())
	}
	line := strconv.FormatInt(int64(wall), 10) + " " +
		strconv.FormatInt(ru.Utime.Nano(), 10) + " " +
		strconv.FormatInt(ru.Stime.Nano(), 10) + " " +
		strconv.FormatInt(int64(ru.Maxrss), 10) + " " +
		strconv.Itoa(status) + "\n"
	if _, err := report.WriteString(line); err != nil {
		os.Exit(1)
	}
}
