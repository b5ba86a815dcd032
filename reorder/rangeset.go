package reorder

import (
	"slices"
	"strconv"
)

// Range is a half-open byte range [Start, End). A Range with End <= Start
// is empty.
type Range struct{ Start, End int64 }

// Len returns the number of bytes in r, 0 for an empty range.
func (r Range) Len() int64 {
	if r.End <= r.Start {
		return 0
	}
	return r.End - r.Start
}

// RangeSet is a set of byte offsets kept as sorted, disjoint, non-adjacent
// ranges: [0,10) and [10,20) are stored as [0,20). The zero value is an
// empty set ready to use.
//
// The shape is chosen for the download pattern: bytes arrive as a few
// sequential streams, so an Add almost always extends an existing range at
// its end, which is one binary search and an update in place (no
// allocation). Adjacent pieces meet and merge, so the set stays short.
type RangeSet struct {
	ranges []Range // sorted by Start; r[i].End < r[i+1].Start
	size   int64   // sum of Len over ranges, kept so Size is O(1)
}

// Add inserts every byte of r into the set, merging with the ranges it
// overlaps or touches. Empty ranges are ignored.
func (s *RangeSet) Add(r Range) {
	if r.End <= r.Start {
		return
	}
	// i: the first range that overlaps or touches r (ends at or after
	// r.Start). Everything before i stays as it is.
	lo, hi := 0, len(s.ranges)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.ranges[m].End >= r.Start {
			hi = m
		} else {
			lo = m + 1
		}
	}
	i := lo
	// j: the first range that starts after r.End without touching it.
	// A linear walk is enough: ranges[i:j] are deleted below, so the walk
	// costs no more than the deletion does.
	j := i
	for j < len(s.ranges) && s.ranges[j].Start <= r.End {
		j++
	}
	if i == j {
		s.ranges = slices.Insert(s.ranges, i, r)
		s.size += r.Len()
		return
	}
	merged := Range{min(s.ranges[i].Start, r.Start), max(s.ranges[j-1].End, r.End)}
	for _, old := range s.ranges[i:j] {
		s.size -= old.Len()
	}
	s.size += merged.Len()
	s.ranges[i] = merged
	s.ranges = slices.Delete(s.ranges, i+1, j)
}

// search returns the index of the first range that ends after off: the
// only range that can contain off, or else the next range after off.
func (s *RangeSet) search(off int64) int {
	lo, hi := 0, len(s.ranges)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.ranges[m].End > off {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// has reports whether the single byte at off is in the set. Unlike
// Contains(Range{off, off+1}) it cannot overflow at math.MaxInt64.
func (s *RangeSet) has(off int64) bool {
	i := s.search(off)
	return i < len(s.ranges) && s.ranges[i].Start <= off
}

// Contains reports whether every byte of r is in the set. An empty r is
// contained in any set.
func (s *RangeSet) Contains(r Range) bool {
	if r.End <= r.Start {
		return true
	}
	// The ranges are merged, so r is contained only if one range holds
	// all of it.
	i := s.search(r.Start)
	return i < len(s.ranges) && s.ranges[i].Start <= r.Start && r.End <= s.ranges[i].End
}

// Size returns the number of bytes in the set.
func (s *RangeSet) Size() int64 { return s.size }

// Ranges returns the set as sorted, disjoint, non-adjacent ranges. The
// slice is the set's own storage: do not modify it, and do not keep it
// across a call that changes the set.
func (s *RangeSet) Ranges() []Range { return s.ranges }

// Missing returns the gaps of the set within [0, total), sorted. It
// allocates a new slice on every call; it is meant for resume and
// reporting, not for the data path.
func (s *RangeSet) Missing(total int64) []Range {
	var gaps []Range
	next := int64(0) // first offset not yet known to be covered
	for _, r := range s.ranges {
		if r.Start >= total {
			break
		}
		if r.Start > next {
			gaps = append(gaps, Range{next, r.Start})
		}
		next = max(next, r.End)
	}
	if next < total {
		gaps = append(gaps, Range{next, total})
	}
	return gaps
}

// String formats the set as "[0,10) [20,30)"; the empty set is "".
func (s *RangeSet) String() string {
	var b []byte
	for i, r := range s.ranges {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, r.Start, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, r.End, 10)
		b = append(b, ')')
	}
	return string(b)
}
