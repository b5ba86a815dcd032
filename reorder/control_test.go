package reorder

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

func sampleControl() Control {
	return Control{
		URL:          "http://127.0.0.1:8080/1G?x=1",
		FinalURL:     "http://127.0.0.1:8080/1G?x=1",
		Size:         1 << 30,
		ETag:         `"1-40000000"`,
		LastModified: "Mon, 01 Jan 2024 00:00:00 GMT",
		PieceSize:    64 << 20,
		Durable:      []Range{{0, 8 << 20}, {16 << 20, 24 << 20}, {1<<30 - 1, 1 << 30}},
	}
}

func TestControlRoundTrip(t *testing.T) {
	for _, c := range []Control{sampleControl(), {URL: "u", Size: 0}} {
		b, err := c.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var got Control
		if err := got.UnmarshalText(b); err != nil {
			t.Fatalf("UnmarshalText(%q): %v", b, err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("round trip: got %+v; want %+v", got, c)
		}
	}
}

func TestControlText(t *testing.T) {
	c := sampleControl()
	b, _ := c.MarshalText()
	want := "rangedl-control 1\n" +
		"url http://127.0.0.1:8080/1G?x=1\n" +
		"final-url http://127.0.0.1:8080/1G?x=1\n" +
		"size 1073741824\n" +
		"etag \"1-40000000\"\n" +
		"last-modified Mon, 01 Jan 2024 00:00:00 GMT\n" +
		"piece-size 67108864\n" +
		"durable 0-8388607 16777216-25165823 1073741823-1073741823\n"
	if !strings.HasPrefix(string(b), want) {
		t.Fatalf("got\n%s\nwant it to start with\n%s", b, want)
	}
}

// reseal recomputes the checksum of a hand-edited control file, so the
// test reaches the check after it.
func reseal(body string) []byte {
	var b bytes.Buffer
	b.WriteString(body)
	b.WriteString("crc32c ")
	b.WriteString(strings.TrimSpace(hex8(body)))
	b.WriteString("\n")
	return b.Bytes()
}

func TestControlRefused(t *testing.T) {
	c := sampleControl()
	good, _ := c.MarshalText()
	body := string(good[:bytes.LastIndex(good[:len(good)-1], []byte("\n"))+1])
	flipped := bytes.Clone(good)
	flipped[30] ^= 1
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, `it does not start with "rangedl-control"`},
		{"zero-filled", make([]byte, len(good)), `it does not start with "rangedl-control"`},
		{"foreign", []byte("{\"url\": \"x\"}\n"), `it does not start with "rangedl-control"`},
		{"truncated", good[:len(good)-20], "truncated (no checksum line)"},
		{"flipped bit", flipped, "damaged (checksum mismatch)"},
		{"version 2", reseal(strings.Replace(body, "rangedl-control 1", "rangedl-control 2", 1)), "format version 2 (this rangedl reads version 1)"},
		{"unknown field", reseal(body + "color blue\n"), `unknown field "color"`},
		{"twice", reseal(body + "size 5\n"), `"size" appears twice`},
		{"no size", reseal(strings.Replace(body, "size 1073741824\n", "", 1)), `no "size" field`},
		{"bad size", reseal(strings.Replace(body, "size 1073741824", "size -1", 1)), `size "-1" is not a size`},
		{"bad range", reseal(strings.Replace(body, "0-8388607", "8388607-0", 1)), `durable range "8388607-0" is not first-last`},
		{"out of order", reseal(strings.Replace(body, "0-8388607 16777216-25165823", "16777216-25165823 0-8388607", 1)), `durable range "0-8388607" is out of order`},
		{"past size", reseal(strings.Replace(body, "1073741823-1073741823", "1073741823-1073741824", 1)), "durable range 1073741823-1073741824 lies past the size 1073741824"},
	}
	for _, tc := range cases {
		var got Control
		err := got.UnmarshalText(tc.data)
		if !errors.Is(err, ErrControl) || !strings.HasSuffix(err.Error(), ": "+tc.want) {
			t.Errorf("%s: got %v; want ErrControl ending in %q", tc.name, err, tc.want)
		}
	}
}

// Every prefix of a good file is refused: a save cut short is never read as
// a smaller, valid record.
func TestControlEveryTruncation(t *testing.T) {
	c := sampleControl()
	good, _ := c.MarshalText()
	for n := range len(good) {
		var got Control
		if err := got.UnmarshalText(good[:n]); !errors.Is(err, ErrControl) {
			t.Fatalf("prefix of %d bytes: got %v; want ErrControl", n, err)
		}
	}
}

func TestControlMarshalRefusesLineBreaks(t *testing.T) {
	c := sampleControl()
	c.ETag = "\"a\"\nsize 5"
	if _, err := c.MarshalText(); err == nil {
		t.Fatal("got no error for an ETag holding a line break")
	}
}

// FuzzControl fuzzes the body of a control file. Each input is parsed twice: as it is, and
// signed with its own checksum line, without which no mutation would get past the checksum to
// the fields and ranges behind it.
func FuzzControl(f *testing.F) {
	c := sampleControl()
	good, _ := c.MarshalText()
	body, _, _ := cutLastLine(good)
	f.Add(body)
	f.Add([]byte("rangedl-control 1\nurl u\nsize 0\ndurable\n"))
	f.Add([]byte("rangedl-control 1\nurl u\nsize 100\ndurable 0-9 20-29 9223372036854775806-9223372036854775807\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		signed := bytes.Clone(body)
		if len(signed) > 0 && signed[len(signed)-1] != '\n' {
			signed = append(signed, '\n')
		}
		signed = append(signed, "crc32c "+hex8(string(signed))+"\n"...)
		checkParse(t, body)
		checkParse(t, signed)
	})
}

// checkParse fails t if data parses into ranges that do not fit the size, or into a record
// that does not survive being written and read again.
func checkParse(t *testing.T, data []byte) {
	var c Control
	if c.UnmarshalText(data) != nil {
		return
	}
	var prev int64 = -1
	for _, r := range c.Durable {
		if r.Start <= prev || r.End <= r.Start || r.End > c.Size {
			t.Fatalf("accepted bad ranges %v for size %d", c.Durable, c.Size)
		}
		prev = r.End
	}
	b, err := c.MarshalText()
	if err != nil {
		return // a field with a line break cannot come from a parse, but be safe
	}
	var again Control
	if err := again.UnmarshalText(b); err != nil || !reflect.DeepEqual(again, c) {
		t.Fatalf("re-encoding %+v: got %+v, %v", c, again, err)
	}
}

func TestReadControlMissing(t *testing.T) {
	_, err := ReadControl(filepath.Join(t.TempDir(), "none.rangedl"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v; want ErrNotExist", err)
	}
}

func hex8(body string) string {
	return fmt.Sprintf("%08x", crc32.Checksum([]byte(body), castagnoli))
}

// TestReadControlNotAFile: a FIFO or a device under a control file's name is refused at once,
// without waiting for a writer or reading without end, and so is a file too big to be one.
func TestReadControlNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.rangedl")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.rangedl")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.rangedl")
	if err := os.WriteFile(big, make([]byte, maxControl+1), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, zero, big} {
		done := make(chan error, 1)
		go func() {
			_, err := ReadControl(path)
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, ErrControl) {
				t.Errorf("%s: got %v; want ErrControl", filepath.Base(path), err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: ReadControl still reading after 5 s", filepath.Base(path))
		}
	}
}
