package reorder_test

import (
	"fmt"
	"strings"

	"github.com/rangedl/rangedl/reorder"
)

// memFile is an in-memory io.WriterAt standing in for an *os.File.
type memFile struct{ data []byte }

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	if end := int(off) + len(p); end > len(f.data) {
		f.data = append(f.data, make([]byte, end-len(f.data))...)
	}
	return copy(f.data[off:], p), nil
}

func ExampleNewFile() {
	f := &memFile{}
	buf := reorder.NewFile(f, reorder.Options{BlockSize: 4, MaxBuffered: 16})
	// Two connections fetch "hello, " and "world!" as two pieces; their
	// slices arrive interleaved, and one slice arrives twice.
	buf.Push(7, []byte("wor"))
	buf.Push(0, []byte("hel"))
	buf.Push(3, []byte("lo, ")) // [0,4) is full; the runs meet and fill [4,8): both written
	buf.Push(7, []byte("wor"))  // already pushed: ignored
	buf.Push(10, []byte("ld!")) // [8,12) is full: written; "!" waits for more
	fmt.Println("written:", buf.Written(), "held:", buf.Buffered())
	if err := buf.Close(); err != nil {
		fmt.Println(err)
	}
	fmt.Printf("written: %v file: %q\n", buf.Written(), f.data)
	// Output:
	// written: [0,12) held: 1
	// written: [0,13) file: "hello, world!"
}

func ExampleNewStream() {
	var out strings.Builder
	buf := reorder.NewStream(&out, 0, reorder.Options{BlockSize: 4})
	buf.Push(6, []byte("world")) // ahead of the cursor: held
	fmt.Printf("out: %q cursor: %d held: %d\n", out.String(), buf.Cursor(), buf.Buffered())
	buf.Push(0, []byte("hello ")) // fills the gap
	if err := buf.Close(); err != nil {
		fmt.Println(err)
	}
	fmt.Printf("out: %q cursor: %d\n", out.String(), buf.Cursor())
	// Output:
	// out: "" cursor: 0 held: 5
	// out: "hello world" cursor: 11
}
