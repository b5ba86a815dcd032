// Package harness holds what the benchmark harnesses bench/cmd/compare and
// bench/cmd/batchbench do alike around the tools they measure: building
// the programs they need (GoBuild), choosing tools from a catalogue by
// name (SelectTools), finding a tool and its version on this machine
// (Detect), and the pieces of their markdown reports that must read the
// same in both (CommandLine, Cell).
//
// Running and measuring a tool is package bench/internal/measure; what
// differs between the harnesses (their catalogues, scenarios, machine
// descriptions and report layouts) stays in each command.
//
//	tools, err := harness.SelectTools(catalogue, func(t tool) string { return t.name }, "rangedl,curl")
//	...
//	path, version, absent := harness.Detect(ctx, "curl", rangedlBin, home, []string{"--version"}, short)
package harness
