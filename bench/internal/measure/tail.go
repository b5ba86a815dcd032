package measure

import "strings"

// tailSize bounds the output a TailWriter keeps.
const tailSize = 4 << 10

// TailWriter keeps the last 4 KiB written to it: a tool's output, for the
// reason a run failed. exec.Cmd writes from its copying goroutines and the
// harness reads after Wait, which waits for them, so it needs no lock.
type TailWriter struct{ b []byte }

func (t *TailWriter) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > tailSize {
		t.b = append(t.b[:0], t.b[len(t.b)-tailSize:]...)
	}
	return len(p), nil
}

// LastLine returns the last non-empty line written, without surrounding
// white space, or "". It is not shortened: each harness clips it its own
// way for its report.
func (t *TailWriter) LastLine() string {
	lines := strings.Split(strings.TrimSpace(string(t.b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
