package server

import (
	"fmt"
	"math"
	"strings"
)

// ParseSize parses a byte count written as decimal digits with an optional
// binary multiplier suffix: "1048577", "200K" (200×2^10), "256M" (×2^20),
// "1G" (×2^30). It is the syntax of the path scheme, of the rate query
// parameter and of the testserver command's size and rate flags. Anything
// else (signs, spaces, fractions, lower-case suffixes, values above
// math.MaxInt64) returns an error wrapping ErrBadSize.
func ParseSize(s string) (int64, error) {
	n, ok := parseSize(s)
	if !ok {
		return 0, fmt.Errorf("%w: %q", ErrBadSize, s)
	}
	return n, nil
}

func parseSize(s string) (int64, bool) {
	shift := 0
	if s != "" {
		switch s[len(s)-1] {
		case 'K':
			shift = 10
		case 'M':
			shift = 20
		case 'G':
			shift = 30
		}
		if shift != 0 {
			s = s[:len(s)-1]
		}
	}
	// MaxInt64 has 19 digits, and any 19-digit number fits in a uint64, so
	// the loop below cannot overflow.
	if s == "" || len(s) > 19 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n > math.MaxInt64>>shift {
		return 0, false
	}
	return int64(n << shift), true
}

// sizeFromPath extracts the file size from the last segment of a URL path:
// "<N>[K|M|G][.ext]". The extension, if present, must start with a letter and
// hold only letters, digits, '.', '-' and '_', so "/1.5G" is rejected rather
// than read as a 1-byte file with extension "5G".
func sizeFromPath(path string) (int64, bool) {
	seg := path[strings.LastIndexByte(path, '/')+1:]
	name, ext, hasExt := strings.Cut(seg, ".")
	if hasExt && !validExt(ext) {
		return 0, false
	}
	return parseSize(name)
}

func validExt(ext string) bool {
	if ext == "" || !isLetter(ext[0]) {
		return false
	}
	for i := 0; i < len(ext); i++ {
		c := ext[i]
		if !isLetter(c) && !(c >= '0' && c <= '9') && c != '.' && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
