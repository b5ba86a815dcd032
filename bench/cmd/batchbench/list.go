package main

import (
	"bufio"
	"io"
	"strconv"
)

// Entry i of the million list is saved as dir=d<i/filesPerDir> and
// out=f<i>, so that no directory holds more than filesPerDir files (ext4
// handles a million entries in one directory, but listing, verifying and
// deleting it would then measure the directory index as much as anything).
const (
	filesPerDir = 1000
	nameDigits  = 7 // f0000000 … f9999999; more digits beyond, still unique
	dirDigits   = 3 // d000 … d999 for a million entries
)

// entryDir returns the dir= of entry i.
func entryDir(i int) string { return string(appendPadded([]byte{'d'}, i/filesPerDir, dirDigits)) }

// entryName returns the out= of entry i.
func entryName(i int) string { return string(appendPadded([]byte{'f'}, i, nameDigits)) }

// appendPadded appends n in decimal, zero-padded to width digits.
func appendPadded(b []byte, n, width int) []byte {
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], int64(n), 10)
	for range width - len(d) {
		b = append(b, '0')
	}
	return append(b, d...)
}

// appendEntry appends entry i of the list in rangedl's input-file form
// (aria2's convention: options on indented lines after the URL).
func appendEntry(b []byte, url string, i int) []byte {
	b = append(b, url...)
	b = append(b, "\n  out="...)
	b = appendPadded(append(b, 'f'), i, nameDigits)
	b = append(b, "\n  dir="...)
	b = appendPadded(append(b, 'd'), i/filesPerDir, dirDigits)
	return append(b, '\n')
}

// writeList writes the n entries of the million list for url to w, one at
// a time through a small buffer: the list is never held in memory. It
// stops at the first write error (a reader that exited early).
func writeList(w io.Writer, url string, n int) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var b []byte
	for i := range n {
		b = appendEntry(b[:0], url, i)
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}
