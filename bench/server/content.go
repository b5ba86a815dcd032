package server

import (
	"crypto/sha256"
	"encoding/binary"
)

// The content stream is SplitMix64 (Steele, Lea, Flood: "Fast splittable
// pseudorandom number generators", OOPSLA 2014) seeded with the content
// seed: 64-bit word k is the (k+1)-th output of the generator, stored
// little-endian at offsets 8k..8k+7. Word k depends only on (seed, k), so any
// offset can be produced without generating what comes before it, and a
// range request costs the same at offset 0 and at offset 100 GiB.
const (
	mixGamma = 0x9e3779b97f4a7c15 // golden-ratio increment of SplitMix64
	mixMul1  = 0xbf58476d1ce4e5b9
	mixMul2  = 0x94d049bb133111eb
)

// mix is the SplitMix64 output function: a bijective avalanche of its input.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * mixMul1
	z = (z ^ (z >> 27)) * mixMul2
	return z ^ (z >> 31)
}

// word returns content word k (bytes 8k..8k+7) for seed.
func word(seed, k uint64) uint64 {
	return mix(seed + (k+1)*mixGamma)
}

// Fill writes into p the content bytes at offsets off, off+1, ... for the
// given seed. The byte at offset i is byte i%8 (little-endian) of
// SplitMix64's word i/8, so Fill(seed, off, p) gives the same bytes however
// the range is split into calls. Offsets are taken modulo 2^64: a negative
// off is not an error, it simply names bytes far beyond any real file.
func Fill(seed uint64, off int64, p []byte) {
	i := uint64(off)
	if end := i + uint64(len(p)); end < i && end != 0 {
		// The range wraps past 2^64 back to offset 0. Split it there:
		// the word counter below must wrap at 2^61 words, not 2^64.
		n := -i // bytes left before 2^64
		Fill(seed, off, p[:n])
		Fill(seed, 0, p[n:])
		return
	}

	// Head: finish the word that off falls inside of.
	if r := i & 7; r != 0 && len(p) > 0 {
		w := word(seed, i>>3) >> (8 * r)
		n := min(int(8-r), len(p))
		for j := range n {
			p[j] = byte(w)
			w >>= 8
		}
		p = p[n:]
		i += uint64(n)
	}

	// Body: whole words. The generator state advances by mixGamma per
	// word, so keep it in a register instead of multiplying each time.
	// (A variable, not the constant, so that 2*g wraps mod 2^64 as the
	// generator intends instead of overflowing at compile time.)
	g := uint64(mixGamma)
	z := seed + (i>>3+1)*g
	for len(p) >= 32 {
		binary.LittleEndian.PutUint64(p[0:8], mix(z))
		binary.LittleEndian.PutUint64(p[8:16], mix(z+g))
		binary.LittleEndian.PutUint64(p[16:24], mix(z+2*g))
		binary.LittleEndian.PutUint64(p[24:32], mix(z+3*g))
		z += 4 * g
		p = p[32:]
	}
	for len(p) >= 8 {
		binary.LittleEndian.PutUint64(p, mix(z))
		z += g
		p = p[8:]
	}

	// Tail: the first bytes of one more word.
	if len(p) > 0 {
		w := mix(z)
		for j := range p {
			p[j] = byte(w)
			w >>= 8
		}
	}
}

// sumChunk is the buffer size Sum streams through; big enough that the
// per-call overhead of Fill and the hash disappears, small enough to stay in
// L2 cache.
const sumChunk = 64 << 10

// Sum returns the SHA-256 of the first size content bytes for seed. It
// streams through a fixed buffer, so Sum of a 100 GiB file allocates no more
// than Sum of a 1 KiB one (it does take a while: SHA-256 runs at roughly
// 1–2 GB/s). A size ≤ 0 gives the hash of no bytes.
func Sum(seed uint64, size int64) [32]byte {
	h := sha256.New()
	buf := make([]byte, sumChunk)
	for off := int64(0); off < size; {
		n := int(min(size-off, sumChunk))
		Fill(seed, off, buf[:n])
		h.Write(buf[:n])
		off += int64(n)
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}
