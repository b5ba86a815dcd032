package loop

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// An outFile writes and fails as an *os.File does: the same bytes, the same error text.
func TestOutFileLikeOSFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out")
	f, created, err := create(path, false)
	if err != nil || !created {
		t.Fatalf("create: %v, created %v", err, created)
	}
	if n, err := f.WriteAt([]byte("world"), 6); n != 5 || err != nil {
		t.Fatalf("WriteAt: %d, %v", n, err)
	}
	if n, err := f.WriteAt([]byte("hello "), 0); n != 6 || err != nil {
		t.Fatalf("WriteAt: %d, %v", n, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err == nil || err.Error() != "close "+path+": file already closed" {
		t.Errorf("second Close: %v", err)
	}
	if _, err := f.WriteAt([]byte("x"), 0); !errors.Is(err, os.ErrClosed) {
		t.Errorf("WriteAt after Close: %v", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, []byte("hello world")) {
		t.Errorf("file holds %q", got)
	}

	// Opened for reading only: the write fails with EBADF, worded as os words it.
	raw, err := openFile(path, unix.O_RDONLY|unix.O_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	osf, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer osf.Close()
	_, got := raw.WriteAt([]byte("x"), 0)
	_, want := osf.WriteAt([]byte("x"), 0)
	if got == nil || want == nil || got.Error() != want.Error() {
		t.Errorf("WriteAt on a read-only file: %v, os.File says %v", got, want)
	}

	// Once File made an *os.File, Close goes through it.
	if st, err := raw.File().Stat(); err != nil || st.Size() != 11 {
		t.Fatalf("Stat: %v, %v", st, err)
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := raw.File().Close(); err == nil {
		t.Error("the *os.File is still open after Close")
	}
	if _, err := raw.WriteAt([]byte("x"), 0); !errors.Is(err, os.ErrClosed) {
		t.Errorf("WriteAt after Close: %v", err)
	}
}

// Two -c of one missing file, started together: the one that loses the race to create it is
// told that another rangedl has it, not that it exists (its open found no file, and its
// create found the other's).
func TestContinueRacesCreate(t *testing.T) {
	dir := t.TempDir()
	for i := range 300 {
		path := filepath.Join(dir, "out")
		os.Remove(path)
		start := make(chan struct{})
		errs := make(chan error, 2)
		files := make(chan *outFile, 2)
		for range 2 {
			go func() {
				job := Job{Output: path, Continue: true}
				<-start
				f, _, _, err := openOutput(&job)
				errs <- err
				files <- f
			}()
		}
		close(start)
		for range 2 {
			err := <-errs
			if f := <-files; f != nil {
				f.Close()
			}
			if err != nil && err.Error() != path+" is being downloaded by another rangedl process" {
				t.Fatalf("round %d: %v", i, err)
			}
		}
	}
}
