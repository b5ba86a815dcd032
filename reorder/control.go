package reorder

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// ErrControl reports a control file that cannot be used: not one of ours,
// of another format version, damaged, or truncated. The error text says
// which.
var ErrControl = errors.New("not a usable rangedl control file")

// ControlVersion is the format version written into every control file. A
// reader refuses any other version: the file holds a promise about data on
// disk, and a field it does not understand could change what that promise
// means.
const ControlVersion = 1

// controlMagic opens every control file, followed by the version.
const controlMagic = "rangedl-control"

// Control is the record kept beside a partial download (FILE.rangedl): what
// the file is a copy of, and which of its bytes are durable on disk.
//
// The encoding is text, one "key value" per line, so it is the same on
// every machine (no byte order) and a person can read it with cat:
//
//	rangedl-control 1
//	url http://example.com/big.iso
//	final-url http://cdn.example.com/big.iso
//	size 1073741824
//	etag "5f1e-40000000"
//	last-modified Mon, 01 Jan 2024 00:00:00 GMT
//	piece-size 67108864
//	durable 0-8388607 16777216-25165823
//	crc32c 1c291ca3
//
// Durable ranges are written first-last, inclusive, as in an HTTP Range
// header. The last line is a CRC-32C of every byte before it, so a torn or
// zero-filled file is refused rather than trusted.
type Control struct {
	URL          string // as the user gave it
	FinalURL     string // where the bytes came from (after redirects)
	Size         int64
	ETag         string // "" when the server sent none
	LastModified string // "" when the server sent none
	PieceSize    int64
	Durable      []Range // sorted, disjoint; every byte in them is on disk
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// MarshalText encodes c. It fails if a string field holds a line break or
// a NUL, which no URL or header value we accepted can contain.
func (c *Control) MarshalText() ([]byte, error) {
	for _, s := range []string{c.URL, c.FinalURL, c.ETag, c.LastModified} {
		if strings.ContainsAny(s, "\r\n\x00") {
			return nil, fmt.Errorf("reorder: control field %q holds a line break", s)
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %d\n", controlMagic, ControlVersion)
	fmt.Fprintf(&b, "url %s\n", c.URL)
	fmt.Fprintf(&b, "final-url %s\n", c.FinalURL)
	fmt.Fprintf(&b, "size %d\n", c.Size)
	fmt.Fprintf(&b, "etag %s\n", c.ETag)
	fmt.Fprintf(&b, "last-modified %s\n", c.LastModified)
	fmt.Fprintf(&b, "piece-size %d\n", c.PieceSize)
	b.WriteString("durable")
	for _, r := range c.Durable {
		fmt.Fprintf(&b, " %d-%d", r.Start, r.End-1)
	}
	b.WriteByte('\n')
	fmt.Fprintf(&b, "crc32c %08x\n", crc32.Checksum(b.Bytes(), castagnoli))
	return b.Bytes(), nil
}

// UnmarshalText decodes a control file. Every error wraps ErrControl.
func (c *Control) UnmarshalText(data []byte) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrControl, fmt.Sprintf(format, args...))
	}
	// The checksum line comes first: nothing else is read from a damaged file.
	body, sum, ok := cutLastLine(data)
	if !ok || !strings.HasPrefix(sum, "crc32c ") {
		if !bytes.HasPrefix(data, []byte(controlMagic+" ")) {
			return bad("it does not start with %q", controlMagic)
		}
		return bad("truncated (no checksum line)")
	}
	want, err := strconv.ParseUint(strings.TrimPrefix(sum, "crc32c "), 16, 32)
	if err != nil || uint32(want) != crc32.Checksum(body, castagnoli) {
		return bad("damaged (checksum mismatch)")
	}
	*c = Control{}
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, len(body)+1)
	for line := 0; sc.Scan(); line++ {
		key, val, _ := strings.Cut(sc.Text(), " ")
		if line == 0 {
			if key != controlMagic {
				return bad("it does not start with %q", controlMagic)
			}
			if val != strconv.Itoa(ControlVersion) {
				return bad("format version %s (this rangedl reads version %d)", val, ControlVersion)
			}
			continue
		}
		if seen[key] {
			return bad("%q appears twice", key)
		}
		seen[key] = true
		switch key {
		case "url":
			c.URL = val
		case "final-url":
			c.FinalURL = val
		case "etag":
			c.ETag = val
		case "last-modified":
			c.LastModified = val
		case "size", "piece-size":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil || n < 0 {
				return bad("%s %q is not a size", key, val)
			}
			if key == "size" {
				c.Size = n
			} else {
				c.PieceSize = n
			}
		case "durable":
			if c.Durable, err = parseRanges(val); err != nil {
				return bad("%v", err)
			}
		default:
			return bad("unknown field %q", key)
		}
	}
	for _, key := range []string{"url", "size", "durable"} {
		if !seen[key] {
			return bad("no %q field", key)
		}
	}
	if n := len(c.Durable); n > 0 && c.Durable[n-1].End > c.Size {
		return bad("durable range %d-%d lies past the size %d", c.Durable[n-1].Start, c.Durable[n-1].End-1, c.Size)
	}
	return nil
}

// cutLastLine splits data before its last line, which must end in '\n'.
func cutLastLine(data []byte) (body []byte, last string, ok bool) {
	if len(data) == 0 || data[len(data)-1] != '\n' {
		return nil, "", false
	}
	i := bytes.LastIndexByte(data[:len(data)-1], '\n')
	if i < 0 {
		return nil, "", false
	}
	return data[:i+1], string(data[i+1 : len(data)-1]), true
}

// parseRanges reads "first-last first-last ...": ascending, disjoint and
// not adjacent, as a RangeSet keeps them.
func parseRanges(s string) ([]Range, error) {
	var rs []Range
	for _, f := range strings.Fields(s) {
		a, b, ok := strings.Cut(f, "-")
		first, err1 := strconv.ParseInt(a, 10, 64)
		last, err2 := strconv.ParseInt(b, 10, 64)
		if !ok || err1 != nil || err2 != nil || first < 0 || last < first || last == 1<<63-1 {
			return nil, fmt.Errorf("durable range %q is not first-last", f)
		}
		if n := len(rs); n > 0 && first <= rs[n-1].End {
			return nil, fmt.Errorf("durable range %q is out of order", f)
		}
		rs = append(rs, Range{first, last + 1})
	}
	return rs, nil
}
