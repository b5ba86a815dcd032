package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"
)

// refByte is the byte-by-byte reference for Fill, written independently of
// it: run SplitMix64 from its seed state to output number i/8 and take byte
// i%8. (Stepping the state is a multiply here, as in the published
// algorithm's "state += gamma" repeated i/8+1 times.)
func refByte(seed uint64, i int64) byte {
	state := seed + (uint64(i)/8+1)*0x9e3779b97f4a7c15
	z := state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return byte(z >> (8 * (uint64(i) % 8)))
}

func refFill(seed uint64, off int64, n int) []byte {
	b := make([]byte, n)
	for j := range b {
		b[j] = refByte(seed, off+int64(j))
	}
	return b
}

// TestFillGolden pins the content stream to the published SplitMix64
// outputs, so a refactor cannot silently change every checksum scripts
// have recorded.
func TestFillGolden(t *testing.T) {
	tests := []struct {
		seed uint64
		want []uint64
	}{
		{0, []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f, 0xf88bb8a8724c81ec}},
		{1, []uint64{0x910a2dec89025cc1, 0xbeeb8da1658eec67}},
	}
	for _, tt := range tests {
		got := make([]byte, 8*len(tt.want))
		Fill(tt.seed, 0, got)
		for k, w := range tt.want {
			if g := binary.LittleEndian.Uint64(got[8*k:]); g != w {
				t.Errorf("seed %d word %d: got %#x; want %#x", tt.seed, k, g, w)
			}
		}
	}
}

func TestFillMatchesReference(t *testing.T) {
	offsets := []int64{0, 1, 3, 7, 8, 9, 15, 16, 31, 33, 4095, 1 << 20, 1<<40 + 5, 100<<30 - 3, -1, -8}
	lengths := []int{0, 1, 2, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1000}
	for _, seed := range []uint64{0, 1, 2, 0xdeadbeef, ^uint64(0)} {
		for _, off := range offsets {
			for _, n := range lengths {
				got := make([]byte, n)
				Fill(seed, off, got)
				if want := refFill(seed, off, n); !bytes.Equal(got, want) {
					t.Errorf("Fill(%d, %d, [%d]): got %x; want %x", seed, off, n, got, want)
				}
			}
		}
	}
}

// TestFillSplit checks that any way of cutting a range into Fill calls
// gives the same bytes: the server serves ranges at arbitrary offsets.
func TestFillSplit(t *testing.T) {
	const size = 300
	whole := make([]byte, size)
	Fill(7, 5, whole)
	for cut := 0; cut <= size; cut++ {
		got := make([]byte, size)
		Fill(7, 5, got[:cut])
		Fill(7, 5+int64(cut), got[cut:])
		if !bytes.Equal(got, whole) {
			t.Fatalf("cut at %d: got %x; want %x", cut, got, whole)
		}
	}
}

func TestFillSeedsDiffer(t *testing.T) {
	a, b := make([]byte, 64), make([]byte, 64)
	Fill(1, 0, a)
	Fill(2, 0, b)
	if bytes.Equal(a, b) {
		t.Errorf("seeds 1 and 2 give the same content %x", a)
	}
}

func TestSum(t *testing.T) {
	for _, size := range []int64{-1, 0, 1, 7, 8, 9, sumChunk - 1, sumChunk, sumChunk + 1, 3*sumChunk + 12345} {
		buf := make([]byte, max(size, 0))
		Fill(3, 0, buf)
		if got, want := Sum(3, size), sha256.Sum256(buf); got != want {
			t.Errorf("Sum(3, %d): got %x; want %x", size, got, want)
		}
	}
}

func FuzzFill(f *testing.F) {
	f.Add(uint64(1), int64(0), uint16(0))
	f.Add(uint64(1), int64(7), uint16(9))
	f.Add(uint64(0), int64(-3), uint16(40))
	f.Fuzz(func(t *testing.T, seed uint64, off int64, n uint16) {
		got := make([]byte, n%2048)
		Fill(seed, off, got)
		if want := refFill(seed, off, len(got)); !bytes.Equal(got, want) {
			t.Errorf("Fill(%d, %d, [%d]): got %x; want %x", seed, off, len(got), got, want)
		}
	})
}

func BenchmarkFill(b *testing.B) {
	for _, n := range []int{4 << 10, 64 << 10} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			buf := make([]byte, n)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			var off int64
			for b.Loop() {
				Fill(1, off, buf)
				off += int64(n)
			}
		})
	}
}

func BenchmarkSum(b *testing.B) {
	const size = 1 << 20
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		Sum(1, size)
	}
}
