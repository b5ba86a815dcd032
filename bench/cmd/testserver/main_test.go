package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rangedl/rangedl/bench/server"
)

func TestSum(t *testing.T) {
	tests := []struct {
		args []string
		seed uint64
		size int64
	}{
		{[]string{"-sum", "0"}, 1, 0},
		{[]string{"-sum", "1M"}, 1, 1 << 20},
		{[]string{"-seed", "9", "-sum", "1000"}, 9, 1000},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), tt.args, &out, &errOut); code != 0 {
			t.Fatalf("run(%q): exit %d: %s", tt.args, code, errOut.String())
		}
		want := server.Sum(tt.seed, tt.size)
		if got := strings.TrimSpace(out.String()); got != hex.EncodeToString(want[:]) {
			t.Errorf("run(%q): got %q; want %x", tt.args, got, want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-rate", "fast"},
		{"-sum", "1.5G"},
		{"-fault", "explode"},
		{"-nosuchflag"},
		{"extra"},
	} {
		if code := run(context.Background(), args, io.Discard, io.Discard); code != 2 {
			t.Errorf("run(%q): got exit %d; want 2", args, code)
		}
	}
	if code := run(context.Background(), []string{"-addr", "0.0.0.0:0"}, io.Discard, io.Discard); code != 1 {
		t.Errorf("run(-addr 0.0.0.0:0): got exit %d; want 1", code)
	}
}

// TestServe runs the command as a script would: read the port from the
// first stdout line, download, then stop it as a signal would.
func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var errOut bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-seed", "5", "-rate", "100M", "-fault", "503@1,retry=2"}, pw, &errOut)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the listening line: %v", err)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("first line: got %q; want \"listening on http://127.0.0.1:PORT\"", line)
	}
	c := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	resp, err := c.Get(url + "/100")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("first GET: got %d, Retry-After %q; want 503, 2", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	resp, err = c.Get(url + "/100")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := make([]byte, 100)
	server.Fill(5, 0, want)
	if !bytes.Equal(body, want) {
		t.Errorf("second GET: got %d bytes; want seed 5 content", len(body))
	}
	c.CloseIdleConnections()
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d: %s", code, errOut.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("command did not exit after cancellation")
	}
	if !strings.Contains(errOut.String(), "2 requests, 100 body bytes") {
		t.Errorf("stderr: got %q; want the final counters", errOut.String())
	}
}
