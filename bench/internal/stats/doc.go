// Package stats holds the summary statistics the benchmark harnesses
// (bench/cmd/compare, bench/cmd/batchbench) report.
//
// Both report medians rather than means: on a shared two-core machine one
// slow run is common, and a median is not dragged by it.
//
//	wall, ok := stats.Median([]time.Duration{3 * time.Second, time.Second, 2 * time.Second})
//	// wall == 2s, ok == true
package stats
