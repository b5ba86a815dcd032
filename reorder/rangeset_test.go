package reorder

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestRangeLen(t *testing.T) {
	tests := []struct {
		r    Range
		want int64
	}{
		{Range{0, 0}, 0},
		{Range{0, 10}, 10},
		{Range{5, 3}, 0},
		{Range{-4, 4}, 8},
		{Range{0, math.MaxInt64}, math.MaxInt64},
	}
	for _, tt := range tests {
		if got := tt.r.Len(); got != tt.want {
			t.Errorf("%v.Len() = %d; want %d", tt.r, got, tt.want)
		}
	}
}

func TestRangeSetAdd(t *testing.T) {
	tests := []struct {
		name string
		add  []Range
		want string
		size int64
	}{
		{"empty", nil, "", 0},
		{"empty range ignored", []Range{{5, 5}, {7, 3}}, "", 0},
		{"one", []Range{{0, 10}}, "[0,10)", 10},
		{"disjoint sorted", []Range{{0, 10}, {20, 30}}, "[0,10) [20,30)", 20},
		{"disjoint reversed", []Range{{20, 30}, {0, 10}}, "[0,10) [20,30)", 20},
		{"adjacent after", []Range{{0, 10}, {10, 20}}, "[0,20)", 20},
		{"adjacent before", []Range{{10, 20}, {0, 10}}, "[0,20)", 20},
		{"overlap end", []Range{{0, 10}, {5, 15}}, "[0,15)", 15},
		{"overlap start", []Range{{5, 15}, {0, 10}}, "[0,15)", 15},
		{"inside", []Range{{0, 10}, {2, 8}}, "[0,10)", 10},
		{"covering", []Range{{2, 8}, {0, 10}}, "[0,10)", 10},
		{"duplicate", []Range{{0, 10}, {0, 10}}, "[0,10)", 10},
		{"fills gap", []Range{{0, 10}, {20, 30}, {10, 20}}, "[0,30)", 30},
		{"touches two", []Range{{0, 10}, {20, 30}, {10, 25}}, "[0,30)", 30},
		{"spans many", []Range{{0, 1}, {2, 3}, {4, 5}, {6, 7}, {8, 9}, {1, 8}}, "[0,9)", 9},
		{"between", []Range{{0, 10}, {40, 50}, {20, 30}}, "[0,10) [20,30) [40,50)", 30},
		{"one past a gap", []Range{{0, 10}, {11, 20}}, "[0,10) [11,20)", 19},
		{"negative", []Range{{-10, -5}, {-5, 0}}, "[-10,0)", 10},
		{"huge", []Range{{0, math.MaxInt64}}, "[0,9223372036854775807)", math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s RangeSet
			for _, r := range tt.add {
				s.Add(r)
			}
			if got := s.String(); got != tt.want {
				t.Errorf("String() = %q; want %q", got, tt.want)
			}
			if got := s.Size(); got != tt.size {
				t.Errorf("Size() = %d; want %d", got, tt.size)
			}
		})
	}
}

func TestRangeSetContains(t *testing.T) {
	var s RangeSet
	s.Add(Range{10, 20})
	s.Add(Range{30, 40})
	tests := []struct {
		r    Range
		want bool
	}{
		{Range{0, 0}, true},
		{Range{50, 50}, true},
		{Range{10, 20}, true},
		{Range{12, 13}, true},
		{Range{19, 20}, true},
		{Range{9, 10}, false},
		{Range{20, 21}, false},
		{Range{15, 35}, false}, // spans the gap
		{Range{10, 40}, false},
		{Range{30, 40}, true},
		{Range{39, 41}, false},
		{Range{45, 46}, false},
	}
	for _, tt := range tests {
		if got := s.Contains(tt.r); got != tt.want {
			t.Errorf("%v.Contains(%v) = %v; want %v", &s, tt.r, got, tt.want)
		}
	}
	if !s.has(10) || s.has(20) || s.has(math.MaxInt64) {
		t.Errorf("has: got %v %v %v; want true false false", s.has(10), s.has(20), s.has(math.MaxInt64))
	}
}

func TestRangeSetMissing(t *testing.T) {
	tests := []struct {
		name  string
		add   []Range
		total int64
		want  []Range
	}{
		{"empty set", nil, 10, []Range{{0, 10}}},
		{"zero total", []Range{{0, 5}}, 0, nil},
		{"complete", []Range{{0, 10}}, 10, nil},
		{"beyond total", []Range{{0, 20}}, 10, nil},
		{"hole in middle", []Range{{0, 3}, {5, 10}}, 10, []Range{{3, 5}}},
		{"holes at ends", []Range{{2, 5}}, 10, []Range{{0, 2}, {5, 10}}},
		{"range past total", []Range{{2, 5}, {8, 30}}, 10, []Range{{0, 2}, {5, 8}}},
		{"range starting at total", []Range{{2, 5}, {10, 30}}, 10, []Range{{0, 2}, {5, 10}}},
		{"negative ranges", []Range{{-5, 2}}, 4, []Range{{2, 4}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s RangeSet
			for _, r := range tt.add {
				s.Add(r)
			}
			if got := s.Missing(tt.total); !slices.Equal(got, tt.want) {
				t.Errorf("Missing(%d) = %v; want %v", tt.total, got, tt.want)
			}
		})
	}
}

// bitmapRanges returns the ranges of set bits, the trivial model of a
// RangeSet.
func bitmapRanges(bits []bool) []Range {
	var out []Range
	for i := 0; i < len(bits); {
		if !bits[i] {
			i++
			continue
		}
		j := i
		for j < len(bits) && bits[j] {
			j++
		}
		out = append(out, Range{int64(i), int64(j)})
		i = j
	}
	return out
}

func TestRangeSetRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 500 {
		size := 1 + rng.IntN(300)
		bits := make([]bool, size)
		var s RangeSet
		for range rng.IntN(60) {
			a, b := rng.IntN(size+1), rng.IntN(size+1)
			if rng.IntN(8) == 0 {
				b = a + rng.IntN(3) // small, possibly empty or reversed
				b = min(b, size)
			}
			r := Range{int64(a), int64(b)}
			s.Add(r)
			for i := a; i < b; i++ {
				bits[i] = true
			}
			want := bitmapRanges(bits)
			if got := s.Ranges(); !slices.Equal(got, want) {
				t.Fatalf("iter %d: after Add(%v): got %v; want %v", iter, r, got, want)
			}
			var n int64
			for _, w := range want {
				n += w.Len()
			}
			if s.Size() != n {
				t.Fatalf("iter %d: Size() = %d; want %d", iter, s.Size(), n)
			}
		}
		// Contains and Missing against the same model.
		for range 50 {
			a := rng.IntN(size + 1)
			b := a + rng.IntN(size+1-a)
			want := true
			for i := a; i < b; i++ {
				want = want && bits[i]
			}
			if got := s.Contains(Range{int64(a), int64(b)}); got != want {
				t.Fatalf("iter %d: %v.Contains([%d,%d)) = %v; want %v", iter, &s, a, b, got, want)
			}
		}
		inv := make([]bool, size)
		for i := range bits {
			inv[i] = !bits[i]
		}
		if got, want := s.Missing(int64(size)), bitmapRanges(inv); !slices.Equal(got, want) {
			t.Fatalf("iter %d: Missing(%d) = %v; want %v", iter, size, got, want)
		}
	}
}
