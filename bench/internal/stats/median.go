package stats

import "slices"

// Median returns the median of xs (the mean of the middle two for an even
// count, in T's arithmetic: integers round toward the lower one) and false
// for an empty slice. xs is not modified.
func Median[T ~int64 | ~float64](xs []T) (T, bool) {
	if len(xs) == 0 {
		return 0, false
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m], true
	}
	return s[m-1] + (s[m]-s[m-1])/2, true
}
