package stats

import (
	"slices"
	"testing"
	"time"
)

// checkMedian checks Median(in), and that it leaves in as it was.
func checkMedian[T ~int64 | ~float64](t *testing.T, in []T, want T, wantOK bool) {
	t.Helper()
	c := slices.Clone(in)
	got, ok := Median(c)
	if got != want || ok != wantOK {
		t.Errorf("Median(%v): got %v, %v; want %v, %v", in, got, ok, want, wantOK)
	}
	if !slices.Equal(c, in) {
		t.Errorf("Median(%v) modified its input to %v", in, c)
	}
}

func TestMedianFloat(t *testing.T) {
	tests := []struct {
		in     []float64
		want   float64
		wantOK bool
	}{
		{nil, 0, false},
		{[]float64{}, 0, false},
		{[]float64{3}, 3, true},
		{[]float64{3, 1}, 2, true},
		{[]float64{5, 1, 3}, 3, true},
		{[]float64{4, 1, 3, 2}, 2.5, true},
		{[]float64{1, 100, 2, 2, 1000}, 2, true},
	}
	for _, tt := range tests {
		checkMedian(t, tt.in, tt.want, tt.wantOK)
	}
}

func TestMedianInt(t *testing.T) {
	tests := []struct {
		in     []int64
		want   int64
		wantOK bool
	}{
		{nil, 0, false},
		{[]int64{5}, 5, true},
		{[]int64{3, 1, 2}, 2, true},
		{[]int64{4, 1, 3, 2}, 2, true}, // (2+3)/2 in integers
		{[]int64{10, 20}, 15, true},
	}
	for _, tt := range tests {
		checkMedian(t, tt.in, tt.want, tt.wantOK)
	}
}

func TestMedianDuration(t *testing.T) {
	checkMedian(t, []time.Duration{3 * time.Second, time.Second, 2 * time.Second, 4 * time.Second}, 2500*time.Millisecond, true)
	checkMedian(t, []time.Duration{3 * time.Second, time.Second, 2 * time.Second}, 2*time.Second, true)
}
